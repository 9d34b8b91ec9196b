"""One fixture module: the database (SQLite or PostgreSQL), the seeded data, the app and logged-in clients.

Choose the database with EISO_TEST_DB=sqlite (default) or EISO_TEST_DB=postgres. PostgreSQL tests make a
throwaway database on EISO_TEST_PG (default postgres://postgres@127.0.0.1:5432) and drop it after the run.
Without a reachable server they skip, saying why, except under CI (CI=true), where they fail.
"""

from __future__ import annotations

import asyncio
import os
import secrets

import httpx
import pytest
import pytest_asyncio
from tortoise import Tortoise, connections

from server.app import create_app
from server.config import Settings
from server.db import tortoise_config

DEMO_PASSWORD = "demo-pass-2026"
PG_ADMIN_URL = os.environ.get("EISO_TEST_PG", "postgres://postgres@127.0.0.1:5432")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKEND = os.environ.get("EISO_TEST_DB", "sqlite")

# Tables whose rows tests create; seed tables (units, users, templates, deadlines) stay between tests.
MUTABLE_TABLES = [
    "change",
    "edit",
    "edit_tally",
    "conflict",
    "answer",
    "checklist",
    "quarantine",
    "evidence",
    "device",
    "session",
    "login_failure",
    "audit_log",
    "checklist_alias",
    "review_comment",
    "reminder_ledger",
    "inbox_message",
    "push_subscription",
    "notify_prefs",
    "reminder_policy",
    "tthc_procedure",
    "evidence_upload",
    "evidence_grant",
]
ALL_TABLES = MUTABLE_TABLES + ["unit_history", "deadline", "template_item", "template", "user", "unit"]


def run_async(coro):
    """asyncio.run, also from a thread whose event loop is already running (sync Playwright's)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def pg_unavailable_reason() -> str | None:
    import asyncpg

    async def probe():
        conn = await asyncpg.connect(PG_ADMIN_URL + "/postgres", timeout=3)
        await conn.close()

    try:
        run_async(probe())
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({exc.__class__.__name__}: {exc})"
    return None


def need_postgres() -> None:
    """Skip (or, under CI, fail) a test that needs PostgreSQL when there is none."""
    reason = pg_unavailable_reason()
    if reason:
        if IN_CI:
            pytest.fail(reason + "; CI must have PostgreSQL")
        pytest.skip(reason + "; start one or set EISO_TEST_PG")


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL + "/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if BACKEND == "postgres":
        need_postgres()
        name = "eiso_test_" + secrets.token_hex(4)
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        yield f"{PG_ADMIN_URL}/{name}"
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path_factory.mktemp("db") / "eiso.sqlite3"
        yield f"sqlite://{path}"


@pytest.fixture(scope="session")
def settings(database_url, tmp_path_factory) -> Settings:
    s = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "EISO_SECRET": "test-secret",
            "EISO_EVIDENCE_DIR": str(tmp_path_factory.mktemp("evidence")),
            "EISO_EXPORT_DIR": str(tmp_path_factory.mktemp("exports")),
            "EISO_PUBLIC_ORIGINS": "http://testserver",  # what the test clients send as Origin
        }
    )
    return s


@pytest_asyncio.fixture(scope="session")
async def orm(settings):
    await Tortoise.init(config=tortoise_config(settings.database_url))
    await Tortoise.generate_schemas(safe=True)
    yield
    await Tortoise.close_connections()


def _conn():
    return connections.get("default")


async def wipe(tables: list[str]) -> None:
    conn = _conn()
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    else:
        if "unit" in tables:  # the tree points at itself with ON DELETE RESTRICT
            await conn.execute_script('UPDATE "unit" SET parent_id = NULL, merged_into_id = NULL')
        for t in tables:
            await conn.execute_script(f'DELETE FROM "{t}"')


@pytest_asyncio.fixture
async def db(orm):
    """An empty database with the schema."""
    await wipe(ALL_TABLES)
    yield _conn()
    await wipe(ALL_TABLES)


@pytest_asyncio.fixture
async def seeded(orm):
    """The Kon Tum seed with demo accounts (password DEMO_PASSWORD); test-made rows removed after."""
    from seed.load import load_seed
    from server.models import Unit

    if await Unit.all().count() == 0:
        await load_seed(demo=True, demo_password=DEMO_PASSWORD)
    await wipe(MUTABLE_TABLES)
    yield
    await wipe(MUTABLE_TABLES)


@pytest.fixture
def app(settings):
    return create_app(settings, init_db=False)


@pytest_asyncio.fixture
async def anon(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest_asyncio.fixture
async def sessions(app):
    """sessions(username, password) -> an httpx client logged in as that account (closed after the test)."""
    clients: list[httpx.AsyncClient] = []

    async def _session(username: str, password: str) -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        r = await c.post("/api/session", json={"username": username, "password": password})
        assert r.status_code == 201, r.text
        clients.append(c)
        return c

    yield _session
    for c in clients:
        await c.aclose()


@pytest_asyncio.fixture
async def login(sessions, seeded):
    """login("xa.iatoi") -> an httpx client with that seeded account's session cookie."""

    async def _login(username: str, password: str = DEMO_PASSWORD) -> httpx.AsyncClient:
        return await sessions(username, password)

    return _login


async def unit_id(code: str) -> int:
    from server.models import Unit

    return (await Unit.get(code=code)).id


async def template_id(code: str) -> int:
    from server.models import Template

    return (await Template.filter(code=code).order_by("-version").first()).id
