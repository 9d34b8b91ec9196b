"""Pages: an admin creates an account (/users/new) and manages one (/users/{id}): role, unit, a new
password (a temporary one is shown once, on this answer only, never in a URL), every device the account
registered with a button to revoke it, its sessions and its lock. The list is /users (pages/users.py).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..catalogue import USER_ACTIONS_DONE
from ..errors import ApiError, parse_int, problem
from ..models import ROLES, User
from ..services import accounts, admin_users, devices, units
from . import user_or_login
from .render import render


def _user_id(request: Request) -> int:
    try:
        return parse_int(request.path_params["user_id"], "user_id")
    except ApiError:
        raise problem("user_not_found") from None


async def _unit_choices(actor: User) -> list:
    return [u for u in await units.units_in_scope(actor) if u.active]


async def new_user(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    accounts.require_admin(actor)
    values = {"role": "official"}
    error = None
    status = 200
    if request.method == "POST":
        form = await request.form()
        values = {k: str(form.get(k, "")) for k in ("username", "full_name", "role", "unit_id", "password")}
        try:
            user, temporary = await admin_users.create(
                actor,
                username=values["username"],
                full_name=values["full_name"],
                role=values["role"],
                unit_id=parse_int(values["unit_id"] or None, "unit_id"),
                password=values["password"] or None,
            )
        except ApiError as exc:
            if exc.status == 403:
                raise
            error, status = exc.message, exc.status
        else:
            done = USER_ACTIONS_DONE["created"].format(username=user.username)
            return await _user_page(request, actor, user.id, done=done, temporary=temporary)
    values.pop("password", None)  # never sent back
    context = {"user": actor, "f": values, "roles": ROLES, "units": await _unit_choices(actor), "error": error}
    return render(request, "admin_user_new.html", context, status_code=status)


async def _user_page(
    request: Request,
    actor: User,
    user_id: int,
    *,
    done: str | None = None,
    temporary: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    user = await accounts.user_for(actor, user_id)
    row = (await accounts.rows_of([user]))[0]
    code = request.query_params.get("done", "")
    if done is None and code in USER_ACTIONS_DONE:
        done = USER_ACTIONS_DONE[code].format(username=user.username)
    context = {
        "user": actor,
        "row": row,
        "u": user,
        "devices": await devices.of_user(user.id),
        "roles": ROLES,
        "units": await _unit_choices(actor),
        "done": done,
        "temporary": temporary,
        "error": error,
    }
    response = render(request, "admin_user.html", context, status_code=status)
    if temporary:  # the one answer that shows it is not kept anywhere
        response.headers["cache-control"] = "no-store"
    return response


async def user_page(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    return await _user_page(request, actor, _user_id(request))


async def change_user(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    user = await accounts.user_for(actor, _user_id(request))
    form = await request.form()
    try:
        role, unit_raw = str(form.get("role", "")), str(form.get("unit_id", ""))
        unit_id = parse_int(unit_raw, "unit_id") if unit_raw else None
        await admin_users.change(
            actor,
            user,
            role=role if role and role != user.role else None,
            unit_id=unit_id if unit_id != user.unit_id else None,  # type: ignore[attr-defined]
        )
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        return await _user_page(request, actor, user.id, error=exc.message, status=exc.status)
    return RedirectResponse(f"/users/{user.id}?done=changed", status_code=303)


async def reset_password(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    user = await accounts.user_for(actor, _user_id(request))
    form = await request.form()
    try:
        temporary = await admin_users.reset_password(actor, user, str(form.get("password", "")) or None)
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        return await _user_page(request, actor, user.id, error=exc.message, status=exc.status)
    done = USER_ACTIONS_DONE["password_reset"].format(username=user.username)
    return await _user_page(request, actor, user.id, done=done, temporary=temporary)


routes = [
    Route("/users/new", new_user, methods=["GET", "POST"]),
    Route("/users/{user_id}", user_page),
    Route("/users/{user_id}/change", change_user, methods=["POST"]),
    Route("/users/{user_id}/password", reset_password, methods=["POST"]),
]
