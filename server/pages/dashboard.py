"""Page: /dashboard, the province's (or a reviewer's subtree's) progress at a glance, readable without
JavaScript. ?unit= drills down to one unit of the caller's scope (province → district → unit), ?months=
sets the grid's width. Charts are SVG drawn by the templates, each followed by a table of its figures."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError, parse_int, problem
from ..services import dashboard
from ..services.progress import DONE_STATUSES, TIMELINESS
from . import user_or_login
from .render import render


def _query_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    return parse_int(raw, name) if raw != "" else None


def _unit_param(request: Request) -> int | None:
    """On a page a malformed unit id is simply a unit that is not there."""
    try:
        return _query_int(request, "unit")
    except ApiError:
        raise problem("unit_not_found") from None


async def dashboard_page(request: Request) -> Response:
    user, redirect = await user_or_login(request)
    if redirect:
        return redirect
    data = await dashboard.dashboard(
        user,
        unit_id=_unit_param(request),
        months=_query_int(request, "months"),
        until=request.query_params.get("until", "")[:16],
    )
    return render(
        request,
        "dashboard.html",
        {
            "user": user,
            "d": data,
            "DONE_STATUSES": DONE_STATUSES,
            "TIMELINESS": TIMELINESS,
        },
    )


routes = [Route("/dashboard", dashboard_page)]
