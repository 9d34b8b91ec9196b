"""GET /api/dashboard: where every unit under the caller stands (admin: the province; reviewers and
viewers: their subtree; officials: 403). ?unit_id= narrows it to one unit of that scope, ?months= (1–12,
default 6) how many months the report grid shows, ?until= ("2026-11", default this month) its last one. Dates are ISO; statuses are the codes of
`progress.PROGRESS_STATUSES` and `progress.TIMELINESS`, whose words are in the catalogue."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from .. import auth
from ..services import dashboard
from . import JSON, int_param


def _optional_int(request: Request, name: str) -> int | None:
    return int_param(request, name) if request.query_params.get(name, "") != "" else None


async def get_dashboard(request: Request) -> JSON:
    user = await auth.require_user(request)
    data = await dashboard.dashboard(
        user,
        unit_id=_optional_int(request, "unit_id"),
        months=_optional_int(request, "months"),
        until=request.query_params.get("until", "")[:16],
    )
    return JSON(data)


routes = [Route("/api/dashboard", get_dashboard, methods=["GET"])]
