"""Pages: the home redirect, the login form, logging out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .. import auth
from ..errors import ApiError
from ..services import sessions
from .render import render


def _safe_next(value: str | None) -> str:
    # Only local paths: "//evil.example" or "https://…" would be an open redirect.
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/units"


async def home(request: Request) -> Response:
    user = await auth.session_user(request)
    return RedirectResponse("/units" if user else "/login", status_code=303)


async def login_page(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "login.html", {"user": None, "next": _safe_next(request.query_params.get("next"))})
    form = await request.form()
    username = str(form.get("username", "")).strip()
    next_url = _safe_next(str(form.get("next", "")))
    settings = request.app.state.settings
    try:
        _user, token = await sessions.login(
            settings,
            username,
            str(form.get("password", "")),
            address=auth.client_address(request),
            user_agent=request.headers.get("user-agent", ""),
        )
    except ApiError as exc:
        return render(
            request,
            "login.html",
            {"user": None, "next": next_url, "username": username, "error": exc.message},
            exc.status,
        )
    response = RedirectResponse(next_url, status_code=303)
    auth.set_session_cookie(response, token, days=settings.session_days, secure=settings.cookie_secure)
    return response


async def logout_page(request: Request) -> Response:
    await sessions.logout(request.cookies.get(auth.COOKIE))
    response = RedirectResponse("/login", status_code=303)
    auth.clear_session_cookie(response)
    return response


routes = [
    Route("/", home),
    Route("/login", login_page, methods=["GET", "POST"]),
    Route("/logout", logout_page, methods=["POST"]),
]
