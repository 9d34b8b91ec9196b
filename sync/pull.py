"""Serving a pull: one page of what changed in the user's current scope since a cursor.

A first pull, or one whose cursor was made for another scope (`scope_digest` changed: new role, unit or
tree), starts over with `reset`: a snapshot of the scope's checklists paged by id, then the change log
from where the snapshot began. Later pages follow the change log (`sync/changelog.py`) and send each
changed entity's current state. See docs/sync-protocol.md, Pull.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from .protocol import (
    INT64_MAX,
    MAX_PAGE_BYTES,
    MAX_PULL_LIMIT,
    MAX_STORED_PAYLOAD,
    MY_REJECTED_BYTES,
    MY_REJECTED_COUNT,
    refusal,
)
from .rows import (
    SELECT_ANSWERS_OF,
    SELECT_CHECKLISTS,
    SELECT_COMMENTS,
    SELECT_COMMENTS_OF,
    SELECT_CONFLICTS,
    SELECT_CONFLICTS_OF,
    answer_out,
    checklist_out,
    chunks,
    comment_out,
    conflict_out,
    device_refusal,
    fetch_device,
    fetch_in,
    template_codes,
)
from .sql import fetch, in_list, now_ms
from .vocabulary import REJECTION_REASONS

MY_REJECTED_LIMIT = MY_REJECTED_COUNT  # the latest rejected edits of the user, sent with a reset
_CURSOR = re.compile(r"^[sd]\.\d{1,19}\.[0-9A-Za-z_-]{0,36}\.[0-9a-f]{12}$")


def scope_digest(user: Any, scope: set[int]) -> str:
    text = f"{user.id}:{user.role}:" + ",".join(str(u) for u in sorted(scope))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class Cursor:
    phase: str  # "s" snapshot or "d" delta
    high: int  # snapshot: the change id the snapshot started at; delta: last change id sent
    after: str  # snapshot: last checklist id sent
    digest: str

    def encode(self) -> str:
        return f"{self.phase}.{self.high}.{self.after}.{self.digest}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """The cursor, or None (answered with a reset) when it is not one this server makes."""
        if not text or len(text) > 80 or not _CURSOR.match(text):
            return None
        phase, high, after, digest = text.split(".")
        if int(high) > INT64_MAX:
            return None
        return cls(phase, int(high), after, digest)


async def pull_page(user: Any, scope: set[int], device_id: str, cursor: str | None, limit: int = 500) -> dict:
    """One page of what changed in the user's scope since `cursor` (see docs/sync-protocol.md, Pull).

    Raises SyncError (SYNC_ERRORS) for an unknown or revoked device."""
    from tortoise import connections

    conn = connections.get("default")
    limit = max(1, min(int(limit), MAX_PULL_LIMIT))
    device = await fetch_device(conn, device_id)
    problem = device_refusal(device, user)
    if problem:
        raise refusal(problem)
    assert device is not None
    digest = scope_digest(user, scope)
    cur = Cursor.parse(cursor)
    body: dict[str, Any] = {
        "reset": False,
        "last_seq": device["last_seq"],
        "server_ms": now_ms(),
        "checklists": [],
        "answers": [],
        "conflicts": [],
        "deleted": [],
        "aliases": [],  # a phone's checklist id -> the checklist it became (sync/create.py): re-key it
        "comments": [],  # review comments (a `comment` edit), never changed once made
    }
    rows = await fetch(conn, 'SELECT COALESCE(MAX(id), 0) AS m FROM "change"')
    newest = int(rows[0]["m"])
    # A cursor past the end of the change log was not made here (another database, a restored backup):
    # the client's copy cannot be trusted, so it starts over, and is told so.
    if cur is None or cur.digest != digest or cur.high > newest:
        cur = Cursor("s", newest, "", digest)
        body["reset"] = True
        body["my_rejected"] = await _my_rejected(conn, user)
    if cur.phase == "s":
        await _snapshot_page(conn, scope, cur, limit, body)
    else:
        await _delta_page(conn, scope, cur, limit, body)
    body["devices"] = await _device_names(conn, body["conflicts"])
    return body


async def _device_names(conn: Any, conflicts: list[dict]) -> dict[str, str]:
    """Names of the devices the page's conflicts name: two phones of one person are told apart by them."""
    ids = {c[side] for c in conflicts for side in ("winner_device", "loser_device") if c.get(side)}
    if not ids:
        return {}
    rows = await fetch_in(conn, "SELECT id, name FROM device WHERE id IN ({in})", sorted(ids))
    return {r["id"]: r["name"] for r in rows}


