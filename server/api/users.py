"""Accounts, for an admin: list the users of their subtree, end a user's sessions, (de)activate a user.

GET    /api/users                       users in the admin's subtree, live sessions and devices
DELETE /api/users/{user_id}/sessions    end every session of the user (their phones log in again)
PATCH  /api/users/{user_id}             {"active": false} locks the account and ends its sessions
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.routing import Route

from .. import auth
from ..services import accounts
from . import JSON, int_param, read_body


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    active: bool


def user_row_json(row: accounts.UserRow) -> dict:
    u = row.user
    return {
        "id": u.id,
        "username": u.username,
        "full_name": u.full_name,
        "role": u.role,
        "unit": {"id": u.unit.id, "name": u.unit.name},
        "active": u.active,
        "live_sessions": row.live_sessions,
        "live_devices": row.live_devices,
        # The latest session ended in the last 30 days, and why (SESSION_END_LABELS in the catalogue).
        "last_session_end": (
            {"reason": row.last_ended.ended_reason, "at": row.last_ended.revoked_at.isoformat()}
            if row.last_ended and row.last_ended.revoked_at
            else None
        ),
    }


async def list_users(request: Request) -> JSON:
    actor = await auth.require_user(request, "admin")
    return JSON({"users": [user_row_json(r) for r in await accounts.users_in_scope(actor)]})


async def end_user_sessions(request: Request) -> JSON:
    actor = await auth.require_user(request, "admin")
    user = await accounts.user_for(actor, int_param(request, "user_id"))
    ended = await accounts.end_sessions(user, "admin", by=actor.username)
    return JSON({"username": user.username, "sessions_ended": ended})


async def change_user(request: Request) -> JSON:
    actor = await auth.require_user(request, "admin")
    user = await accounts.user_for(actor, int_param(request, "user_id"))
    body = await read_body(request, UserChange)
    await accounts.set_active(user, body.active, by=actor.username, by_id=actor.id)
    return JSON(user_row_json((await accounts.rows_of([user]))[0]))


routes = [
    Route("/api/users", list_users, methods=["GET"]),
    Route("/api/users/{user_id}/sessions", end_user_sessions, methods=["DELETE"]),
    Route("/api/users/{user_id}", change_user, methods=["PATCH"]),
]
