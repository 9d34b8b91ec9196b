"""SQLite's "database is locked" never reaches a user as a 500.

Another connection to the same file (a second worker process, an `eiso` command, a backup tool, the
reminder run of another process) may hold the write lock. The server waits busy_timeout for it; every
transaction takes the lock at BEGIN (IMMEDIATE), so another process's commit cannot fail it half-way;
and a lock held past busy_timeout is answered 503 JSON with Retry-After, nothing saved, the client sends
again. Each test holds the lock from a second, plain sqlite3 connection.
"""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from sync.models import Edit
from tests.conftest import BACKEND, DEMO_PASSWORD
from tests.sync_fixtures import device, make_checklist  # noqa: F401 - fixtures

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's file lock; PostgreSQL has row locks")


def db_path(settings) -> str:
    return settings.database_url[len("sqlite://") :].partition("?")[0]


class WriteLock:
    """A second connection holding SQLite's write lock (BEGIN IMMEDIATE) until release()."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, timeout=5, isolation_level=None)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.conn is not None:
            self.conn.execute("ROLLBACK")
            self.conn.close()
            self.conn = None


@pytest.fixture
async def short_busy_timeout():
    """The server's connection waits 200 ms for a lock instead of 10 s (so the test is quick)."""
    conn = connections.get("default")
    await conn.execute_script("PRAGMA busy_timeout=200")
    yield
    await conn.execute_script("PRAGMA busy_timeout=10000")


async def push_raw(c, edits):
    content, headers = c._request_body(edits)
    return await c.http.post("/api/sync/push", content=content, headers=headers)


async def test_push_waits_for_a_write_lock_held_shorter_than_busy_timeout(device, settings):
    cid = await make_checklist("KT-147")
    c = await device("xa.iatoi")
    c.edit_answer(cid, "c4_1_context", "yes")
    lock = WriteLock(db_path(settings))
    asyncio.get_running_loop().call_later(0.5, lock.release)
    try:
        results = await c.push()  # waits for the lock, then is applied
    finally:
        lock.release()
    assert [r["outcome"] for r in results] == ["applied"]
    assert await Edit.filter(device_id=c.device_id).count() == 1


async def test_push_under_a_lock_held_past_busy_timeout_is_503_with_retry_after_then_applied(
    device, settings, short_busy_timeout
):
    cid = await make_checklist("KT-147")
    c = await device("xa.iatoi")
    c.edit_answer(cid, "c4_1_context", "no")
    lock = WriteLock(db_path(settings))
    try:
        r = await push_raw(c, c.outbox())
    finally:
        lock.release()
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"].isdigit() and int(r.headers["Retry-After"]) > 0
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["error"] == "database_unavailable" and body["retry_after"] == int(r.headers["Retry-After"])
    assert "thử lại" in body["message"] and "locked" not in body["message"]
    assert await Edit.filter(device_id=c.device_id).count() == 0  # nothing half-saved
    results = await c.push()  # the phone sends again once the lock is gone
    assert [x["outcome"] for x in results] == ["applied"]
    assert await Edit.filter(device_id=c.device_id).count() == 1


async def test_login_under_a_held_write_lock_is_503_not_500(anon, seeded, settings, short_busy_timeout):
    lock = WriteLock(db_path(settings))
    try:
        r = await anon.post("/api/session", json={"username": "xa.iatoi", "password": DEMO_PASSWORD})
    finally:
        lock.release()
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "database_unavailable" and "Retry-After" in r.headers
    r = await anon.post("/api/session", json={"username": "xa.iatoi", "password": DEMO_PASSWORD})
    assert r.status_code == 201, r.text


async def test_a_page_under_a_held_write_lock_is_a_503_page_not_500(login, settings, short_busy_timeout):
    client = await login("admin")
    lock = WriteLock(db_path(settings))
    try:
        r = await client.post("/api/checklists", json={})  # a JSON route first: refused before any write
        assert r.status_code == 422
        r = await client.post("/logout")  # a page route that writes (the session ends)
    finally:
        lock.release()
    assert r.status_code == 503, r.text[:300]
    assert r.headers["content-type"].startswith("text/html") and "Retry-After" in r.headers
    assert "thử lại" in r.text


async def test_a_transaction_holds_the_write_lock_from_its_start(seeded, settings):
    """BEGIN IMMEDIATE: another connection cannot commit between this transaction's read and its write
    (with SQLite's default DEFERRED it could, and the write would then fail at once, "locked", whatever
    busy_timeout says)."""
    async with in_transaction() as conn:
        await conn.execute_query("SELECT COUNT(*) FROM unit")
        other = sqlite3.connect(db_path(settings), timeout=0.1, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        await conn.execute_query("UPDATE unit SET name = name WHERE id = (SELECT MIN(id) FROM unit)")


async def test_a_transaction_refused_the_lock_leaves_the_connection_usable(seeded, settings, short_busy_timeout):
    lock = WriteLock(db_path(settings))
    try:
        with pytest.raises(Exception, match="locked"):
            async with in_transaction() as conn:
                await conn.execute_query("SELECT 1")
    finally:
        lock.release()
    async with asyncio.timeout(5):  # the next transaction gets the connection (no lock kept by the failed one)
        async with in_transaction() as conn:
            await conn.execute_query("UPDATE unit SET name = name WHERE id = (SELECT MIN(id) FROM unit)")
