"""Acknowledged means durable: the database must keep an answered push through a power cut or an OS crash.

The phone drops an edit from its outbox once the server has answered the push, so a commit the database
can still roll back after answering loses that edit for good. At start-up the server reads the live
connection's settings and refuses to start when they allow that, unless EISO_ALLOW_NON_DURABLE is set:

- SQLite: `PRAGMA synchronous` FULL or EXTRA (in WAL mode NORMAL loses the last commits on power loss)
  and a journal on disk (not `off` or `memory`); an in-memory database is never durable.
- PostgreSQL: `fsync` on, `synchronous_commit` not `off`, `full_page_writes` on.
"""

from __future__ import annotations

import logging

from tortoise import Tortoise, connections

from .config import Settings
from .db import tortoise_config

log = logging.getLogger("eiso.durability")

SQLITE_SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


class NotDurable(RuntimeError):
    """The database can lose an answered push on power loss, and no setting allows that."""


async def database_facts(conn) -> dict[str, str]:
    """The settings that decide durability, read from a live connection."""
    if conn.capabilities.dialect == "postgres":
        facts = {}
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            _n, rows = await conn.execute_query(f"SHOW {name}")
            facts[name] = str(rows[0][name]).lower()
        return facts
    _n, rows = await conn.execute_query("PRAGMA synchronous")
    level = int(next(iter(dict(rows[0]).values())))
    _n, rows = await conn.execute_query("PRAGMA journal_mode")
    journal = str(next(iter(dict(rows[0]).values()))).lower()
    _n, rows = await conn.execute_query("PRAGMA database_list")
    file = str(dict(rows[0]).get("file") or "")
    return {"synchronous": SQLITE_SYNCHRONOUS.get(level, str(level)), "journal_mode": journal, "file": file}


def durability_problems(facts: dict[str, str]) -> list[str]:
    """What in these settings can lose an answered push, in words; empty when nothing can."""
    problems = []
    if "fsync" in facts:
        if facts["fsync"] != "on":
            problems.append("PostgreSQL chạy với fsync=off")
        if facts["synchronous_commit"] == "off":
            problems.append("PostgreSQL chạy với synchronous_commit=off")
        if facts["full_page_writes"] != "on":
            problems.append("PostgreSQL chạy với full_page_writes=off")
        return problems
    if not facts["file"]:
        problems.append("SQLite chạy trong bộ nhớ (:memory:), không ghi ra đĩa")
    if facts["synchronous"] not in ("FULL", "EXTRA"):
        problems.append(f"SQLite chạy với synchronous={facts['synchronous']} (cần FULL)")
    if facts["journal_mode"] in ("off", "memory"):
        problems.append(f"SQLite chạy với journal_mode={facts['journal_mode']}")
    return problems


def refusal_message(problems: list[str]) -> str:
    return (
        "Máy chủ không khởi động: cơ sở dữ liệu có thể mất dữ liệu đã xác nhận với điện thoại khi mất điện ("
        + "; ".join(problems)
        + "). Sửa cấu hình cơ sở dữ liệu (xem docs/deployment.md, mục Durability), hoặc đặt "
        "EISO_ALLOW_NON_DURABLE=1 nếu chấp nhận rủi ro này (máy thử nghiệm, trình diễn)."
    )


def describe(facts: dict[str, str]) -> str:
    """One line for the start-up log: what the database promises."""
    if "fsync" in facts:
        return f"PostgreSQL: fsync={facts['fsync']}, synchronous_commit={facts['synchronous_commit']}"
    return f"SQLite: journal_mode={facts['journal_mode']}, synchronous={facts['synchronous']}"


async def check_connection(settings: Settings) -> dict[str, str]:
    """Check the default connection of an initialised Tortoise. Raises NotDurable, or warns when allowed."""
    facts = await database_facts(connections.get("default"))
    problems = durability_problems(facts)
    if problems:
        if not settings.allow_non_durable:
            raise NotDurable(refusal_message(problems))
        log.warning("EISO_ALLOW_NON_DURABLE=1: %s", "; ".join(problems))
    return facts


async def check_database(settings: Settings) -> dict[str, str]:
    """Open the database, check it and close it again (`eiso serve`, before it listens)."""
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        return await check_connection(settings)
    finally:
        await Tortoise.close_connections()
