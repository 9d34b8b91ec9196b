"""Accounts an admin creates and changes: a new account, its role, its unit, a new password.

The same rules as `accounts` (admins only, users and units of their own subtree; anything outside is
"not found"). A reset password ends every session of the account: whoever held the old one is out. A
temporary password is made here and shown once to the admin; only its hash is kept. Each action is
written to the audit log, never with a password in it.
"""

from __future__ import annotations

import re
import secrets

from tortoise.exceptions import IntegrityError

from .. import auth
from ..errors import problem
from ..models import ROLES, AuditLog, Unit, User
from .accounts import end_sessions, require_admin, user_for

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
MIN_PASSWORD = 10

__all__ = ["MIN_PASSWORD", "change", "create", "reset_password", "temporary_password", "user_for"]


def temporary_password() -> str:
    """12 characters people can read out and type: no 0/O, 1/l/I."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise problem("password_too_short", field="password", minimum=MIN_PASSWORD)
    return password


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise problem("role_invalid", field="role")
    return role


async def _unit(actor: User, unit_id: int) -> Unit:
    if not await auth.unit_in_scope(actor, unit_id):
        raise problem("unit_target_unknown", field="unit_id")
    unit = await Unit.get(id=unit_id)
    if not unit.active:
        raise problem("unit_retired", field="unit_id")
    return unit


async def create(
    actor: User, *, username: str, full_name: str, role: str, unit_id: int, password: str | None
) -> tuple[User, str | None]:
    """The new account and, when no password was given, the temporary one made for it (shown once)."""
    require_admin(actor)
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise problem("username_invalid", field="username")
    role = _check_role(role)
    unit = await _unit(actor, unit_id)
    temporary = None if password else temporary_password()
    password = _check_password(password) if password else temporary
    if await User.exists(username=username):
        raise problem("username_taken", field="username", username=username)
    try:
        user = await User.create(
            username=username,
            full_name=" ".join(full_name.split())[:128],
            role=role,
            unit=unit,
            password_hash=auth.hash_password(password),
        )
    except IntegrityError:  # the same form sent twice at once
        raise problem("username_taken", field="username", username=username) from None
    await AuditLog.create(
        username=actor.username,
        action="user.create",
        object_type="user",
        object_id=username,
        detail={"role": role, "unit": unit.id, "temporary_password": temporary is not None},
    )
    return user, temporary


async def change(actor: User, user: User, *, role: str | None = None, unit_id: int | None = None) -> User:
    """A new role and/or unit. An admin does not change their own (they could lock themselves out)."""
    if user.id == actor.id and (role is not None or unit_id is not None):
        raise problem("user_self_role")
    if role is not None and role != user.role:
        old = user.role
        user.role = _check_role(role)
        await User.filter(id=user.id).update(role=user.role)
        await AuditLog.create(
            username=actor.username,
            action="user.role",
            object_type="user",
            object_id=user.username,
            detail={"old": old, "new": user.role},
        )
    if unit_id is not None and unit_id != user.unit_id:  # type: ignore[attr-defined]
        unit = await _unit(actor, unit_id)
        old_unit = user.unit_id  # type: ignore[attr-defined]
        await User.filter(id=user.id).update(unit_id=unit.id)
        user.unit = unit
        await AuditLog.create(
            username=actor.username,
            action="user.unit",
            object_type="user",
            object_id=user.username,
            detail={"old": old_unit, "new": unit.id},
        )
    return user


async def reset_password(actor: User, user: User, password: str | None) -> str | None:
    """Set the given password, or a temporary one (returned, to show once). Every session ends."""
    require_admin(actor)
    temporary = None if password else temporary_password()
    new = _check_password(password) if password else temporary
    await User.filter(id=user.id).update(password_hash=auth.hash_password(new))
    ended = await end_sessions(user, "password_reset", by=actor.username, audit=False)
    await AuditLog.create(
        username=actor.username,
        action="user.password_reset",
        object_type="user",
        object_id=user.username,
        detail={"temporary": temporary is not None, "sessions_ended": ended},
    )
    return temporary
