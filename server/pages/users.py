"""Pages: the admin's accounts page (/users): end a user's sessions, lock or unlock the account, revoke a
lost phone. Forms POST (the Origin check guards them) and come back to the list with what was done."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..catalogue import USER_ACTIONS_DONE
from ..errors import ApiError, parse_int, problem
from ..models import User
from ..services import accounts, devices
from ..textfold import fold_diacritics
from . import user_or_login
from .render import render


def _path_int(request: Request, name: str) -> int:
    """An id of the path; on a page a malformed id is an account that is not there."""
    try:
        return parse_int(request.path_params[name], name)
    except ApiError:
        raise problem("user_not_found") from None


async def users_page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    rows = await accounts.users_in_scope(actor)
    q = request.query_params.get("q", "")[:100]
    if q:
        want = fold_diacritics(q)
        rows = [r for r in rows if want in fold_diacritics(f"{r.user.username} {r.user.full_name} {r.user.unit.name}")]
    done = None
    code, about = request.query_params.get("done", ""), request.query_params.get("user", "")
    if code in USER_ACTIONS_DONE and about.isdigit():
        user = await User.get_or_none(id=int(about))
        if user is not None:
            done = USER_ACTIONS_DONE[code].format(username=user.username)
    return render(
        request,
        "users.html",
        {
            "user": actor,
            "rows": rows,
            "devices": await devices.live_devices_of([r.user.id for r in rows]),
            "q": q,
            "done": done,
            "error": error,
        },
        status_code=status_code,
    )


def _back(code: str, user_id: int) -> RedirectResponse:
    return RedirectResponse(f"/users?done={code}&user={user_id}#u-{user_id}", status_code=303)


async def end_sessions(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    user = await accounts.user_for(actor, _path_int(request, "user_id"))
    await accounts.end_sessions(user, "admin", by=actor.username)
    return _back("sessions_ended", user.id)


async def set_active(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    user = await accounts.user_for(actor, _path_int(request, "user_id"))
    active = request.url.path.endswith("/reactivate")
    try:
        await accounts.set_active(user, active, by=actor.username, by_id=actor.id)
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        return await users_page(request, error=exc.message, status_code=exc.status)
    return _back("reactivated" if active else "deactivated", user.id)


async def revoke_device(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    accounts.require_admin(actor)
    _device, owner = await devices.revoke_for(actor, request.path_params["device_id"])
    return _back("device_revoked", owner.id)


routes = [
    Route("/users", users_page),
    Route("/users/{user_id}/sessions/end", end_sessions, methods=["POST"]),
    Route("/users/{user_id}/deactivate", set_active, methods=["POST"]),
    Route("/users/{user_id}/reactivate", set_active, methods=["POST"]),
    Route("/users/devices/{device_id}/revoke", revoke_device, methods=["POST"]),
]
