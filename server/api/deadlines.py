"""GET /api/deadlines: the deadlines of the caller's unit (or ?unit_id= in scope), soonest first."""
from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from .. import auth
from ..deadlines import deadlines_for, today_vn
from ..errors import not_found
from ..models import Unit
from . import JSON, int_param


async def list_deadlines(request: Request) -> JSON:
    user = await auth.require_user(request)
    unit_id = int_param(request, "unit_id") if "unit_id" in request.query_params else user.unit_id  # type: ignore[attr-defined]
    if not await auth.unit_in_scope(user, unit_id):
        raise not_found("Không tìm thấy đơn vị")
    today = today_vn()
    return JSON({"today": today.isoformat(), "timezone": "Asia/Ho_Chi_Minh",
                 "deadlines": await deadlines_for(await Unit.get(id=unit_id), today)})


routes = [Route("/api/deadlines", list_deadlines, methods=["GET"])]
