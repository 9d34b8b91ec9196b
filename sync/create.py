"""Creating a checklist as an edit: a phone makes the id, the server applies the edit exactly once.

A `create` edit names a client-made checklist id, a unit, a template and a period. Checked as the online
create is (the role may create, the unit is in scope, the template is published, the period fits the
template's kind), then:

- no checklist yet for (unit, template, period): the checklist is made with the phone's id (`applied`);
- one exists already (another phone, or the web page, was first): the phone's id becomes an alias of it
  (`merged`, the result names the canonical `checklist_id`); edits sent to the alias land on the
  canonical checklist and pulls carry `aliases` so the phone re-keys its local copy;
- the id is already used by a checklist of another unit/template/period: `checklist_id_taken`.

Two creates of the same key must not both see "no checklist yet": they are serialised by an in-process
lock per key (held around the whole transaction) and, on PostgreSQL, a transaction-scoped advisory lock
per key (several server processes). SQLite has one writer, which the push takes at its first statement.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from .periods import valid_period
from .sql import execute, fetch, is_postgres
from .vocabulary import CREATORS

CREATE_LOCK = 74_002  # the advisory lock class of checklist keys, shared by every server process

Key = tuple[int, int, str]  # (unit_id, template_id, period)

_locks: dict[Key, asyncio.Lock] = {}
_holders: dict[Key, int] = {}


@asynccontextmanager
async def key_locks(keys: Iterable[Key]) -> AsyncIterator[None]:
    """Hold this process's lock of every key (taken in sorted order: no deadlock), then forget unused ones."""
    wanted = sorted(set(keys))
    for k in wanted:
        _holders[k] = _holders.get(k, 0) + 1
    taken: list[Key] = []
    try:
        for k in wanted:
            await _locks.setdefault(k, asyncio.Lock()).acquire()
            taken.append(k)
        yield
    finally:
        for k in taken:
            _locks[k].release()
        for k in wanted:
            _holders[k] -= 1
            if not _holders[k]:
                del _holders[k]
                _locks.pop(k, None)


def _advisory_id(key: Key) -> int:
    digest = hashlib.sha256(f"{key[0]}:{key[1]}:{key[2]}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


async def lock_key(conn: Any, key: Key) -> None:
    """PostgreSQL: wait for any other transaction creating this key to end (released at commit)."""
    if is_postgres(conn):
        await execute(conn, "SELECT pg_advisory_xact_lock(?, ?)", [CREATE_LOCK, _advisory_id(key)])


def create_refusal(role: str, unit_in_scope: bool, template: dict | None, period: str) -> str:
    """The rejection reason of a create edit, or "" (pure: the checks of the online create)."""
    if role not in CREATORS:
        return "forbidden"
    if not unit_in_scope:
        return "out_of_scope"
    if template is None or not template["published"]:
        return "template_unknown"
    if not valid_period(template["period_kind"], period):
        return "invalid_period"
    return ""


async def canonical_of(conn: Any, ids: Iterable[str]) -> dict[str, str]:
    """alias id -> the checklist it stands for, for the ids that are aliases."""
    from .rows import fetch_in

    return {
        r["alias_id"]: r["checklist_id"]
        for r in await fetch_in(
            conn, "SELECT alias_id, checklist_id FROM checklist_alias WHERE alias_id IN ({in})", ids
        )
    }


async def create_edit(conn: Any, batch: Any, scope: set[int], e: Any, writes: Any) -> dict:
    """Apply one create edit of a push (`batch` is its PushContext); the Edit row and change-log entry go
    to `writes` (a BatchWrites) and the result is returned as for any edit."""
    from .batch import edit_row
    from .vocabulary import REJECTION_REASONS

    rows = await fetch(conn, "SELECT period_kind, published FROM template WHERE id = ?", [e.template_id])
    reason = create_refusal(batch.actor.role, e.unit_id in scope, rows[0] if rows else None, e.period)
    outcome, canonical = "rejected", e.checklist_id
    if not reason:
        outcome, reason, canonical, change = await _write_create(
            conn, e, batch.actor.username, batch.device_id, batch.received
        )
        if change:
            writes.changes.append(change)
    if reason:
        res = {"seq": e.seq, "outcome": "rejected", "reason": reason, "message": REJECTION_REASONS[reason]}
    else:
        res = {"seq": e.seq, "outcome": outcome, "reason": "", "checklist_id": canonical}
    writes.edit_rows.append(edit_row(e, batch, canonical, "", batch.received, res))
    return res


async def _write_create(conn: Any, e: Any, username: str, device_id: str, received: int) -> tuple:
    """Write the checklist or the alias of a create that passed the checks.

    Returns (outcome, reason, canonical checklist id, change-log entry or None)."""
    key: Key = (e.unit_id, e.template_id, e.period)
    await lock_key(conn, key)
    same_id = await fetch(conn, "SELECT unit_id, template_id, period FROM checklist WHERE id = ?", [e.checklist_id])
    if same_id:  # the id is a checklist already: this very create, or a checklist of another key
        r = same_id[0]
        if (r["unit_id"], r["template_id"], r["period"]) == key:
            return "applied", "", e.checklist_id, None
        return "rejected", "checklist_id_taken", e.checklist_id, None
    existing = await fetch(
        conn, "SELECT id FROM checklist WHERE unit_id = ? AND template_id = ? AND period = ?", list(key)
    )
    alias = (await canonical_of(conn, [e.checklist_id])).get(e.checklist_id)
    if alias is not None:
        if existing and existing[0]["id"] == alias:
            return "merged", "", alias, None
        return "rejected", "checklist_id_taken", e.checklist_id, None
    if existing:
        canonical = existing[0]["id"]
        await execute(
            conn,
            "INSERT INTO checklist_alias (alias_id, checklist_id, unit_id, created_by, device_id, created_ms) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [e.checklist_id, canonical, e.unit_id, username, device_id, received],
        )
        return "merged", "", canonical, (e.unit_id, canonical, "alias", e.checklist_id)
    await execute(
        conn,
        "INSERT INTO checklist (id, unit_id, template_id, period, status, version, created_by, created_ms, "
        "updated_ms, status_by, status_comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [e.checklist_id, e.unit_id, e.template_id, e.period, "draft", 1, username, received, received, "", ""],
    )
    return "applied", "", e.checklist_id, (e.unit_id, e.checklist_id, "checklist", "")
