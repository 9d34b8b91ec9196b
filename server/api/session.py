"""Log in and out: POST/DELETE /api/session; GET /api/session says who is logged in."""
from __future__ import annotations

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.routing import Route

from .. import auth
from ..errors import ApiError
from ..models import AuditLog
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


async def login_user(request: Request, username: str, password: str):
    """Shared by the JSON API and the login page; raises ApiError on failure."""
    settings = request.app.state.settings
    address = auth.client_address(request)
    await auth.check_throttle(username, address, settings.login_max_failures, settings.login_window_seconds)
    user = await auth.authenticate(username, password)
    if user is None:
        await auth.record_failure(username, address)
        raise ApiError(401, "bad_credentials", "Tên đăng nhập hoặc mật khẩu không đúng.")
    await auth.clear_failures(username)
    token = await auth.start_session(user, request, settings.session_days)
    await AuditLog.create(username=user.username, action="login", detail={"address": address})
    await user.fetch_related("unit")
    return user, token


def set_session_cookie(response, request: Request, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        auth.COOKIE, token, max_age=settings.session_days * 86400, httponly=True, samesite="lax",
        secure=settings.secure_cookies, path="/",
    )


async def create_session(request: Request) -> JSON:
    body = await read_body(request, Login)
    user, token = await login_user(request, body.username.strip(), body.password)
    response = JSON({"user": user_json(user)}, status_code=201)
    set_session_cookie(response, request, token)
    return response


async def delete_session(request: Request) -> JSON:
    user = await auth.session_user(request)
    await auth.end_session(request.cookies.get(auth.COOKIE))
    if user:
        await AuditLog.create(username=user.username, action="logout")
    response = JSON({"ok": True})
    response.delete_cookie(auth.COOKIE, path="/")
    return response


async def get_session(request: Request) -> JSON:
    user = await auth.require_user(request)
    return JSON({"user": user_json(user)})


routes = [
    Route("/api/session", create_session, methods=["POST"]),
    Route("/api/session", delete_session, methods=["DELETE"]),
    Route("/api/session", get_session, methods=["GET"]),
]
