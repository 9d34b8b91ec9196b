"""Devices: register, list, revoke (docs/sync-protocol.md, section 1)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from sync.models import Device
from sync.protocol import NewDevice

from .. import auth
from ..services import devices
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
    """Register a device. A re-sent POST with the same Idempotency-Key returns the same device (200)."""
    user = await auth.require_user(request)
    key = devices.check_registration_key(request.headers.get("idempotency-key"))
    body = await read_body(request, NewDevice)
    device, created = await devices.register(user, await auth.current_session(request), body.name, key)
    return JSON(device_json(device, user.username), status_code=201 if created else 200)


async def list_devices(request: Request) -> JSON:
    user = await auth.require_user(request)
    return JSON({"devices": [device_json(d, user.username) for d in await devices.of_user(user.id)]})


async def revoke_device(request: Request) -> JSON:
    """The owner, or an admin whose scope holds the owner's unit, revokes a device and so ends the
    session it was bound to. Nothing is deleted."""
    user = await auth.require_user(request)
    device, owner = await devices.revoke_for(user, request.path_params["device_id"])
    return JSON(device_json(device, owner.username))


routes = [
    Route("/api/devices", post_device, methods=["POST"]),
    Route("/api/devices", list_devices, methods=["GET"]),
    Route("/api/devices/{device_id}", revoke_device, methods=["DELETE"]),
]