async def _my_rejected(conn: Any, user: Any) -> list[dict]:
    """The user's latest rejected edits, newest first, at most MY_REJECTED_COUNT and about
    MY_REJECTED_BYTES of payload. Payloads stored before they were bounded are cut when read."""
    rows = await fetch(
        conn,
        "SELECT device_id, seq, kind, checklist_id, item_key, reason, "
        "SUBSTR(payload, 1, ?) AS head, LENGTH(payload) AS length FROM edit "
        "WHERE username = ? AND outcome = ? ORDER BY id DESC LIMIT ?",
        [MAX_STORED_PAYLOAD + 1, user.username, "rejected", MY_REJECTED_LIMIT],
    )
    out: list[dict] = []
    size = 0
    for r in rows:
        text = r["head"]
        if r["length"] > MAX_STORED_PAYLOAD:
            text = json.dumps({"truncated": True, "length": r["length"], "head": text[:MAX_STORED_PAYLOAD]})
        size += len(text) + 200
        if out and size > MY_REJECTED_BYTES:
            break
        out.append(
            {
                "device_id": r["device_id"],
                "seq": r["seq"],
                "kind": r["kind"],
                "checklist_id": r["checklist_id"],
                "item_key": r["item_key"],
                "reason": r["reason"],
                "message": REJECTION_REASONS.get(r["reason"], ""),
                "payload": _payload_value(text),
            }
        )
    return out


SELECT_ALIASES_OF = "SELECT alias_id, checklist_id FROM checklist_alias WHERE checklist_id IN ({in})"


def _payload_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return {"truncated": True, "head": text}


def _size(value: Any) -> int:
    """Bytes of a value in the answer (UTF-8 JSON)."""
    return len(
        json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8", "surrogatepass")
    )


class _Page:
    """Entities added to a page until it holds MAX_PAGE_BYTES (at least one is always added)."""

    def __init__(self, body: dict) -> None:
        self.body = body
        self.size = _size(body.get("my_rejected", []))
        self.added = 0

    def full(self) -> bool:
        return self.added > 0 and self.size > MAX_PAGE_BYTES

    def add(self, kind: str, entity: dict) -> None:
        self.body[kind].append(entity)
        self.size += _size(entity)
        self.added += 1


async def _checklists_by_id(conn: Any, checklist_ids: list[str]) -> dict[str, dict]:
    cls = await fetch_in(conn, SELECT_CHECKLISTS, checklist_ids)
    codes = await template_codes(conn, {c["template_id"] for c in cls})
    return {c["id"]: checklist_out(c, codes) for c in cls}


