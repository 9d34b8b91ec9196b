"""Accounts an admin manages: the users of their subtree, ending a user's sessions, (de)activating them.

Only admins act here, and only on users whose unit is in their subtree; a user outside it is "not
found", like any id out of scope. Deactivating ends every session of the user at once and their login is
refused with `account_disabled`; reactivating lets them log in again (old sessions stay ended). The CLI
(`eiso end-sessions`, `deactivate`, `reactivate`) calls the same functions with `by="cli"`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sync.models import Device

from .. import auth
from ..errors import problem
from ..models import AuditLog, Session, User

RECENT_DAYS = 30


@dataclass
class UserRow:
    """One user as the admin's list shows it."""

    user: User
    live_sessions: int
    live_devices: int
    last_ended: Session | None = None  # the latest session that ended before expiring, and why


def require_admin(actor: User) -> None:
    if actor.role != "admin":
        raise problem("forbidden")


async def users_in_scope(actor: User) -> list[UserRow]:
    require_admin(actor)
    scope = await auth.scope_unit_ids(actor)
    return await rows_of(await User.filter(unit_id__in=scope).select_related("unit").order_by("username"))


async def rows_of(users: list[User]) -> list[UserRow]:
    """Each user with how many live sessions and unrevoked devices they have."""
    ids = [u.id for u in users]
    sessions: dict[int, int] = {}
    live = Session.filter(user_id__in=ids, revoked_at=None, expires_at__gt=auth.now())
    for uid in await live.values_list("user_id", flat=True):
        sessions[uid] = sessions.get(uid, 0) + 1
    devices: dict[int, int] = {}
    for uid in await Device.filter(user_id__in=ids, revoked_ms=None).values_list("user_id", flat=True):
        devices[uid] = devices.get(uid, 0) + 1
    # Ended sessions of the last session lifetime at most: older ones say nothing about a phone in use.
    last: dict[int, Session] = {}
    recent = auth.now() - timedelta(days=RECENT_DAYS)
    for ended in await Session.filter(user_id__in=ids, revoked_at__gte=recent).order_by("-revoked_at"):
        last.setdefault(ended.user_id, ended)  # type: ignore[attr-defined]
    return [UserRow(u, sessions.get(u.id, 0), devices.get(u.id, 0), last.get(u.id)) for u in users]


async def user_for(actor: User, user_id: int) -> User:
    """The user an admin may act on, with their unit."""
    require_admin(actor)
    user = await User.get_or_none(id=user_id).select_related("unit")
    if user is None or not await auth.unit_in_scope(actor, user.unit_id):  # type: ignore[attr-defined]
        raise problem("user_not_found")
    return user


async def end_sessions(user: User, reason: str, *, by: str, audit: bool = True) -> int:
    """End every live session of the user; returns how many ended."""
    ended = await Session.filter(user_id=user.id, revoked_at=None).update(revoked_at=auth.now(), ended_reason=reason)
    if audit:
        await AuditLog.create(
            username=by,
            action="user.end_sessions",
            object_type="user",
            object_id=user.username,
            detail={"ended": ended},
        )
    return ended


async def set_active(user: User, active: bool, *, by: str, by_id: int | None = None) -> User:
    """Deactivate (ending every session) or reactivate a user. An admin cannot lock themselves out."""
    if not active and by_id == user.id:
        raise problem("user_self_deactivate")
    if user.active != active:
        await User.filter(id=user.id).update(active=active)
        user.active = active
        await AuditLog.create(
            username=by,
            action="user.reactivate" if active else "user.deactivate",
            object_type="user",
            object_id=user.username,
        )
    if not active:
        # Also when already inactive: a session made in the moment before is ended too.
        await end_sessions(user, "deactivated", by=by, audit=False)
    return user
