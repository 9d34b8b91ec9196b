"""docs/sync-protocol.md's examples are run, in the order the doc gives them, against the real server
(SQLite or PostgreSQL, as the suite runs): the doc cannot drift from the code.

The doc's convention (its section "Reading the examples"):
- a ```` ```http request ```` block is sent as written: a request line, headers, a blank line, a JSON body;
  the `Cookie: eiso_session=…` header names whose session sends it (the value a login example set);
- the ```` ```http response ```` block after it is what the server must answer: the status, then the
  complete JSON body (same keys, same values) except values that vary from run to run:
  - ids (`id`, `device_id`, `winner_device`, `loser_device`, `checklist_id`, `conflict_id`, `unit_id`, `template_id`), `cursor` and
    `next`: the first time the doc shows one, the test learns the real value; every later use of the
    doc's value (in a body, a path or a query string) means that real value;
  - times: a key ending in `_ms` holds an integer (or null where the doc has null);
  - `"…"` stands for any string.
- Lists of answers, conflicts, deleted entries and rejected edits are compared as sets (their order is not
  part of the protocol); other lists in order.

"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from server.auth import scope_unit_ids
from server.models import User
from sync.changelog import append_changes
from sync.models import Checklist
from sync.pull import scope_digest
from sync.sql import now_ms
from tests.conftest import template_id, unit_id

DOC = Path(__file__).resolve().parent.parent / "docs" / "sync-protocol.md"
BLOCK = re.compile(r"^```http (request|response)([^\n]*)\n(.*?)^```", re.S | re.M)
BIND_KEYS = {
    "id",
    "device_id",
    "winner_device",
    "loser_device",
    "checklist_id",
    "conflict_id",
    "unit_id",
    "template_id",
    "cursor",
    "next",
}
# Objects keyed by ids (device id -> name): their keys are the doc's ids, read as the real ones.
KEYED_BY_ID = {"devices"}
UNORDERED = {"answers", "conflicts", "deleted", "my_rejected"}
ANY = "…"

# What the doc's world holds before its first example (its section "The examples' world").
EARLIER_CHECKLIST_ID = "000a1c4e-2b7d-4f0e-9c3a-5d6e7f809a1b"  # xã Ia Tơi's annual report 2025
DOC_SCOPE_DIGEST = "3c9d2e1f0a4b"  # the last part of the official's cursors in the doc


@dataclass
class Example:
    line: int
    request: str
    response: str
    pending: str = ""


def examples(text: str) -> list[Example]:
    """The request/response pairs of the doc, in order; a request without its response is an error."""
    out: list[Example] = []
    blocks = [
        (m.group(1), m.group(2).strip(), m.group(3), text[: m.start()].count("\n") + 1) for m in BLOCK.finditer(text)
    ]
    i = 0
    while i < len(blocks):
        kind, attrs, body, line = blocks[i]
        assert kind == "request", f"docs/sync-protocol.md:{line}: a response without its request"
        assert i + 1 < len(blocks) and blocks[i + 1][0] == "response", f"docs/sync-protocol.md:{line}: no response"
        pending = attrs.removeprefix("pending=") if attrs.startswith("pending=") else ""
        out.append(Example(line, body, blocks[i + 1][2], pending))
        i += 2
    return out


def _head_and_body(block: str) -> tuple[list[str], Any]:
    head, _, body = block.partition("\n\n")
    return head.strip().splitlines(), json.loads(body) if body.strip() else None


@dataclass
class World:
    """The doc's values bound to the real ones, and one HTTP client per session the doc names."""

    app: Any
    bound: dict[Any, Any] = field(default_factory=dict)
    sessions: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def client(self, cookie: str) -> httpx.AsyncClient:
        if cookie not in self.sessions:
            self.sessions[cookie] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app), base_url="http://testserver"
            )
        return self.sessions[cookie]

    def real(self, value: Any, key: str = "") -> Any:
        """A request value with every doc id the examples bound replaced by the real one."""
        if isinstance(value, dict):
            return {k: self.real(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.real(v, key) for v in value]
        if key in BIND_KEYS and isinstance(value, (str, int)) and not isinstance(value, bool):
            return self.bound.get(_name(key, value), value)
        return value

    def real_path(self, path: str) -> str:
        for (kind, doc_value), real in sorted(self.bound.items(), key=lambda kv: -len(str(kv[0][1]))):
            if kind == "str" and len(doc_value) >= 8:
                path = path.replace(doc_value, str(real))
        return path

    async def close(self) -> None:
        for c in self.sessions.values():
            await c.aclose()


def _name(key: str, value: Any) -> tuple[str, Any]:
    """Where a doc value is bound: strings (uuids, cursors) in one space, since one id appears under
    several keys (`id`, `checklist_id`); integers per key (a unit id and an edit id may be equal)."""
    if isinstance(value, str):
        return ("str", value)
    return ({"next": "id"}.get(key, key), value)


def match(expected: Any, actual: Any, bound: dict, where: str, key: str = "") -> list[str]:
    """Differences between the doc's value and the real one ([] when they agree); learns bindings."""
    if key in BIND_KEYS and expected is not None and not isinstance(expected, (dict, list, bool)):
        if type(actual) is not type(expected):
            return [f"{where}: {actual!r} is not a {type(expected).__name__} like {expected!r}"]
        name = _name(key, expected)
        known = bound.get(name)
        if known is None:
            if actual in {v for (space, _), v in bound.items() if space == name[0]}:
                return [f"{where}: {actual!r} already stands for another value of the doc than {expected!r}"]
            bound[name] = actual
            return []
        return [] if known == actual else [f"{where}: expected {expected!r} (= {known!r}), got {actual!r}"]
    if key.endswith("_ms") and isinstance(expected, int) and not isinstance(expected, bool):
        ok = isinstance(actual, int) and not isinstance(actual, bool)
        return [] if ok else [f"{where}: expected a time in ms, got {actual!r}"]
    if expected == ANY:
        return [] if isinstance(actual, str) else [f"{where}: expected a string, got {actual!r}"]
    if key in KEYED_BY_ID and isinstance(expected, dict):
        expected = {bound.get(("str", k), k): v for k, v in expected.items()}
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r}"]
        diffs = []
        if set(expected) != set(actual):
            diffs.append(
                f"{where}: keys differ: doc only {sorted(set(expected) - set(actual))}, "
                f"server only {sorted(set(actual) - set(expected))}"
            )
        for k in expected:
            if k in actual:
                # the id of a nested unit or template is a unit or template id, not an id of its own
                name = f"{key}_id" if k == "id" and key in ("unit", "template") else k
                diffs += match(expected[k], actual[k], bound, f"{where}.{k}", name)
        return diffs
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected {len(expected)} entries, got {actual!r}"]
        if key not in UNORDERED:
            return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in match(e, a, bound, f"{where}[{i}]")]
        left = list(actual)
        for i, e in enumerate(expected):  # greedy: the first real entry that agrees
            for j, a in enumerate(left):
                trial = dict(bound)
                if not match(e, a, trial, ""):
                    bound.update(trial)
                    del left[j]
                    break
            else:
                return [f"{where}[{i}]: no entry of the server agrees with {e!r}; server sent {actual!r}"]
        return []
    same = expected == actual and type(expected) is type(actual)
    return [] if same else [f"{where}: expected {expected!r}, got {actual!r}"]


