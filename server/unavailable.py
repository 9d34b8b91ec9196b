"""A database that is restarting, unreachable or busy: a 503 with Retry-After, never a 500.

PostgreSQL restarted under load drops the pool's connections and refuses new ones for a few seconds;
SQLite answers "database is locked" when another process holds the write lock for longer than
busy_timeout. Nothing of the request was committed in either case (the transaction failed before its
commit), so the client may send the same request again; the reference client and the phone do so after
Retry-After. The pool needs no restart: asyncpg drops a broken connection and opens a new one on the
next acquire.

`is_database_unavailable(exc)` decides from the exception and what it wraps; anything else goes on to
the usual 500 (a bug must stay visible).
"""

from __future__ import annotations

import errno
import sqlite3

import asyncpg
from tortoise.exceptions import BaseORMException, DBConnectionError

RETRY_AFTER_S = 3

# what a failing or busy database raises, by class; `error_handlers` registers a handler for each
CANDIDATE_CLASSES: tuple[type[Exception], ...] = (
    OSError,
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    BaseORMException,
)

_CONNECTION_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ENOTCONN}
_SQLITE_BUSY_WORDS = ("database is locked", "database table is locked", "database is busy")


def _one(exc: BaseException) -> bool:
    if isinstance(exc, DBConnectionError):
        return True
    if isinstance(exc, ConnectionError) or (isinstance(exc, OSError) and exc.errno in _CONNECTION_ERRNOS):
        return True
    if isinstance(exc, OSError) and "Connect call failed" in str(exc):  # asyncpg: every address refused
        return True
    if isinstance(
        exc,
        (
            asyncpg.PostgresConnectionError,  # the connection broke (server restarted or killed)
            asyncpg.OperatorInterventionError,  # shutting down, starting up, crashed
            asyncpg.InsufficientResourcesError,  # too many connections
            asyncpg.TransactionRollbackError,  # a deadlock or serialization failure: rolled back, send again
        ),
    ):
        return True
    if isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc):
        return True
    if isinstance(exc, asyncpg.InternalClientError) and "cannot switch to state" in str(exc):
        # PostgreSQL sent its "terminating connection" error and closed the socket: the pool's reset on
        # release finds the protocol still waiting for the end of that error (it runs in a shielded task,
        # so the error carries no context). The statement failed; asyncpg terminates the connection.
        return True
    if isinstance(exc, sqlite3.OperationalError) or type(exc).__name__ == "OperationalError":
        return any(word in str(exc).lower() for word in _SQLITE_BUSY_WORDS)
    return False


def is_database_unavailable(exc: BaseException) -> bool:
    """True when `exc` (or an exception it wraps) says the database is down, restarting or locked."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if _one(e):
            return True
        if e.__cause__ is not None:
            todo.append(e.__cause__)
        if isinstance(e, asyncpg.InternalClientError) and e.__context__ is not None:
            todo.append(e.__context__)  # releasing a connection that broke mid-query: the break says why
        todo.extend(a for a in e.args if isinstance(a, BaseException))  # Tortoise wraps the driver's error
    return False