async def _snapshot_page(conn: Any, scope: set[int], cur: Cursor, limit: int, body: dict) -> None:
    per_page = max(1, limit // 25)  # about 25 rows (answers, conflicts) per checklist
    ids: list[str] = []
    for part in chunks(sorted(scope)):
        ids.extend(
            r["id"]
            for r in await fetch(
                conn,
                f"SELECT id FROM checklist WHERE id > ? AND unit_id IN ({in_list(len(part))}) ORDER BY id LIMIT ?",
                [cur.after, *part, per_page + 1],
            )
        )
    ids.sort()
    wanted = ids[:per_page]
    taken: list[str] = []
    if wanted:
        checklists = await _checklists_by_id(conn, wanted)
        answers: dict[str, list[dict]] = {}
        for a in await fetch_in(conn, SELECT_ANSWERS_OF, wanted):
            answers.setdefault(a["checklist_id"], []).append(answer_out(a))
        conflicts: dict[str, list[dict]] = {}
        for c in await fetch_in(conn, SELECT_CONFLICTS_OF, wanted):
            conflicts.setdefault(c["checklist_id"], []).append(conflict_out(c))
        aliases: dict[str, list[dict]] = {}
        for r in await fetch_in(conn, SELECT_ALIASES_OF, wanted):
            aliases.setdefault(r["checklist_id"], []).append({"id": r["alias_id"], "checklist_id": r["checklist_id"]})
        comments: dict[str, list[dict]] = {}
        for r in await fetch_in(conn, SELECT_COMMENTS_OF, wanted):
            comments.setdefault(r["checklist_id"], []).append(comment_out(r))
        page = _Page(body)
        for cid in wanted:  # whole checklists only: a checklist is never split across pages
            if page.full():
                break
            if cid in checklists:
                page.add("checklists", checklists[cid])
            for a in answers.get(cid, []):
                page.add("answers", a)
            for c in conflicts.get(cid, []):
                page.add("conflicts", c)
            for a in aliases.get(cid, []):
                page.add("aliases", a)
            for cm in comments.get(cid, []):
                page.add("comments", cm)
            taken.append(cid)
    if len(ids) > len(taken):
        body.update(cursor=Cursor("s", cur.high, taken[-1], cur.digest).encode(), more=True)
    else:  # the snapshot is complete: continue with the change log from where it started
        body.update(cursor=Cursor("d", cur.high, "", cur.digest).encode(), more=True)


_CHANGES_OF_ONE_UNIT = (
    'SELECT id, unit_id, checklist_id, entity, entity_key, op FROM "change" '
    "WHERE unit_id = ? AND id > ? ORDER BY id LIMIT ?"
)
# `+unit_id`: the log is walked by id and the scope filtered as it goes; the unit index, which the planner
# may pick without statistics, would sort every change of the scope's units for each page.
_CHANGES_OF_UNITS = (
    'SELECT id, unit_id, checklist_id, entity, entity_key, op FROM "change" '
    "WHERE id > ? AND +unit_id IN ({}) ORDER BY id LIMIT ?"
)
_ALL_CHANGES = 'SELECT id, unit_id, checklist_id, entity, entity_key, op FROM "change" WHERE id > ? ORDER BY id LIMIT ?'
_MAX_LISTED_UNITS = 500  # a wider scope (nearly every unit) is filtered after reading, not in the query


async def _scope_changes(conn: Any, scope: set[int], after: int, limit: int) -> list[dict]:
    """The next `limit` changes of the scope's units after change `after`, in id order (a very wide scope:
    of every unit). A commune's phone reads its own unit's changes by the unit's index, not every unit's
    log after a province-wide deadline evening."""
    if not scope:
        return []
    if len(scope) == 1:
        return await fetch(conn, _CHANGES_OF_ONE_UNIT, [next(iter(scope)), after, limit])
    if len(scope) > _MAX_LISTED_UNITS:  # every unit's rows: the page skips the others and moves past them
        return await fetch(conn, _ALL_CHANGES, [after, limit])
    units = sorted(scope)
    return await fetch(conn, _CHANGES_OF_UNITS.format(in_list(len(units))), [after, *units, limit])


async def _delta_page(conn: Any, scope: set[int], cur: Cursor, limit: int, body: dict) -> None:
    rows = await _scope_changes(conn, scope, cur.high, limit)
    live = [r for r in rows if r["unit_id"] in scope and r["op"] != "delete"]
    checklists = await _checklists_by_id(conn, list(dict.fromkeys(r["checklist_id"] for r in live)))
    answer_keys = {(r["checklist_id"], r["entity_key"]) for r in live if r["entity"] == "answer"}
    answers = {
        (a["checklist_id"], a["item_key"]): answer_out(a)
        for a in await fetch_in(conn, SELECT_ANSWERS_OF, {k[0] for k in answer_keys})
        if (a["checklist_id"], a["item_key"]) in answer_keys
    }
    conflict_ids = [r["entity_key"] for r in live if r["entity"] == "conflict"]
    conflicts = {c["id"]: conflict_out(c) for c in await fetch_in(conn, SELECT_CONFLICTS, conflict_ids)}
    comment_ids = [r["entity_key"] for r in live if r["entity"] == "comment"]
    comments = {c["id"]: comment_out(c) for c in await fetch_in(conn, SELECT_COMMENTS, comment_ids)}
    page = _Page(body)
    sent: set[tuple[str, Any]] = set()
    high, stopped = cur.high, False
    for r in rows:  # in change order, until the page is full; the next page goes on from there
        if page.full():
            stopped = True
            break
        high = r["id"]
        if r["unit_id"] not in scope:
            continue
        if r["op"] == "delete":
            page.add(
                "deleted",
                {"entity": r["entity"], "id": r["entity_key"] or r["checklist_id"], "checklist_id": r["checklist_id"]},
            )
            continue
        wanted = [("checklists", r["checklist_id"], checklists.get(r["checklist_id"]))]
        if r["entity"] == "alias":
            alias = {"id": r["entity_key"], "checklist_id": r["checklist_id"]}
            wanted.append(("aliases", r["entity_key"], alias))
        elif r["entity"] == "answer":
            key = (r["checklist_id"], r["entity_key"])
            wanted.append(("answers", key, answers.get(key)))
        elif r["entity"] == "conflict":
            wanted.append(("conflicts", r["entity_key"], conflicts.get(r["entity_key"])))
        elif r["entity"] == "comment":
            wanted.append(("comments", r["entity_key"], comments.get(r["entity_key"])))
        for kind, key, entity in wanted:
            if entity is not None and (kind, key) not in sent:
                sent.add((kind, key))
                page.add(kind, entity)
    body["checklists"].sort(key=lambda c: c["id"])
    body.update(cursor=Cursor("d", high, "", cur.digest).encode(), more=stopped or len(rows) == limit)
