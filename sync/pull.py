"""Serving a pull: one page of what changed in the user's current scope since a cursor.

A first pull, or one whose cursor was made for another scope (`scope_digest` changed: new role, unit or
tree), starts over with `reset`: a snapshot of the scope's checklists paged by id, then the change log
from where the snapshot began. Later pages follow the change log (`sync/changelog.py`) and send each
changed entity's current state. See docs/sync-protocol.md, Pull.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .protocol import MAX_PULL_LIMIT, refusal
from .rows import (
    SELECT_ANSWERS_OF,
    SELECT_CHECKLISTS,
    SELECT_CONFLICTS,
    SELECT_CONFLICTS_OF,
    answer_out,
    checklist_out,
    chunks,
    conflict_out,
    device_refusal,
    fetch_device,
    fetch_in,
    template_codes,
)
from .sql import fetch, in_list, now_ms
from .vocabulary import REJECTION_REASONS

MY_REJECTED_LIMIT = 200  # the latest rejected edits of the user, sent with a reset


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
        if not text:
            return None
        parts = text.split(".")
        if len(parts) != 4 or parts[0] not in ("s", "d"):
            return None
        try:
            return cls(parts[0], int(parts[1]), parts[2], parts[3])
        except ValueError:
            return None


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
    }
    if cur is None or cur.digest != digest:
        rows = await fetch(conn, 'SELECT COALESCE(MAX(id), 0) AS m FROM "change"')
        cur = Cursor("s", int(rows[0]["m"]), "", digest)
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
    rows = await fetch(
        conn,
        "SELECT device_id, seq, kind, checklist_id, item_key, reason, payload FROM edit "
        "WHERE username = ? AND outcome = ? ORDER BY id DESC LIMIT ?",
        [user.username, "rejected", MY_REJECTED_LIMIT],
    )
    return [
        {
            "device_id": r["device_id"],
            "seq": r["seq"],
            "kind": r["kind"],
            "checklist_id": r["checklist_id"],
            "item_key": r["item_key"],
            "reason": r["reason"],
            "message": REJECTION_REASONS.get(r["reason"], ""),
            "payload": json.loads(r["payload"]),
        }
        for r in rows
    ]


async def _whole_checklists(conn: Any, checklist_ids: list[str], body: dict) -> None:
    """The checklists with all their answers and conflicts (snapshot)."""
    await _add_checklists(conn, checklist_ids, body)
    body["answers"].extend(answer_out(a) for a in await fetch_in(conn, SELECT_ANSWERS_OF, checklist_ids))
    body["conflicts"].extend(conflict_out(c) for c in await fetch_in(conn, SELECT_CONFLICTS_OF, checklist_ids))


async def _changed_entities(
    conn: Any, checklist_ids: list[str], answer_keys: set[tuple[str, str]], conflict_ids: list[str], body: dict
) -> None:
    """The checklists, and only the answers and conflicts named (delta)."""
    await _add_checklists(conn, checklist_ids, body)
    answered = {k[0] for k in answer_keys}
    body["answers"].extend(
        answer_out(a)
        for a in await fetch_in(conn, SELECT_ANSWERS_OF, answered)
        if (a["checklist_id"], a["item_key"]) in answer_keys
    )
    body["conflicts"].extend(conflict_out(c) for c in await fetch_in(conn, SELECT_CONFLICTS, conflict_ids))


async def _add_checklists(conn: Any, checklist_ids: list[str], body: dict) -> None:
    cls = await fetch_in(conn, SELECT_CHECKLISTS, checklist_ids)
    codes = await template_codes(conn, {c["template_id"] for c in cls})
    body["checklists"].extend(checklist_out(c, codes) for c in sorted(cls, key=lambda c: c["id"]))


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
    page = ids[:per_page]
    if page:
        await _whole_checklists(conn, page, body)
    if len(ids) > per_page:
        body.update(cursor=Cursor("s", cur.high, page[-1], cur.digest).encode(), more=True)
    else:  # the snapshot is complete: continue with the change log from where it started
        body.update(cursor=Cursor("d", cur.high, "", cur.digest).encode(), more=True)


async def _delta_page(conn: Any, scope: set[int], cur: Cursor, limit: int, body: dict) -> None:
    rows = await fetch(
        conn,
        'SELECT id, unit_id, checklist_id, entity, entity_key, op FROM "change" WHERE id > ? ORDER BY id LIMIT ?',
        [cur.high, limit],
    )
    high = rows[-1]["id"] if rows else cur.high
    cl_ids: dict[str, None] = {}
    answer_keys: set[tuple[str, str]] = set()
    conflict_ids: dict[str, None] = {}
    for r in rows:
        if r["unit_id"] not in scope:
            continue
        if r["op"] == "delete":
            body["deleted"].append(
                {"entity": r["entity"], "id": r["entity_key"] or r["checklist_id"], "checklist_id": r["checklist_id"]}
            )
            continue
        cl_ids[r["checklist_id"]] = None
        if r["entity"] == "answer":
            answer_keys.add((r["checklist_id"], r["entity_key"]))
        elif r["entity"] == "conflict":
            conflict_ids[r["entity_key"]] = None
    if cl_ids:
        await _changed_entities(conn, list(cl_ids), answer_keys, list(conflict_ids), body)
    body.update(cursor=Cursor("d", high, "", cur.digest).encode(), more=len(rows) == limit)
