"""Acknowledged means durable: the server's database connection keeps an answered push through a power
cut, and the server refuses to start on a database configured to lose it unless told to accept that."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time

import httpx
import pytest
from tortoise import connections

from server.config import Settings
from server.durability import database_facts, durability_problems

from .conftest import BACKEND, PG_ADMIN_URL, _pg_admin
from .test_serve import free_port


async def test_the_servers_connection_is_durable(orm, settings):
    # `settings` is what the server builds from DATABASE_URL; the connection is the one its requests use.
    conn = connections.get("default")
    if BACKEND == "postgres":
        for name in ("synchronous_commit", "fsync"):
            _n, rows = await conn.execute_query(f"SHOW {name}")
            assert rows[0][name] == "on", name
    else:
        _n, rows = await conn.execute_query("PRAGMA synchronous")
        assert dict(rows[0])["synchronous"] == 2  # FULL: WAL with NORMAL loses the last commits on power loss
        _n, rows = await conn.execute_query("PRAGMA journal_mode")
        assert dict(rows[0])["journal_mode"] == "wal"
        assert "synchronous=FULL" in settings.database_url
    assert durability_problems(await database_facts(conn)) == []


@pytest.mark.parametrize(
    "facts,words",
    [
        ({"synchronous": "NORMAL", "journal_mode": "wal", "file": "/x"}, ["synchronous=NORMAL"]),
        ({"synchronous": "OFF", "journal_mode": "off", "file": "/x"}, ["synchronous=OFF", "journal_mode=off"]),
        ({"synchronous": "FULL", "journal_mode": "memory", "file": ""}, [":memory:", "journal_mode=memory"]),
        ({"fsync": "off", "synchronous_commit": "on", "full_page_writes": "on"}, ["fsync=off"]),
        ({"fsync": "on", "synchronous_commit": "off", "full_page_writes": "on"}, ["synchronous_commit=off"]),
        ({"fsync": "on", "synchronous_commit": "on", "full_page_writes": "off"}, ["full_page_writes=off"]),
    ],
)
def test_each_setting_that_can_lose_an_answered_push_is_named(facts, words):
    said = " ".join(durability_problems(facts))
    assert all(w in said for w in words), said


@pytest.mark.parametrize("facts", [{"synchronous": "EXTRA", "journal_mode": "delete", "file": "/x"}])
def test_full_or_extra_on_disk_is_durable(facts):
    assert durability_problems(facts) == []


def test_a_sqlite_url_that_sets_its_own_pragmas_keeps_them_and_gets_the_missing_ones():
    url = Settings.from_env({"DATABASE_URL": "sqlite://data/x.sqlite3?busy_timeout=5000"}).database_url
    assert "busy_timeout=5000" in url and "busy_timeout=10000" not in url
    assert "synchronous=FULL" in url and "journal_mode=WAL" in url


# ---- the server refuses to start on a database that is not durable ---------------------------------------


def _serve(url: str, tmp_path, extra: dict | None = None) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if k != "EISO_ALLOW_NON_DURABLE"}
    env.update({"DATABASE_URL": url, "EISO_PORT": str(free_port()), **(extra or {})})
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--log-level", "warning"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, env["EISO_PORT"]


@pytest.fixture
def non_durable_url(tmp_path):
    """A database of the suite's backend configured to lose commits on power loss."""
    if BACKEND == "postgres":
        name = "eiso_nondurable_" + secrets.token_hex(4)
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        asyncio.run(_pg_admin(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        yield f"{PG_ADMIN_URL}/{name}", "synchronous_commit=off"
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        yield f"sqlite://{tmp_path / 'fast.sqlite3'}?synchronous=NORMAL", "synchronous=NORMAL"


def test_the_server_refuses_to_start_on_a_database_that_can_lose_answered_pushes(non_durable_url, tmp_path):
    url, named = non_durable_url
    proc, _port = _serve(url, tmp_path)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert "không khởi động" in err and named in err and "EISO_ALLOW_NON_DURABLE=1" in err, err
    assert "Traceback" not in err


def test_an_explicit_setting_lets_it_start_on_a_non_durable_database(non_durable_url, tmp_path):
    url, named = non_durable_url
    proc, port = _serve(url, tmp_path, {"EISO_ALLOW_NON_DURABLE": "1"})
    try:
        deadline = time.time() + 90
        while time.time() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()[1]
        assert httpx.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code == 200
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert named in out + err  # the start-up line says what the database promises
