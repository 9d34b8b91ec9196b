"""Logging in and out, for the JSON API and the login page alike.

`login` throttles by (account, address) and by address, checks the password, starts a server-side session and
returns the user with the session token; the route sets the cookie (`auth.set_session_cookie`). It
raises `login_missing`, `login_throttled` or `bad_credentials`. Every login and logout is audited.
"""

from __future__ import annotations

from sync.protocol import json_problem

from .. import auth
from ..config import Settings
from ..errors import problem
from ..models import AuditLog, User

MAX_USERNAME = 64  # the login form and the API alike (the page form is not a pydantic model)
MAX_PASSWORD = 256


async def login(
    settings: Settings, username: str, password: str, *, address: str, user_agent: str = ""
) -> tuple[User, str]:
    username = username.strip()
    if not username or not password:
        raise problem("login_missing")
    found, field = json_problem({"username": username, "password": password})
    if found:  # a NUL or a lone surrogate: no account has one, and PostgreSQL refuses it with an error
        raise problem("body_bad_text", field=field)
    if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:  # no account has one: nothing to throttle
        raise problem("bad_credentials")
    await auth.check_throttle(username, address, settings.login_max_failures, settings.login_window_seconds)
    user = await auth.authenticate(username, password)
    if user is None:
        await auth.record_failure(username, address, settings.login_window_seconds)
        raise problem("bad_credentials")
    await auth.clear_failures(username, address)
    token = await auth.start_session(user, settings.session_days, address=address, user_agent=user_agent)
    await AuditLog.create(username=user.username, action="login", detail={"address": address})
    await user.fetch_related("unit")
    return user, token


async def logout(token: str | None) -> User | None:
    """Ends the session of `token` (if any) and returns whose it was."""
    user = await auth.user_of_token(token)
    await auth.end_session(token)
    if user:
        await AuditLog.create(username=user.username, action="logout")
    return user
