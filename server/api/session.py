"""Log in and out: POST/DELETE /api/session; GET /api/session says who is logged in."""

from __future__ import annotations

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.routing import Route

from .. import auth
from ..services import sessions
from . import JSON, read_body


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


def user_json(user) -> dict:
    unit = user.unit
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "unit": {"id": unit.id, "name": unit.name, "level": unit.level, "kind": unit.kind},
    }


async def create_session(request: Request) -> JSON:
    body = await read_body(request, Login)
    settings = request.app.state.settings
    user, token = await sessions.login(
        settings,
        body.username,
        body.password,
        address=auth.client_address(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    response = JSON({"user": user_json(user)}, status_code=201)
    auth.set_session_cookie(response, token, days=settings.session_days, secure=settings.cookie_secure)
    return response


async def delete_session(request: Request) -> JSON:
    await sessions.logout(request.cookies.get(auth.COOKIE))
    response = JSON({"ok": True})
    auth.clear_session_cookie(response)
    return response


async def get_session(request: Request) -> JSON:
    user = await auth.require_user(request)
    return JSON({"user": user_json(user)})


routes = [
    Route("/api/session", create_session, methods=["POST"]),
    Route("/api/session", delete_session, methods=["DELETE"]),
    Route("/api/session", get_session, methods=["GET"]),
]
