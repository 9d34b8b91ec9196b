"""Every input is bounded before it is stored or read into memory (docs/sync-protocol.md, Limits).

Request bodies on every route, a real server's memory under a 200 MB body, gzip bombs, the database's
growth under huge rejected edits, `my_rejected` and pull pages by bytes, and every bad number, NUL, lone
surrogate and deep nesting answered 422 JSON (never 500) on SQLite and PostgreSQL, with one malformed
edit in a batch rejected on its own while the edits behind it apply.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from starlette.routing import Mount, Route

from server.limits import MAX_ADMIN_UPLOAD
from sync.models import Edit, Quarantine
from sync.protocol import (
    MAX_EVIDENCE_BODY,
    MAX_OTHER_BODY,
    MAX_PAGE_BYTES,
    MAX_PUSH_BODY,
    MAX_QUARANTINE_PER_DEVICE,
    MAX_QUARANTINE_PER_USER,
    MAX_STORED_PAYLOAD,
    MY_REJECTED_BYTES,
)
from tests.conftest import BACKEND
from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024


def now_ms() -> int:
    return int(time.time() * 1000)


def push_body(device_id: str, edits: list, **envelope) -> dict:
    return {"protocol": 1, "device_id": device_id, "client_ms": now_ms(), "edits": edits, **envelope}


def answer(seq: int, cid: str, key: str, **fields) -> dict:
    return {"seq": seq, "kind": "answer", "checklist_id": cid, "item_key": key, "device_ms": now_ms(), **fields}


async def post_json_text(client: httpx.AsyncClient, path: str, text: str) -> httpx.Response:
    """A body as exact JSON text: what httpx's json= cannot send (NaN, lone surrogates, huge numbers)."""
    return await client.post(
        path, content=text.encode("utf-8", "surrogatepass"), headers={"Content-Type": "application/json"}
    )


