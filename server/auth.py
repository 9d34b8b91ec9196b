"""Passwords, server-side sessions, login throttling, and the role and scope checks every route uses."""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request
from starlette.responses import Response
from tortoise import connections

from sync.sql import fetch
from sync.vocabulary import CREATORS, EDITORS

from .errors import problem
from .models import LoginFailure, Session, Unit, User
from .security import forwarded_client
from .services.tree import subtree_ids

COOKIE = "eiso_session"
# argon2id is memory-hard; 19 MiB, t=2 follows OWASP's minimum and takes ~30 ms here.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verifying against this when the user does not exist keeps timing equal for both cases.
_DUMMY_HASH = _hasher.hash("not a password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def now() -> datetime:
    return datetime.now(UTC)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_address(request: Request) -> str:
    """The address of whoever sent the request: the socket's peer, or what a proxy named in
    EISO_TRUSTED_PROXIES says it forwarded for (server/security.py). Never a header the client wrote."""
    peer = request.client.host if request.client else "unknown"
    return forwarded_client(peer, request.scope["headers"], request.app.state.settings.trusted_proxies)


def set_session_cookie(response: Response, token: str, *, days: int, secure: bool) -> None:
    response.set_cookie(COOKIE, token, max_age=days * 86400, httponly=True, samesite="lax", secure=secure, path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


# Login throttling (issue 17): per (account, address), so that failures from one place never lock the
# owner out from another, and per address alone with a wider allowance (one address trying many
# accounts). Past the free failures, each further try waits twice as long as the last, up to the window.
FIRST_DELAY_S = 30
PAIR_MEMORY_S = 24 * 3600  # failures of an (account, address) pair are remembered this long
ADDRESS_ALLOWANCE = 4  # times the per-pair allowance, for an address whatever the account


def _pair_key(username: str, address: str) -> str:
    return f"pair:{username.lower()}|{address}"


def _delay(failures: int, free: int, cap_s: int) -> int:
    """Seconds to wait after the last failure, once `failures` were recorded."""
    if failures < free:
        return 0
    return min(cap_s, FIRST_DELAY_S * 2 ** min(failures - free, 20))


async def _wait_left(key: str, since: datetime, free: int, cap_s: int) -> float:
    recent = LoginFailure.filter(key=key, at__gte=since)
    failures = await recent.count()
    delay = _delay(failures, free, cap_s)
    if not delay:
        return 0
    last = await recent.order_by("-at").first()
    return (last.at + timedelta(seconds=delay) - now()).total_seconds() if last else 0


async def check_throttle(username: str, address: str, max_failures: int, window_s: int) -> None:
    """`login_throttled` with the seconds to wait while this account from this address (or this address
    for any account) must still wait after its last failures."""
    t = now()
    wait = max(
        await _wait_left(_pair_key(username, address), t - timedelta(seconds=PAIR_MEMORY_S), max_failures, window_s),
        await _wait_left(
            f"addr:{address}", t - timedelta(seconds=window_s), max_failures * ADDRESS_ALLOWANCE, window_s
        ),
    )
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise problem("login_throttled", minutes=max(1, math.ceil(seconds / 60)), retry_after=seconds)


async def record_failure(username: str, address: str, window_s: int) -> None:
    """Count a failed login, and forget failures no throttle looks at any more (older than both look-backs):
    addresses that tried once and never came back would otherwise stay in the table for good."""
    await LoginFailure.bulk_create(
        [LoginFailure(key=_pair_key(username, address)), LoginFailure(key=f"addr:{address}")]
    )
    await LoginFailure.filter(at__lt=now() - timedelta(seconds=max(PAIR_MEMORY_S, window_s))).delete()


async def clear_failures(username: str, address: str) -> None:
    """A right password from this address: its failures for this account are forgotten."""
    await LoginFailure.filter(key=_pair_key(username, address)).delete()


async def authenticate(username: str, password: str) -> User | None:
    """The account whose password this is, or None. A deactivated account with the right password is
    refused by name (`account_disabled`): only someone who knows the password learns it is locked."""
    user = await User.get_or_none(username=username)
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if not user.active:
        raise problem("account_disabled")
    return user


async def start_session(user: User, days: int, *, address: str, user_agent: str) -> str:
    token = secrets.token_urlsafe(32)
    await Session.create(
        token_hash=_token_hash(token),
        user=user,
        expires_at=now() + timedelta(days=days),
        address=address[:64],
        user_agent=user_agent[:255],
    )
    return token


async def end_session(token: str | None, reason: str = "logout") -> None:
    if token:
        await Session.filter(token_hash=_token_hash(token), revoked_at=None).update(
            revoked_at=now(), ended_reason=reason
        )


async def session_user(request: Request) -> User | None:
    """The user of the request's session, cached on the request."""
    if "user" in request.state._state:
        return request.state.user
    session = await live_session(request.cookies.get(COOKIE))
    request.state.session = session
    request.state.user = session.user if session else None
    return request.state.user


async def current_session(request: Request) -> Session | None:
    """The request's live session (a device is bound to it), cached on the request."""
    await session_user(request)
    return request.state.session


async def live_session(token: str | None) -> Session | None:
    """The live session of a token, with its active user and their unit; None once it ended, expired or
    its user was deactivated."""
    if not token:
        return None
    session = await _session_with_user(_token_hash(token))
    if session is None or session.revoked_at is not None or session.expires_at <= now():
        return None
    return session if session.user.active else None


_JOINED = (("s", Session), ("u", User), ("n", Unit))
_SESSION_SQL = ""


def _columns(model: type) -> list[str]:
    meta = model._meta  # type: ignore[attr-defined]
    return [
        key for fields in (meta.db_native_fields, meta.db_default_fields, meta.db_complex_fields) for key, *_ in fields
    ]


async def _session_with_user(token_hash: str) -> Session | None:
    """The session of a token hash with its user and the user's unit, in one query built by hand: every
    request asks this, and the ORM's select_related spent ~1.5 ms building it (the rows are the same;
    `_init_from_db` is how the ORM itself makes instances of rows)."""
    cols = ", ".join(f'{alias}."{c}" AS "{alias}.{c}"' for alias, model in _JOINED for c in _columns(model))
    rows = await fetch(
        connections.get("default"),
        f'SELECT {cols} FROM "session" s JOIN "user" u ON u.id = s.user_id JOIN "unit" n ON n.id = u.unit_id '
        "WHERE s.token_hash = ?",
        [token_hash],
    )
    if not rows:
        return None
    parts: dict[str, dict] = {alias: {} for alias, _ in _JOINED}
    for key, value in rows[0].items():
        alias, column = key.split(".", 1)
        parts[alias][column] = value
    session, user, unit = (model._init_from_db(**parts[alias]) for alias, model in _JOINED)  # type: ignore[attr-defined]
    object.__setattr__(user, "_unit", unit)  # as select_related("user", "user__unit") leaves them
    object.__setattr__(session, "_user", user)
    return session


async def session_of_token(token: str | None) -> Session | None:
    """The session of a token whether live or ended, with its user."""
    if not token:
        return None
    return await Session.get_or_none(token_hash=_token_hash(token)).select_related("user")


async def user_of_token(token: str | None) -> User | None:
    """The active user of a live session token, with their unit."""
    session = await live_session(token)
    return session.user if session else None


async def require_user(request: Request, *roles: str) -> User:
    user = await session_user(request)
    if user is None:
        raise problem("not_authenticated")
    if roles and user.role not in roles:
        raise problem("forbidden")
    return user


async def scope_unit_ids(user: User) -> set[int]:
    """Ids of the user's unit and every unit below it (the tree has any depth)."""
    return await subtree_ids(user.unit_id)  # type: ignore[attr-defined]


async def unit_in_scope(user: User, unit_id: int) -> bool:
    return unit_id in await scope_unit_ids(user)


# Who may write what (the protocol's role lists). Officials fill in their own unit; reviewers and admins
# act on the units below.
CAN_EDIT_ANSWERS = EDITORS
CAN_CREATE_CHECKLISTS = CREATORS