async def run(world: World, ex: Example) -> list[str]:
    head, body = _head_and_body(ex.request)
    method, target = head[0].split()[:2]
    headers = dict(h.split(": ", 1) for h in head[1:])
    cookie = headers.pop("Cookie", "").removeprefix("eiso_session=")
    login = method == "POST" and target == "/api/session"
    client = world.client(cookie or f"anonymous@{ex.line}")
    r = await client.request(
        method,
        world.real_path(target),
        content=json.dumps(world.real(body), ensure_ascii=False).encode() if body is not None else None,
        headers=headers,
    )
    rhead, expected = _head_and_body(ex.response)
    status = int(rhead[0].split()[1])
    where = f"docs/sync-protocol.md:{ex.line} {method} {target}"
    diffs = (
        [] if r.status_code == status else [f"{where}: status {r.status_code}, the doc says {status}: {r.text[:300]}"]
    )
    if login and r.status_code == 201:
        doc_cookie = next(h for h in rhead if h.startswith("Set-Cookie: eiso_session=")).removeprefix("Set-Cookie: ")
        name = doc_cookie.removeprefix("eiso_session=").split(";")[0]
        world.sessions[name] = client
        token = client.cookies["eiso_session"]
        real_cookie = r.headers["set-cookie"].replace(token, name)
        if real_cookie != doc_cookie:
            diffs.append(f"{where}: Set-Cookie is {real_cookie!r}, the doc says {doc_cookie!r}")
    if expected is not None and not diffs:
        diffs += match(expected, r.json(), world.bound, where)
    return diffs


