"""Pages: one checklist with its answers, and the unit page's form that creates a checklist."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sync.vocabulary import DECIDERS

from ..errors import ApiError, parse_int, problem
from ..services import checklists, review
from . import user_or_login
from .render import render
from .units import page_unit_id, unit_page


async def checklist_page(request: Request) -> Response:
    user, redirect = await user_or_login(request)
    if redirect:
        return redirect
    detail = await checklists.get_checklist(user, request.path_params["checklist_id"])
    comments_by_item: dict[str, list] = {}
    for cm in await review.comments_of(detail.checklist.id):  # the reviewer's words beside each item
        comments_by_item.setdefault(cm.item_key, []).append(cm)
    return render(
        request,
        "checklist.html",
        {
            "user": user,
            "checklist": detail.checklist,
            "template": detail.template,
            "unit": detail.unit,
            "sections": await checklists.template_sections(detail.template),
            "answers": {a.item_key: a for a in detail.answers},
            "values": detail.values(),
            "conflicts": detail.conflicts,
            "conflicts_by_item": detail.conflicts_by_item(),
            "progress": detail.progress,
            "comments_by_item": comments_by_item,
            "reopened": detail.checklist.status == "draft" and detail.checklist.last_action == "reopen",
            "may_review": user.role in DECIDERS and detail.checklist.unit_id != user.unit_id,  # type: ignore[attr-defined]
        },
    )


async def create_from_unit_page(request: Request) -> Response:
    """The unit page's form: the same checks as POST /api/checklists, then show the new checklist.

    An existing checklist is shown instead; a refused template or period is explained on the unit page;
    a unit out of reach or a role without the right gets the error page.
    """
    user, redirect = await user_or_login(request)
    if redirect:
        return redirect
    unit_id = page_unit_id(request)
    form = await request.form()
    period = str(form.get("period", "")).strip()
    try:
        if not period:
            raise problem("period_missing")
        try:
            template_id = parse_int(form.get("template_id"), "template_id")
        except ApiError:
            raise problem("period_missing") from None
        checklist = await checklists.create_for(user, unit_id, template_id, period)
    except ApiError as exc:
        if exc.name == "checklist_exists":
            return RedirectResponse(f"/checklists/{exc.extra['checklist_id']}", status_code=303)
        if exc.status in (403, 404):
            raise
        return await unit_page(request, error=exc.message)
    return RedirectResponse(f"/checklists/{checklist.id}", status_code=303)


routes = [
    Route("/units/{unit_id}/checklists", create_from_unit_page, methods=["POST"]),
    Route("/checklists/{checklist_id}", checklist_page),
]
