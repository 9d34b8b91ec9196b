"""Plain SQL for the hot paths, portable between SQLite (`?`) and PostgreSQL/asyncpg (`$1`)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from typing import Any

_QMARK = re.compile(r"\?")


def now_ms() -> int:
    return int(time.time() * 1000)


def is_postgres(conn: Any) -> bool:
    return conn.capabilities.dialect == "postgres"


def placeholders(conn: Any, sql: str) -> str:
    if not is_postgres(conn):
        return sql
    counter = iter(range(1, 100000))
    return _QMARK.sub(lambda _m: f"${next(counter)}", sql)


async def fetch(conn: Any, sql: str, params: Sequence[Any] = ()) -> list[dict]:
    _count, rows = await conn.execute_query(placeholders(conn, sql), list(params))
    if not rows:
        return []
    keys = list(rows[0].keys())  # sqlite3.Row and asyncpg Record both have keys(); zip is ~3x faster than dict(row)
    return (
        [dict(zip(keys, r)) if not isinstance(r, dict) else dict(r) for r in rows]
        if hasattr(rows[0], "keys")
        else [dict(r) for r in rows]
    )


async def execute(conn: Any, sql: str, params: Sequence[Any] = ()) -> None:
    await conn.execute_query(placeholders(conn, sql), list(params))


async def execute_many(conn: Any, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    rows = [list(r) for r in rows]
    if rows:
        await conn.execute_many(placeholders(conn, sql), rows)


def in_list(n: int) -> str:
    return ",".join("?" * n)
