"""Migration 0009 on a database with evidence: stored files keep their uploader's unit as a reader (a
grant), and the old shared uploads in progress are dropped (phones start them again)."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
from pathlib import Path

from tests.conftest import BACKEND, PG_ADMIN_URL, _pg_admin, need_postgres

ROOT = Path(__file__).resolve().parent.parent

# A separate process: the migration runner initialises Tortoise globally.
SCRIPT = """
import asyncio, json, sys
from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate
from server.db import tortoise_config

url, yes, no = sys.argv[1], sys.argv[2], sys.argv[3]
INSERT = ("INSERT INTO evidence (sha256, size, mime, received, complete, uploaded_by, unit_id, created_ms) "
          "VALUES ('{sha}', 10, 'image/jpeg', {received}, {complete}, '{by}', {unit}, 1)")

async def main():
    config = tortoise_config(url)
    await migrate(config=config, target="models.0006_reminders")
    conn = connections.get("default")
    await conn.execute_script(INSERT.format(sha="a" * 64, received=10, complete=yes, by="off.a", unit=7))
    await conn.execute_script(INSERT.format(sha="b" * 64, received=3, complete=no, by="off.b", unit=8))
    await Tortoise.close_connections()
    await migrate(config=config)
    conn = connections.get("default")
    stored = [r["sha256"] for r in await conn.execute_query_dict("SELECT sha256 FROM evidence")]
    grants = await conn.execute_query_dict("SELECT sha256, unit_id, username, size FROM evidence_grant")
    await Tortoise.close_connections()
    print(json.dumps({"stored": stored, "grants": grants}))

asyncio.run(main())
"""


def test_stored_files_keep_their_readers_and_old_partial_uploads_go(tmp_path):
    if BACKEND == "postgres":
        need_postgres()
        name = "eiso_mig_" + secrets.token_hex(4)
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        url, flags = f"{PG_ADMIN_URL}/{name}", ["true", "false"]
    else:
        url, flags = f"sqlite://{tmp_path / 'old.sqlite3'}", ["1", "0"]
    try:
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT, url, *flags], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        found = json.loads(out.stdout.strip().splitlines()[-1])
        assert found["stored"] == ["a" * 64]
        assert found["grants"] == [{"sha256": "a" * 64, "unit_id": 7, "username": "off.a", "size": 10}]
    finally:
        if BACKEND == "postgres":
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
