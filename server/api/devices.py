"""Devices: register, list, revoke (docs/sync-protocol.md, section 1)."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.routing import Route

from sync.models import Device
from sync.protocol import NewDevice
from sync.sql import now_ms

from .. import auth
from ..errors import problem
from ..models import AuditLog, User
from . import JSON, read_body


def device_json(d: Device, username: str = "") -> dict:
    return {
        "device_id": d.id,
        "name": d.name,
        "username": username,
        "created_ms": d.created_ms,
        "last_seq": d.last_seq,
        "last_push_ms": d.last_push_ms,
        "clock_offset_ms": d.clock_offset_ms,
        "revoked_ms": d.revoked_ms,
        "revoked_by": d.revoked_by,
    }


async def post_device(request: Request) -> JSON:
    user = await auth.require_user(request)
    body = await read_body(request, NewDevice)
    device = await Device.create(id=str(uuid.uuid4()), user_id=user.id, name=body.name.strip(), created_ms=now_ms())
    return JSON(device_json(device, user.username), status_code=201)


async def list_devices(request: Request) -> JSON:
    user = await auth.require_user(request)
    devices = await Device.filter(user_id=user.id).order_by("created_ms")
    return JSON({"devices": [device_json(d, user.username) for d in devices]})


async def revoke_device(request: Request) -> JSON:
    """The owner, or an admin whose scope holds the owner's unit, revokes a device. Nothing is deleted."""
    user = await auth.require_user(request)
    device = await Device.get_or_none(id=request.path_params["device_id"])
    if device is None:
        raise problem("device_not_found")
    owner = await User.get(id=device.user_id)  # type: ignore[attr-defined]
    if owner.id != user.id and not (user.role == "admin" and await auth.unit_in_scope(user, owner.unit_id)):  # type: ignore[attr-defined]
        raise problem("device_not_found")
    if device.revoked_ms is None:
        await Device.filter(id=device.id, revoked_ms=None).update(revoked_ms=now_ms(), revoked_by=user.username)
        await AuditLog.create(
            username=user.username,
            action="device.revoke",
            object_type="device",
            object_id=device.id,
            detail={"owner": owner.username},
        )
        device = await Device.get(id=device.id)
    return JSON(device_json(device, owner.username))


routes = [
    Route("/api/devices", post_device, methods=["POST"]),
    Route("/api/devices", list_devices, methods=["GET"]),
    Route("/api/devices/{device_id}", revoke_device, methods=["DELETE"]),
]
