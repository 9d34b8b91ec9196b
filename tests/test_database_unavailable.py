"""Which failures count as "the database is unavailable" (a 503 with Retry-After) and which stay 500s."""

import sqlite3

import asyncpg
import pytest
from tortoise.exceptions import OperationalError

from server.unavailable import is_database_unavailable


@pytest.mark.parametrize(
    "exc",
    [
        # the pool's reset on release after PostgreSQL sent "terminating connection" (seen under a restart)
        asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
        OperationalError(sqlite3.OperationalError("database is locked")),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
    ],
    ids=["reset-after-shutdown", "admin-shutdown", "starting-up", "refused", "sqlite-locked", "deadlock"],
)
def test_a_database_going_away_is_unavailable(exc):
    assert is_database_unavailable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.InternalClientError("unexpected codec state"),
        asyncpg.exceptions.UniqueViolationError("duplicate key value violates unique constraint"),
        OperationalError(sqlite3.OperationalError("no such table: edit")),
        ValueError("a bug"),
    ],
    ids=["other-internal", "unique", "no-table", "bug"],
)
def test_other_failures_stay_errors(exc):
    assert not is_database_unavailable(exc)
