"""The reviewer's JSON routes: the queue, what changed since a version, a checklist's timeline.

Decisions and comments are not routes of their own: they are `status` and `comment` edits of the sync
protocol (POST /api/sync/push), from a phone or from the desk pages.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from .. import auth
from ..errors import problem
from ..services import review
from . import JSON, int_param


async def get_queue(request: Request) -> JSON:
    user = await auth.require_user(request)
    q = request.query_params
    period = q.get("period", "").strip()
    if len(period) > 16:
        raise problem("field_invalid", field="period", detail="tối đa 16 ký tự")
    filters = review.QueueFilters(
        unit_id=int_param(request, "unit_id", minimum=1) if q.get("unit_id") else None,
        template_id=int_param(request, "template_id", minimum=1) if q.get("template_id") else None,
        period=period,
        status=q.get("status") or "submitted",
    )
    return JSON(await review.queue(user, filters))


async def get_changes(request: Request) -> JSON:
    user = await auth.require_user(request)
    since = None
    if request.query_params.get("since"):
        since = int_param(request, "since", minimum=0)
    return JSON(await review.changes(user, request.path_params["checklist_id"], since))


async def get_timeline(request: Request) -> JSON:
    user = await auth.require_user(request)
    return JSON(await review.timeline(user, request.path_params["checklist_id"]))


routes = [
    Route("/api/review/queue", get_queue, methods=["GET"]),
    Route("/api/checklists/{checklist_id}/changes", get_changes, methods=["GET"]),
    Route("/api/checklists/{checklist_id}/timeline", get_timeline, methods=["GET"]),
]
