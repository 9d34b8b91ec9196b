"""Tortoise's SQLite engine, with every transaction started `BEGIN IMMEDIATE`.

A DEFERRED transaction (SQLite's default, and Tortoise's) that reads first and writes later fails at
once with "database is locked" when another connection committed in between: busy_timeout cannot help,
because the snapshot it read is already stale. Another process on the same file (a second worker, an
`eiso` command, the reminder run of another process) makes that happen. Taking the write lock at BEGIN
waits busy_timeout for it instead, so such a transaction waits its turn; within one process Tortoise
already runs transactions one at a time, so nothing is slower. When the lock is still held after
busy_timeout, the error is answered 503 with Retry-After (server/unavailable.py).

`server.db.tortoise_config` names this module as the engine of a SQLite database.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # locked past busy_timeout: a 503, the client sends again
            raise TransactionManagementError(exc) from exc


class ImmediateTransactionContext(SqliteTransactionContext):
    """Tortoise's context, but a BEGIN that fails (locked) gives back the connection's lock: a DEFERRED
    BEGIN never failed, so Tortoise's own context keeps the lock then, and every later query waits forever."""

    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> SqliteTransactionContext:
        return ImmediateTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient


def get_client_class(db_info: dict) -> type[SqliteClient]:
    return ImmediateSqliteClient
