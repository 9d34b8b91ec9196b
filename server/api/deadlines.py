"""GET /api/deadlines: the deadlines of the caller's unit (or ?unit_id= in scope), soonest first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from .. import auth
from ..services.deadlines import deadlines_of
from . import JSON, int_param


async def list_deadlines(request: Request) -> JSON:
    user = await auth.require_user(request)
    unit_id = int_param(request, "unit_id") if "unit_id" in request.query_params else None
    return JSON(await deadlines_of(user, unit_id))


routes = [Route("/api/deadlines", list_deadlines, methods=["GET"])]
