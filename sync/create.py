"""Creating a checklist as an edit: a phone makes the id, the server applies the edit exactly once.

A `create` edit names a client-made checklist id, a unit, a template and a period. Checked as the online
create is (the role may create, the unit is in scope, the template is published, or retired by a newer
version of its code the phone had not heard of, the period fits the template's kind), then, keyed by the template's CODE (one checklist per unit, template code and period,
whatever version each was made on: a new version is a new template row with the same code):

- no checklist yet for (unit, code, period): the checklist is made with the phone's id (`applied`);
- one exists already (another phone, or the web page, was first; or it was made on an older version):
  the phone's id becomes an alias of it (`merged`, the result names the canonical `checklist_id`); edits
  sent to the alias land on the canonical checklist and pulls carry `aliases` so the phone re-keys;
- the id is already used by a checklist of another unit/code/period: `checklist_id_taken`.

Two creates of the same key must not both see "no checklist yet". The database's unique index is on
(unit, template id, period) and cannot see two versions, so they are serialised by an in-process lock
per key (held around the whole transaction) and, on PostgreSQL, a transaction-scoped advisory lock per key
(several server processes). SQLite has one writer, which the push takes at its first statement and the
web create at BEGIN IMMEDIATE (server/sqlite_engine.py).
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

Key = tuple[int, str, str]  # (unit_id, template code, period): what one checklist is unique by

_locks: dict[Key, asyncio.Lock] = {}
_holders: dict[Key, int] = {}


async def _codes(template_ids: set[int]) -> dict[int, str]:
    """template id -> code, read now (not from a cache: tests and restores reuse ids)."""
    from tortoise import connections

    from .rows import fetch_in

    ids = [t for t in template_ids if 0 < t < 2**31]  # template ids are 32-bit; others name no template
    if not ids:
        return {}
    rows = await fetch_in(connections.get("default"), "SELECT id, code FROM template WHERE id IN ({in})", ids)
    return {r["id"]: r["code"] for r in rows}


async def _sorted_keys(creates: Iterable[tuple[int, int, str]]) -> list[Key]:
    """The keys (unit_id, template code, period) the creates fall on, once each, in the order locks are
    taken (sorted: two pushes never wait on each other in opposite orders)."""
    creates = list(creates)
    codes = await _codes({t for _u, t, _p in creates})
    # an unknown template is refused inside the transaction; its id stands in for the code meanwhile
    return sorted({(u, codes.get(t, f"#{t}"), p) for u, t, p in creates})


@asynccontextmanager
async def key_locks(creates: Iterable[tuple[int, int, str]]) -> AsyncIterator[None]:
    """Hold this process's lock of every key the creates (unit_id, template_id, period) fall on, by
    template code (taken in sorted order: no deadlock), then forget unused ones."""
    wanted = await _sorted_keys(creates)
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


async def lock_keys(conn: Any, creates: list[tuple[int, int, str]]) -> None:
    """PostgreSQL: take the key locks of every create of a push (unit_id, template_id, period) at its
    start, in sorted order. Taken edit by edit, two processes creating the same two keys in opposite
    orders would deadlock; a lock taken again later in the same transaction is already held."""
    if not creates or not is_postgres(conn):
        return
    for key in await _sorted_keys(creates):
        await lock_key(conn, key)


async def checklists_of_key(conn: Any, key: Key, template_id: int | None = None) -> list[str]:
    """The ids of the checklists of (unit, template code, period), on any version: the one to answer with
    first. Normally one; a database older than the rule may hold one per version: the checklist on
    `template_id` is preferred, then the oldest."""
    rows = await fetch(
        conn,
        "SELECT c.id, c.template_id, c.created_ms FROM checklist c JOIN template t ON t.id = c.template_id "
        "WHERE c.unit_id = ? AND t.code = ? AND c.period = ?",
        list(key),
    )
    rows.sort(key=lambda r: (r["template_id"] != template_id, r["created_ms"], r["id"]))
    return [r["id"] for r in rows]


def create_refusal(role: str, unit_in_scope: bool, template: dict | None, period: str) -> str:
    """The rejection reason of a create edit, or "" (pure: the checks of the online create)."""
    if role not in CREATORS:
        return "forbidden"
    if not unit_in_scope:
        return "out_of_scope"
    # A retired version (its code has a newer one) is still created on: a phone offline since before the
    # new version was published made its checklist and answers on the one it had, and they must not be lost.
    if template is None or not (template["published"] or template["code_published"]):
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

    rows = await fetch(
        conn,
        "SELECT t.code, t.period_kind, t.published, "
        "EXISTS (SELECT 1 FROM template o WHERE o.code = t.code AND o.published) AS code_published "
        "FROM template t WHERE t.id = ?",
        [e.template_id],
    )
    reason = create_refusal(batch.actor.role, e.unit_id in scope, rows[0] if rows else None, e.period)
    outcome, canonical = "rejected", e.checklist_id
    if not reason:
        outcome, reason, canonical, change = await _write_create(
            conn, e, rows[0]["code"], batch.actor.username, batch.device_id, batch.received
        )
        if change:
            writes.changes.append(change)
    if reason:
        res = {"seq": e.seq, "outcome": "rejected", "reason": reason, "message": REJECTION_REASONS[reason]}
    else:
        res = {"seq": e.seq, "outcome": outcome, "reason": "", "checklist_id": canonical}
    writes.edit_rows.append(edit_row(e, batch, canonical, "", batch.received, res))
    return res


async def _write_create(conn: Any, e: Any, code: str, username: str, device_id: str, received: int) -> tuple:
    """Write the checklist or the alias of a create that passed the checks (`code`: its template's).

    Returns (outcome, reason, canonical checklist id, change-log entry or None)."""
    key: Key = (e.unit_id, code, e.period)
    await lock_key(conn, key)
    same_id = await fetch(
        conn,
        "SELECT c.unit_id, t.code, c.period FROM checklist c JOIN template t ON t.id = c.template_id WHERE c.id = ?",
        [e.checklist_id],
    )
    if same_id:  # the id is a checklist already: this very create, or a checklist of another key
        r = same_id[0]
        if (r["unit_id"], r["code"], r["period"]) == key:
            return "applied", "", e.checklist_id, None
        return "rejected", "checklist_id_taken", e.checklist_id, None
    existing = await checklists_of_key(conn, key, e.template_id)
    alias = (await canonical_of(conn, [e.checklist_id])).get(e.checklist_id)
    if alias is not None:
        if alias in existing:
            return "merged", "", alias, None
        return "rejected", "checklist_id_taken", e.checklist_id, None
    if existing:
        canonical = existing[0]
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
