"""Shared set-up for the sync benchmarks: a fresh database with units, users and templates."""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import tempfile
import uuid
from pathlib import Path

from tortoise import Tortoise

ROOT = Path(__file__).resolve().parent.parent
BENCH_PASSWORD = "bench-pass-2026"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uvicorn_command(port: int, *, workers: int = 1, keep_alive_s: int | None = None) -> list[str]:
    """The command that runs the real server (`uvicorn server.app:create_app`) on 127.0.0.1:`port`.
    With BENCH_PROFILE set, pyinstrument wraps it and writes a text profile there when it stops."""
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "server.app:create_app"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    if keep_alive_s is not None:
        cmd += ["--timeout-keep-alive", str(keep_alive_s)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    if os.environ.get("BENCH_PROFILE"):
        cmd[1:2] = ["-m", "pyinstrument", "-r", "text", "-o", os.environ["BENCH_PROFILE"], "-m"]
    return cmd


async def fresh_database() -> tuple[str, callable]:
    """DATABASE_URL (PostgreSQL: a throwaway database made on that server) or a temp SQLite file.
    Returns (url, cleanup)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import asyncpg

        base = url.rsplit("/", 1)[0]
        name = "eiso_bench_" + secrets.token_hex(4)
        admin = await asyncpg.connect(base + "/postgres")
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()

        async def cleanup() -> None:
            a = await asyncpg.connect(base + "/postgres")
            await a.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await a.close()

        return f"{base}/{name}", cleanup
    path = Path(tempfile.mkdtemp(prefix="eiso-bench-")) / "bench.sqlite3"

    async def cleanup_sqlite() -> None:
        for p in path.parent.glob("*"):
            p.unlink()
        path.parent.rmdir()

    return f"sqlite://{path}", cleanup_sqlite


async def init_schema(url: str) -> None:
    from server.config import normalise_db_url
    from server.db import tortoise_config

    await Tortoise.init(config=tortoise_config(normalise_db_url(url)))
    await Tortoise.generate_schemas(safe=True)


async def load_units_and_templates() -> dict:
    """Units from the seed CSV and templates from the seed JSON (no demo accounts: benchmarks make their own)."""
    from server.models import Template, Unit

    if True:
        import csv

        from server.models import TemplateItem

        ids: dict[str, int] = {}
        levels: dict[str, int] = {}
        with open(ROOT / "seed" / "data" / "units.csv", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                level = levels[r["parent_code"]] + 1 if r["parent_code"] else 0
                u = await Unit.create(
                    code=r["code"],
                    kind=r["kind"],
                    level=level,
                    parent_id=ids.get(r["parent_code"]),
                    source_name=r["source_name"],
                    name=r["name"],
                    name_folded=r["name"].lower(),
                )
                ids[r["code"]], levels[r["code"]] = u.id, level
        for p in sorted((ROOT / "seed" / "data" / "templates").glob("*.json")):
            d = json.loads(p.read_text(encoding="utf-8"))
            t = await Template.create(
                code=d["code"], version=d["version"], title=d["title"], period_kind=d["period_kind"]
            )
            await TemplateItem.bulk_create(
                [
                    TemplateItem(
                        template=t,
                        key=it["key"],
                        position=i,
                        section=it.get("section", ""),
                        type=it["type"],
                        label=it.get("label", ""),
                        reference=it.get("reference", ""),
                    )
                    for i, it in enumerate(d["items"])
                ]
            )
    units = {u.code: u.id for u in await Unit.all()}
    templates = {t.code: t for t in await Template.all()}
    return {"units": units, "templates": templates}


async def make_user(username: str, role: str, unit_id: int, password_hash: str):
    from server.models import User

    user, _ = await User.get_or_create(
        username=username, defaults=dict(role=role, unit_id=unit_id, password_hash=password_hash)
    )
    return user


async def make_device(user) -> str:
    from sync.models import Device
    from sync.sql import now_ms

    d = await Device.create(id=str(uuid.uuid4()), user_id=user.id, name="bench", created_ms=now_ms())
    return d.id


async def analyze() -> None:
    from tortoise import connections

    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script("ANALYZE")
    else:
        await conn.execute_script("ANALYZE")
