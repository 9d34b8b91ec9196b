"""Devices of a user: registered once per Idempotency-Key, bound to a session, revoked with that session.

A device is bound to the session that registered it and moves to a newer live session of the same user
that uses it (the same phone after logging in again, which keeps its device id). Revoking the device
(the lost-phone procedure) ends that session at once, so whoever holds the phone can no longer read,
register a new device or push with its cookie. A device registered before devices had sessions (or
never bound) ends every session of its owner instead: locking out is worth a login on the other phones.
"""

from __future__ import annotations

import re
import uuid

from tortoise import connections
from tortoise.exceptions import IntegrityError

from sync.models import Device
from sync.push import quarantine
from sync.sql import execute, fetch, now_ms

from .. import auth
from ..errors import problem
from ..models import AuditLog, Session, User
from .accounts import end_sessions

# What an Idempotency-Key may be: a UUID or any short token of safe characters.
_KEY = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def check_registration_key(key: str | None) -> str | None:
    """The header's value, or None when absent; a malformed key is a 422 naming the header."""
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise problem("idempotency_key_invalid", field="Idempotency-Key")
    return key


async def register(user: User, session: Session | None, name: str, key: str | None) -> tuple[Device, bool]:
    """The user's device registered under `key`, or a new one. Returns (device, created)."""
    if key is not None:
        existing = await Device.get_or_none(user_id=user.id, registration_key=key)
        if existing is not None:
            await bind(user, session, existing.id)
            return await Device.get(id=existing.id), False
    try:
        device = await Device.create(
            id=str(uuid.uuid4()),
            user_id=user.id,
            name=name.strip(),
            created_ms=now_ms(),
            session_id=session.id if session else None,
            registration_key=key,
        )
    except IntegrityError:
        # The same POST arrived twice at once: the other copy made it.
        existing = await Device.get_or_none(user_id=user.id, registration_key=key)
        if key is None or existing is None:
            raise
        return existing, False
    return device, True


async def bind(user: User, session: Session | None, device_id: str) -> None:
    """Bind the user's live device to the request's session when it is not bound to it yet."""
    if session is None:
        return
    conn = connections.get("default")
    # By hand: asked on every push and pull, and the ORM spent more building the queries than running them.
    rows = await fetch(
        conn, "SELECT session_id FROM device WHERE id = ? AND user_id = ? AND revoked_ms IS NULL", [device_id, user.id]
    )
    if rows and rows[0]["session_id"] != session.id:
        await execute(conn, "UPDATE device SET session_id = ? WHERE id = ? AND user_id = ? AND revoked_ms IS NULL",
                      [session.id, device_id, user.id])  # fmt: skip


async def of_user(user_id: int) -> list[Device]:
    return await Device.filter(user_id=user_id).order_by("created_ms")


async def live_devices_of(user_ids: list[int]) -> dict[int, list[Device]]:
    """Unrevoked devices of these users, by user id, oldest first."""
    out: dict[int, list[Device]] = {}
    for d in await Device.filter(user_id__in=user_ids, revoked_ms=None).order_by("created_ms"):
        out.setdefault(d.user_id, []).append(d)  # type: ignore[attr-defined]
    return out


async def revoke_for(actor: User, device_id: str) -> tuple[Device, User]:
    """The owner, or an admin whose scope holds the owner's unit, revokes a device; anyone else is told
    it does not exist. Returns the device and its owner."""
    device = await Device.get_or_none(id=device_id)
    if device is None:
        raise problem("device_not_found")
    owner = await User.get(id=device.user_id)  # type: ignore[attr-defined]
    if owner.id != actor.id and not (actor.role == "admin" and await auth.unit_in_scope(actor, owner.unit_id)):  # type: ignore[attr-defined]
        raise problem("device_not_found")
    return await revoke(device, owner, by=actor.username), owner


async def revoke(device: Device, owner: User, *, by: str) -> Device:
    """Revoke the device and end its session. Nothing is deleted; revoking twice changes nothing more."""
    if device.revoked_ms is None:
        revoked = await Device.filter(id=device.id, revoked_ms=None).update(revoked_ms=now_ms(), revoked_by=by)
        if revoked:
            if device.session_id is not None:
                ended = await Session.filter(id=device.session_id, revoked_at=None).update(
                    revoked_at=auth.now(), ended_reason="device_revoked"
                )
            else:
                ended = await end_sessions(owner, "device_revoked", by=by, audit=False)
            await AuditLog.create(
                username=by,
                action="device.revoke",
                object_type="device",
                object_id=device.id,
                detail={"owner": owner.username, "sessions_ended": ended},
            )
        device = await Device.get(id=device.id)
    return device


async def revoked_session_user(token: str | None) -> User | None:
    """The user of a session that ended because its device was revoked (the lost phone's cookie)."""
    session = await auth.session_of_token(token)
    return session.user if session is not None and session.ended_reason == "device_revoked" else None


async def keep_push_of_revoked(user: User, device_id: object, payload: str) -> bool:
    """A push from a lost phone after its device was revoked is refused, but what it carried is kept in
    the quarantine for review, as before the session ended. Only for that user's revoked devices."""
    if not isinstance(device_id, str) or not await Device.exists(
        id=device_id, user_id=user.id, revoked_ms__not_isnull=True
    ):
        return False
    await quarantine(device_id, user.username, "device_revoked", payload)
    return True