def is_problem(r: httpx.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    body = r.json()
    assert body["message"] and re.search(r"[à-ỹ]", body["message"]), body  # a Vietnamese sentence
    if code:
        assert body["error"] == code, body
    return body


# ------------------------------------------------------------------------------------ a real server's memory


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _send_huge(port: int, path: str, total: int, *, chunked: bool, content_type: str) -> tuple[int, bytes, int]:
    """POST `total` bytes to a real server while reading its answer: (status, body, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n{framing}\r\n\r\n".encode()
    )
    block = b"x" * MiB
    sent = 0

    def pump() -> None:
        nonlocal sent
        try:
            while sent < total:
                sock.sendall(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
                sent += len(block)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: what we want

    sender = threading.Thread(target=pump, daemon=True)
    sender.start()
    answer = b""
    try:
        while True:
            head, sep, rest = answer.partition(b"\r\n\r\n")
            if sep:
                length = re.search(rb"content-length: *(\d+)", head, re.I)
                if length and len(rest) >= int(length.group(1)):
                    break
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    finally:
        sock.close()
        sender.join(30)
    head, _, rest = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest, sent


@pytest.fixture
def live_server(tmp_path):
    """A real uvicorn process of the app (SQLite of its own: the bodies never reach a database)."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{tmp_path / 'bounds.sqlite3'}",
        "EISO_SECRET": "test",
        "EISO_EVIDENCE_DIR": str(tmp_path / "evidence"),
        "EISO_EXPORT_DIR": str(tmp_path / "exports"),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "server.app:create_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        # warm up: a normal failed login, so what the first request imports is in the baseline
        httpx.post(f"http://127.0.0.1:{port}/api/session", json={"username": "a", "password": "b"}, timeout=5)
        yield proc, port
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("path", ["/api/session", "/login"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_200_mb_unauthenticated_login_body_is_refused_413_while_the_server_stays_small(live_server, path, chunked):
    proc, port = live_server
    before = _peak_rss_kib(proc.pid)
    form = path == "/login"  # the HTML login form, as a browser posts it; the API as the phone does
    kind = "application/x-www-form-urlencoded" if form else "application/json"
    status, body, sent = _send_huge(port, path, 200 * MiB, chunked=chunked, content_type=kind)
    assert status == 413, body[:300]
    if form:  # a person gets a page saying so
        assert "Dữ liệu gửi lên quá lớn" in body.decode()
    else:
        assert json.loads(body)["error"] == "too_large"
    growth_mib = (_peak_rss_kib(proc.pid) - before) / 1024
    assert growth_mib < 16, f"the server grew {growth_mib:.0f} MiB for a refused body"
    assert sent < 100 * MiB, f"the server read {sent / MiB:.0f} MiB before refusing"


# ------------------------------------------------------------------------------------ every route


def _concrete(path: str) -> str:
    values = {"sha256": "a" * 64}
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "1"), path)


def _every_route(app) -> list[tuple[str, str]]:
    out = []
    for route in app.routes:
        if isinstance(route, Route):
            out += [(m, _concrete(route.path)) for m in sorted(route.methods or ()) if m != "HEAD"]
        elif isinstance(route, Mount):
            out.append(("POST", route.path + "/x"))
    return out


def _limit(method: str, path: str) -> int:
    if method == "POST" and path == "/api/sync/push":
        return MAX_PUSH_BODY
    if method == "PUT" and path.startswith("/api/evidence/"):
        return MAX_EVIDENCE_BODY
    if method == "POST" and re.match(r"^/(api|admin)/(units/import(/preview|/apply)?|templates)$", path):
        return MAX_ADMIN_UPLOAD  # the admin's files (issue 16)
    return MAX_OTHER_BODY


async def test_every_route_refuses_a_body_over_its_limit_with_413_json(app, login):
    admin = await login("admin")  # logged in: a refusal must not depend on who asks
    routes = _every_route(app)
    assert len(routes) > 20 and ("POST", "/api/sync/push") in routes
    for method, path in routes:
        body = b"{" + b" " * _limit(method, path)  # one byte over
        r = await admin.request(method, path, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 413, (method, path, r.status_code, r.text[:200])
        if path.startswith("/api/"):
            assert r.json()["error"] == "too_large", (method, path)
        else:  # a page: the same words for a person
            assert "Dữ liệu gửi lên quá lớn" in r.text, (method, path)


async def test_a_body_without_content_length_is_cut_off_at_the_limit(anon, login):
    official = await login("xa.iatoi")
    json_, form = "application/json", "application/x-www-form-urlencoded"
    cases = [
        (anon, "POST", "/api/session", MAX_OTHER_BODY, json_),
        (anon, "POST", "/login", MAX_OTHER_BODY, form),
        (official, "POST", "/api/sync/push", MAX_PUSH_BODY, json_),
        (official, "PUT", "/api/evidence/" + "a" * 64 + "?offset=0&size=10000000", MAX_EVIDENCE_BODY, json_),
    ]
    for client, method, path, limit, kind in cases:
        pulled = 0

        async def stream(limit=limit):
            nonlocal pulled
            while pulled < 10 * limit:
                pulled += 64 * 1024
                yield b" " * (64 * 1024)

        r = await client.request(method, path, content=stream(), headers={"Content-Type": kind})
        assert r.status_code == 413, (path, r.status_code, r.text[:200])
        assert "Dữ liệu gửi lên quá lớn" in r.text
        assert pulled <= limit + 64 * 1024, f"{path}: read {pulled} bytes for a limit of {limit}"


async def test_a_gzip_bomb_is_refused_413_without_inflating_it(device):
    a = await device("xa.iatoi")
    # 15 MiB of spaces: under the 16 MiB cap, but expanding ~1000 times, as no JSON a phone writes does.
    bomb = gzip.compress(b"{" + b" " * (15 * MiB), compresslevel=9)
    assert len(bomb) < 64 * 1024
    r = await a.http.post(
        "/api/sync/push", content=bomb, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    is_problem(r, 413, "too_large")
    # ...while a real push, compressed, still goes through.
    cid = await make_checklist("KT-147")
    real = json.dumps(push_body(a.device_id, [answer(1, cid, "c4_1_context", value="yes")])).encode()
    r = await a.http.post(
        "/api/sync/push",
        content=gzip.compress(real),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 200 and r.json()["results"][0]["outcome"] == "applied", r.text


# ------------------------------------------------------------------------------------ what is kept


async def _stored_bytes(conn) -> int:
    """Bytes the edit and quarantine tables take in the database."""
    if BACKEND == "postgres":
        rows = await conn.execute_query_dict(
            "SELECT pg_total_relation_size('edit') + pg_total_relation_size('quarantine') AS n"
        )
    else:
        await conn.execute_script("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = await conn.execute_query_dict(
            "SELECT page_count * page_size AS n FROM pragma_page_count, pragma_page_size"
        )
    return int(rows[0]["n"])


async def test_huge_rejected_edits_keep_the_database_bounded(device):
    from tortoise import connections

    a = await device("xa.iatoi")
    other = await make_checklist("KT-001")  # outside the official's scope: rejected out_of_scope
    conn = connections.get("default")
    before = await _stored_bytes(conn)
    seq = 0
    sent = 0
    for _ in range(4):  # 4 pushes of 10 edits of ~1 MB each, incompressible
        edits = []
        for _ in range(10):
            seq += 1
            edits.append(answer(seq, other, "c4_1_context", value=os.urandom(500_000).hex()))
        body = json.dumps(push_body(a.device_id, edits))
        sent += len(body)
        r = await a.http.post("/api/sync/push", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text[:300]
        assert {x["reason"] for x in r.json()["results"]} == {"out_of_scope"}
    grown = await _stored_bytes(conn) - before
    assert sent > 35 * MiB
    assert grown < 40 * (MAX_STORED_PAYLOAD * 2 + 2048) + MiB, (
        f"{sent / MiB:.0f} MiB sent grew the database {grown / MiB:.1f} MiB"
    )
    kept = await Edit.filter(device_id=a.device_id).values_list("payload", flat=True)
    assert len(kept) == 40  # every edit recorded, its payload cut to a bounded form that says so
    for payload in kept:
        assert len(payload) <= MAX_STORED_PAYLOAD + 200
        assert json.loads(payload)["truncated"] is True


async def test_refused_pushes_fill_no_more_than_the_quarantine_caps(device):
    # A push from a device the server does not know is refused and kept for review (Quarantine): a
    # client making up device ids, or pushing again and again, keeps only the first ones.
    a = await device("xa.iatoi")
    for seq in range(1, MAX_QUARANTINE_PER_DEVICE + 6):
        r = await a.http.post("/api/sync/push", json=push_body("ghost-phone", [answer(seq, "x", "k", note="n" * 3000)]))
        assert r.status_code == 404 and r.json()["error"] == "unknown_device"
    assert await Quarantine.filter(device_id="ghost-phone").count() == MAX_QUARANTINE_PER_DEVICE
    for i in range(MAX_QUARANTINE_PER_USER):
        r = await a.http.post("/api/sync/push", json=push_body(f"ghost-{i}", [answer(1, "x", "k", note="n")]))
        assert r.status_code == 404
    assert await Quarantine.filter(username="xa.iatoi").count() == MAX_QUARANTINE_PER_USER


async def test_my_rejected_on_a_reset_pull_is_bounded_by_bytes(device):
    a = await device("xa.iatoi")
    other = await make_checklist("KT-001")
    edits = [answer(s, other, "c4_1_context", value=os.urandom(9000).hex()) for s in range(1, 101)]  # 18 KB each
    r = await a.http.post("/api/sync/push", json=push_body(a.device_id, edits))
    assert r.status_code == 200 and len(r.json()["results"]) == 100
    r = await a.http.get("/api/sync/pull", params={"device_id": a.device_id})
    page = r.json()
    assert page["reset"] is True
    mine = page["my_rejected"]
    assert 0 < len(mine) < 100
    assert len(json.dumps(mine).encode()) <= MY_REJECTED_BYTES + 64 * 1024
    assert mine[0]["seq"] == 100  # the newest first
    assert len(r.content) <= MAX_PAGE_BYTES + 64 * 1024


async def _fill_checklists_with_long_answers(a) -> int:
    """Every item of the five templates' checklists of KT-147 with a 4,000-character note (12 KB of
    UTF-8) and long text answers: over 2 MB in all. Returns how many answers were written."""
    from tortoise import connections

    from sync.models import Checklist
    from sync.rows import item_types

    edits, seq = [], 0
    for code in ("self_assessment", "rollout", "conversion", "annual_report", "monthly_report"):
        cid = await make_checklist("KT-147", code)
        template_id = (await Checklist.get(id=cid)).template_id  # type: ignore[attr-defined]
        types = (await item_types(connections.get("default"), [template_id]))[template_id]
        for key, kind in sorted(types.items()):
            seq += 1
            fields = {"note": "ệ" * 4000}
            if kind == "text":
                fields["value"] = "ộ" * 20000
            edits.append(answer(seq, cid, key, **fields))
    r = await a.http.post("/api/sync/push", json=push_body(a.device_id, edits))
    assert r.status_code == 200
    assert {x["outcome"] for x in r.json()["results"]} == {"applied"}, r.text[:500]
    return len(edits)


async def _pull_all(client, device_id: str, cursor: str | None = None) -> tuple[list[int], int, str]:
    """Pull pages from `cursor` until `more` is false: (each page's size in bytes, answers received,
    the last cursor)."""
    sizes, answers = [], 0
    while True:
        params = {"device_id": device_id, "limit": 2000, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/sync/pull", params=params)
        assert r.status_code == 200, r.text[:300]
        page = r.json()
        sizes.append(len(r.content))
        answers += len(page["answers"])
        cursor = page["cursor"]
        if not page["more"]:
            return sizes, answers, cursor
        assert len(sizes) < 100


async def test_pull_pages_are_bounded_by_bytes_and_continue_on_the_next_page(device):
    a = await device("xa.iatoi")
    snapshot_reader = await device("xa.iatoi")
    delta_reader = await device("xa.iatoi")
    *_, cursor = await _pull_all(delta_reader.http, delta_reader.device_id)  # before the answers exist
    written = await _fill_checklists_with_long_answers(a)
    # a first pull: the snapshot, whole checklists only, a new page once a page holds 1 MiB
    sizes, answers, _ = await _pull_all(snapshot_reader.http, snapshot_reader.device_id)
    assert answers == written and sum(sizes) > 2 * MiB
    assert max(sizes) < MAX_PAGE_BYTES + 800 * 1024, sizes  # 1 MiB and at most one checklist more
    # a delta pull: the change log, a new page once a page holds 1 MiB
    sizes, answers, _ = await _pull_all(delta_reader.http, delta_reader.device_id, cursor)
    assert answers >= written and sum(sizes) > 2 * MiB
    assert max(sizes) < MAX_PAGE_BYTES + 100 * 1024, sizes  # 1 MiB and one answer more


async def test_pull_limit_out_of_range_is_refused_not_clamped(device):
    a = await device("xa.iatoi")
    for limit in ("0", "-1", "2001", "99999999999999999999999"):
        r = await a.http.get("/api/sync/pull", params={"device_id": a.device_id, "limit": limit})
        assert is_problem(r, 422, "invalid")["field"] == "limit"


async def test_a_cursor_past_the_end_of_the_change_log_is_answered_with_a_reset(device):
    a = await device("xa.iatoi")
    cid = await make_checklist("KT-147")
    a.edit_answer(cid, "c4_1_context", "yes")
    await a.sync()
    r = await a.http.get("/api/sync/pull", params={"device_id": a.device_id})
    while r.json()["more"]:
        r = await a.http.get("/api/sync/pull", params={"device_id": a.device_id, "cursor": r.json()["cursor"]})
    phase, high, after, digest = r.json()["cursor"].split(".")
    for forged in (f"d.{int(high) + 1000}..{digest}", f"s.{int(high) + 5}.{after}.{digest}", f"d.{'9' * 19}..{digest}"):
        r = await a.http.get("/api/sync/pull", params={"device_id": a.device_id, "cursor": forged})
        assert r.status_code == 200, r.text
        assert r.json()["reset"] is True, forged
        assert [c["id"] for c in r.json()["checklists"]] == [cid]


# ------------------------------------------------------------------------------------ 422, never 500

DEEP = "[" * 5000 + "]" * 5000


def _envelope_cases(device_id: str) -> dict[str, str]:
    ms = now_ms()
    good = f'"device_id": "{device_id}", "edits": []'
    return {
        "protocol 2": f'{{"protocol": 2, "client_ms": {ms}, {good}}}',
        "protocol as a string": f'{{"protocol": "1", "client_ms": {ms}, {good}}}',
        "client_ms beyond 64 bits": f'{{"protocol": 1, "client_ms": {2**64}, {good}}}',
        "client_ms in the year 3000": f'{{"protocol": 1, "client_ms": 32503680000000, {good}}}',
        "client_ms as a string": f'{{"protocol": 1, "client_ms": "{ms}", {good}}}',
        "client_ms NaN": f'{{"protocol": 1, "client_ms": NaN, {good}}}',
        "client_ms 1e400": f'{{"protocol": 1, "client_ms": 1e400, {good}}}',
        "a digit string 5000 long": f'{{"protocol": 1, "client_ms": {"9" * 5000}, {good}}}',
        "seq as a string": f'{{"protocol": 1, "client_ms": {ms}, "device_id": "{device_id}", "edits": [{{"seq": "1"}}]}}',
        "seq beyond 64 bits": f'{{"protocol": 1, "client_ms": {ms}, "device_id": "{device_id}", "edits": [{{"seq": {2**63}}}]}}',
        "an edit that is not an object": f'{{"protocol": 1, "client_ms": {ms}, "device_id": "{device_id}", "edits": [7]}}',
        "device_id with NUL": f'{{"protocol": 1, "client_ms": {ms}, "device_id": "a\\u0000b", "edits": []}}',
        "device_id a lone surrogate": f'{{"protocol": 1, "client_ms": {ms}, "device_id": "\\ud800", "edits": []}}',
        "nested 5000 deep": f'{{"protocol": 1, "client_ms": {ms}, {good}, "x": {DEEP}}}',
        "a body nested 5000 deep": DEEP,
        "nested 40 deep": f'{{"protocol": 1, "client_ms": {ms}, {good}, "x": {"[" * 40 + "]" * 40}}}',
        "2001 edits": json.dumps(
            {"protocol": 1, "client_ms": ms, "device_id": device_id, "edits": [{"seq": i} for i in range(1, 2002)]}
        ),
    }


async def test_a_bad_envelope_answers_422_json_on_this_database(device):
    a = await device("xa.iatoi")
    for name, text in _envelope_cases(a.device_id).items():
        r = await post_json_text(a.http, "/api/sync/push", text)
        body = is_problem(r, 422)
        if name == "protocol 2":
            assert body["error"] == "protocol_unsupported" and body["protocol"] == 1
        else:
            assert body["error"] == "invalid", (name, body)
    assert await Edit.filter(device_id=a.device_id).count() == 0


async def test_bad_input_on_other_routes_answers_422_json_not_500(anon, login):
    admin = await login("admin")
    cases = [
        (anon, "POST", "/api/session", '{"username": "a\\u0000", "password": "x"}'),
        (anon, "POST", "/api/session", '{"username": "\\udc00", "password": "x"}'),
        (anon, "POST", "/api/session", DEEP),
        (admin, "POST", "/api/checklists", f'{{"unit_id": {2**40}, "template_id": 1, "period": "2026"}}'),
        (admin, "POST", "/api/checklists", f'{{"unit_id": {2**70}, "template_id": 1, "period": "2026"}}'),
        (admin, "POST", "/api/checklists", '{"unit_id": 1, "template_id": 1, "period": "20\\u000026"}'),
        (admin, "POST", "/api/devices", '{"name": "\\ud83d"}'),
        (admin, "GET", "/api/units/99999999999", None),
        (admin, "GET", "/api/units/1%00", None),
        (admin, "GET", "/api/checklists/a%00b", None),
        (admin, "GET", "/api/checklists?status=%00", None),
        (admin, "GET", "/api/units?q=%ff%fe", None),
        (admin, "GET", "/api/sync/pull?device_id=a%00", None),
    ]
    for client, method, path, text in cases:
        content = text.encode("utf-8", "surrogatepass") if text is not None else None
        r = await client.request(method, path, content=content, headers={"Content-Type": "application/json"})
        assert r.status_code < 500, (path, text and text[:60], r.status_code, r.text[:200])
        if r.status_code != 404:
            is_problem(r, 422)
    # the HTML login form, as a browser posts it
    for form in (
        "username=a%00&password=x",
        "username=a&password=%00",
        "username=%ed%a0%80&password=x",
        "username=" + "a" * 300 + "&password=x",
        "username=a&password=" + "b" * 5000,
    ):
        r = await anon.post("/login", content=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code in (401, 422), (form, r.status_code, r.text[:200])


async def test_one_malformed_edit_is_rejected_alone_and_the_edits_behind_it_apply(device):
    a = await device("xa.iatoi")
    cid = await make_checklist("KT-147")
    bad = {
        "a note with NUL": '{"note": "a\\u0000b"}',
        "a value with a lone surrogate": '{"value": "\\ud800"}',
        "a note too long": json.dumps({"note": "n" * 4001}),
        "a value nested 100 deep": '{"value": ' + "[" * 100 + "]" * 100 + "}",
        "a value nested 400 deep": '{"value": ' + "[" * 400 + "]" * 400 + "}",
        "a number beyond 64 bits": f'{{"value": {2**64}}}',
        "NaN": '{"value": NaN}',
        "device_ms as a string": '{"device_ms": "1795400000000"}',
        "device_ms in the year 3000": '{"device_ms": 32503680000000}',
        "base_version beyond 64 bits": f'{{"base_version": {2**64}}}',
        "base_version as a string": '{"base_version": "1"}',
        "an unknown kind": '{"kind": "delete"}',
        "an unknown field": '{"colour": "red"}',
    }
    edits, seq, expect = [], 0, {}
    for name, extra in bad.items():
        seq += 1
        edit = json.dumps(answer(seq, cid, "c4_1_context", value="yes"))[:-1] + ", " + extra[1:]
        edits.append(edit)  # a repeated key: the later one counts, as in JSON.parse
        expect[seq] = name
        seq += 1
        edits.append(json.dumps(answer(seq, cid, "c4_2_interested_parties", value="yes" if seq % 4 else "no")))
    text = f'{{"protocol": 1, "device_id": "{a.device_id}", "client_ms": {now_ms()}, "edits": [{", ".join(edits)}]}}'
    r = await post_json_text(a.http, "/api/sync/push", text)
    assert r.status_code == 200, r.text[:500]
    results = {x["seq"]: x for x in r.json()["results"]}
    assert len(results) == seq and r.json()["last_seq"] == seq
    for s, x in results.items():
        if s in expect:
            assert (x["outcome"], x["reason"]) == ("rejected", "malformed"), (expect[s], x)
            assert x["message"].startswith("Thay đổi này không đúng định dạng")
        else:
            assert x["outcome"] in ("applied", "merged"), x
    # every edit recorded once, the malformed ones storable on PostgreSQL too (NUL kept as an escape)
    rows = await Edit.filter(device_id=a.device_id).order_by("seq").values("seq", "outcome", "reason", "payload")
    assert [r["seq"] for r in rows] == list(range(1, seq + 1))
    assert all(json.loads(r["payload"]) is not None for r in rows)
    # the phone sees the next edit applied: pulling gives the last value
    r = await a.http.get("/api/sync/pull", params={"device_id": a.device_id})
    mine = {m["seq"]: m for m in r.json()["my_rejected"]}
    assert set(mine) == set(expect)
    assert mine[1]["payload"]["note"] == "a\x00b"


async def test_a_malformed_edit_is_a_duplicate_like_any_other_when_resent(device):
    a = await device("xa.iatoi")
    cid = await make_checklist("KT-147")
    text = json.dumps(push_body(a.device_id, [answer(1, cid, "c4_1_context", note="n" * 5000)]))
    first = await post_json_text(a.http, "/api/sync/push", text)
    again = await post_json_text(a.http, "/api/sync/push", text)
    assert first.json()["results"][0]["reason"] == again.json()["results"][0]["reason"] == "malformed"
    assert again.json()["results"][0]["duplicate"] is True
    assert await Edit.filter(device_id=a.device_id).count() == 1
