"""The change log that pulls page through.

Its `id` is the pull cursor, so ids must become visible in increasing order. On PostgreSQL two
transactions can take ids 10 and 11 and commit 11 first; a pull at that moment would move its cursor
past 10 and never see it. Taking a transaction-scoped advisory lock just before inserting change rows
serialises that last step: ids are then handed out in commit order. SQLite has one writer anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .sql import execute, execute_many, is_postgres

CHANGELOG_LOCK = 74_001  # an arbitrary constant shared by every server process


async def append_changes(conn: Any, rows: Iterable[tuple[int, str, str, str]]) -> None:
    """rows: (unit_id, checklist_id, entity, entity_key). Call inside the writing transaction, last."""
    rows = list(dict.fromkeys(rows))  # one row per entity per transaction is enough
    if not rows:
        return
    if is_postgres(conn):
        await execute(conn, "SELECT pg_advisory_xact_lock(?)", [CHANGELOG_LOCK])
    await execute_many(
        conn,
        'INSERT INTO "change" (unit_id, checklist_id, entity, entity_key, op) VALUES (?, ?, ?, ?, ?)',
        [(u, c, e, k, "upsert") for (u, c, e, k) in rows],
    )