async def the_examples_world() -> None:
    """Xã Ia Tơi already has its annual report for 2025, made by the province (see the doc)."""
    unit, template, ms = await unit_id("KT-147"), await template_id("annual_report"), now_ms()
    await Checklist.create(
        id=EARLIER_CHECKLIST_ID,
        unit_id=unit,
        template_id=template,
        period="2025",
        created_by="admin",
        created_ms=ms,
        updated_ms=ms,
    )
    from tortoise.transactions import in_transaction

    async with in_transaction() as conn:
        await append_changes(conn, [(unit, EARLIER_CHECKLIST_ID, "checklist", "")])


async def run_the_doc(app) -> tuple[list[str], dict[int, list[str]]]:
    """Every example in order: the differences of the examples that must hold, and those of pending ones."""
    await the_examples_world()
    world = World(app)
    world.bound[("unit_id", 148)] = await unit_id("KT-147")  # the doc's xã Ia Tơi
    world.bound[("template_id", 1)] = await template_id("annual_report")
    world.bound[("template_id", 3)] = await template_id("monthly_report")
    world.bound[("str", EARLIER_CHECKLIST_ID)] = EARLIER_CHECKLIST_ID
    official = await User.get(username="xa.iatoi")
    world.bound[("str", DOC_SCOPE_DIGEST)] = scope_digest(official, await scope_unit_ids(official))
    failures: list[str] = []
    pending: dict[int, list[str]] = {}
    try:
        for ex in examples(DOC.read_text(encoding="utf-8")):
            diffs = await run(world, ex)
            if ex.pending:
                if diffs:
                    pending[ex.line] = diffs
            else:
                failures += diffs
    finally:
        await world.close()
    return failures, pending


def test_the_doc_has_examples_in_pairs():
    found = examples(DOC.read_text(encoding="utf-8"))
    assert len(found) >= 15
    assert {e.pending for e in found} == {""}, "an example marked pending: every example must hold"


async def test_the_docs_examples_hold(app, seeded):
    failures, _pending = await run_the_doc(app)
    assert not failures, "\n".join(failures)


def test_the_comparison_catches_a_wrong_value_a_missing_key_and_an_id_used_twice():
    bound: dict = {}
    assert match({"version": 2, "updated_ms": 1}, {"version": 2, "updated_ms": 99}, bound, "x") == []
    assert match({"version": 2}, {"version": 1}, bound, "x") == ["x.version: expected 2, got 1"]
    assert match({"a": 1}, {"a": 1, "b": 2}, bound, "x")[0].startswith("x: keys differ")
    assert match({"id": "doc-1"}, {"id": "real-1"}, bound, "x") == []
    assert match({"checklist_id": "doc-1"}, {"checklist_id": "real-2"}, bound, "x") != []  # bound to real-1
    assert match({"id": "doc-2"}, {"id": "real-1"}, bound, "x") != []  # real-1 already stands for doc-1
    assert match({"answers": [{"v": 1}, {"v": 2}]}, {"answers": [{"v": 2}, {"v": 1}]}, bound, "x") == []
    assert match({"results": [{"v": 1}, {"v": 2}]}, {"results": [{"v": 2}, {"v": 1}]}, bound, "x") != []
    assert match({"message": ANY}, {"message": "Tin nhắn"}, bound, "x") == []
    assert match({"n": 1}, {"n": True}, bound, "x") != []
