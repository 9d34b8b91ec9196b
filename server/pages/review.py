"""The review desk: the queue of what the units below declared, and one checklist to review.

Every comment and decision posted here travels as an edit of the sync protocol from the session's desk
device (`services.review.desk_push`), with the same rules and the same exactly-once record as a phone's.
Forms POST (the Origin check of `server/security.py` applies) and answer with a redirect back (303), or
with the checklist page again explaining a refusal (an approval overtaken by a change shows the change).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sync.rows import side_value
from sync.vocabulary import DECIDERS, REJECTION_REASONS

from .. import auth
from ..catalogue import REVIEW_EVENT_LABELS
from ..errors import ApiError, parse_int, problem
from ..models import Template, Unit
from ..services import checklists, review
from . import user_or_login
from .render import render

DONE = {
    "comment": "Đã gửi nhận xét.",
    "return": "Đã trả lại phiếu cho đơn vị.",
    "approve": "Đã duyệt phiếu.",
    "reopen": "Đã mở lại phiếu.",
    "resolve": "Đã chọn giá trị cho mục đang xung đột.",
}


def _opt_int(raw: str | None, name: str) -> int | None:
    return parse_int(raw, name, minimum=1) if raw else None


async def queue_page(request: Request) -> Response:
    user, redirect = await user_or_login(request)
    if redirect:
        return redirect
    assert user is not None
    q = request.query_params
    filters = review.QueueFilters(
        unit_id=_opt_int(q.get("unit_id"), "unit_id"),
        template_id=_opt_int(q.get("template_id"), "template_id"),
        period=q.get("period", "").strip()[:16],
        status=q.get("status") or "submitted",
    )
    data = await review.queue(user, filters)
    below = await review.units_below(user)
    units = await Unit.filter(id__in=below).order_by("level", "annex_no", "id")
    templates = await Template.filter(published=True).order_by("code", "-version")
    periods = await review.periods_below(below)  # picked from a list, never typed
    waiting = data["counts"]["by_unit"]
    return render(
        request,
        "review_queue.html",
        {
            "user": user,
            "data": data,
            "filters": filters,
            "units": units,
            "templates": templates,
            "periods": periods,
            "max_waiting": max([w["waiting"] for w in waiting] or [1]),
        },
    )


async def _detail_context(request: Request, user, checklist_id: str) -> dict:
    detail = await checklists.get_checklist(user, checklist_id)
    c = detail.checklist
    changes = await review.changes(user, c.id)
    timeline = await review.timeline(user, c.id)
    comments = await review.comments_of(c.id)
    by_item: dict[str, list] = {}
    for cm in comments:
        by_item.setdefault(cm.item_key, []).append(cm)
    names = {x["by"]: x["by_name"] for x in timeline["events"]}
    return {
        "user": user,
        "checklist": c,
        "template": detail.template,
        "unit": detail.unit,
        "sections": await checklists.template_sections(detail.template),
        "answers": {a.item_key: a for a in detail.answers},
        "values": detail.values(),
        "conflicts": detail.conflicts,
        "conflicts_by_item": detail.conflicts_by_item(),
        "conflict_ids": {(x.item_key, x.field): x.id for x in detail.conflicts},
        "progress": detail.progress,
        "changes": changes,
        "timeline": timeline["events"],
        "comments_by_item": by_item,
        "names": names,
        "is_decider": user.role in DECIDERS,
        "reopened": c.status == "draft" and c.last_action == "reopen",
        "EVENT_LABELS": REVIEW_EVENT_LABELS,
        "done": DONE.get(request.query_params.get("done", "")),
        "new_id": review.new_comment_id,  # each comment form carries its id: a form sent twice is one comment
    }


async def checklist_review_page(request: Request) -> Response:
    user, redirect = await user_or_login(request)
    if redirect:
        return redirect
    await review.units_below(user)  # the desk is the deciders'
    return render(
        request, "review_checklist.html", await _detail_context(request, user, request.path_params["checklist_id"])
    )


async def _refused(request: Request, user, checklist_id: str, result: dict, seen: int | None = None) -> Response:
    """The checklist again, saying why the edit was refused; an overtaken approval shows what changed."""
    ctx = await _detail_context(request, user, checklist_id)
    ctx["error"] = result.get("message") or REJECTION_REASONS.get(result.get("reason", ""), "")
    if result.get("reason") == "version_changed" and seen is not None:
        ctx["overtaken"] = await review.changes(user, ctx["checklist"].id, seen)
    return render(request, "review_checklist.html", ctx, status_code=409)


async def _send(request: Request, user, checklist_id: str, edit: dict, done: str, seen: int | None = None) -> Response:
    results = await review.desk_push(user, await auth.current_session(request), [edit])
    result = results[0] if results else {"outcome": "rejected", "reason": "not_found"}
    if result.get("outcome") == "rejected":
        return await _refused(request, user, checklist_id, result, seen)
    return RedirectResponse(f"/review/{checklist_id}?done={done}", status_code=303)


async def _form_user(request: Request):
    user = await auth.require_user(request)
    await review.units_below(user)
    detail = await checklists.get_checklist(user, request.path_params["checklist_id"])
    return user, detail.checklist.id, await request.form()


async def post_comment(request: Request) -> Response:
    user, cid, form = await _form_user(request)
    text = str(form.get("text", "")).strip()
    if not text:
        return await _refused(request, user, cid, {"message": problem("review_text_missing").message})
    edit = {
        "kind": "comment",
        "comment_id": str(form.get("comment_id") or review.new_comment_id()),
        "checklist_id": cid,
        "item_key": str(form.get("item_key", "")),
        "text": text,
    }
    return await _send(request, user, cid, edit, "comment")


async def post_decision(request: Request) -> Response:
    user, cid, form = await _form_user(request)
    action = str(form.get("action", ""))
    if action not in ("return", "approve", "reopen"):
        raise problem("review_action_invalid", field="action")
    comment = str(form.get("comment", "")).strip()
    if action in ("return", "reopen") and not comment:
        return await _refused(request, user, cid, {"message": problem("review_reason_missing").message})
    edit: dict = {"kind": "status", "checklist_id": cid, "action": action, "comment": comment}
    seen = None
    if action == "approve":
        try:
            seen = parse_int(form.get("seen_version"), "seen_version", minimum=0)
        except ApiError:
            raise problem("review_action_invalid", field="seen_version") from None
        edit["seen_version"] = seen
    return await _send(request, user, cid, edit, action, seen)


async def post_resolve(request: Request) -> Response:
    """Choose one of the two values entered for a conflicting item (the reviewer types nothing new)."""
    user, cid, form = await _form_user(request)
    conflict_id = str(form.get("conflict_id", ""))
    side = str(form.get("side", ""))
    detail = await checklists.get_checklist(user, cid)
    conflict = next((c for c in detail.conflicts if c.id == conflict_id), None)
    if conflict is None or side not in ("winner", "loser"):
        return await _refused(
            request, user, cid, {"reason": "conflict_closed", "message": REJECTION_REASONS["conflict_closed"]}
        )
    text = conflict.winner_value if side == "winner" else conflict.loser_value
    value = side_value(conflict.field, text)
    return await _send(request, user, cid, {"kind": "resolve", "conflict_id": conflict_id, "value": value}, "resolve")


routes = [
    Route("/review", queue_page, methods=["GET"]),
    Route("/review/{checklist_id}", checklist_review_page, methods=["GET"]),
    Route("/review/{checklist_id}/comment", post_comment, methods=["POST"]),
    Route("/review/{checklist_id}/decide", post_decision, methods=["POST"]),
    Route("/review/{checklist_id}/resolve", post_resolve, methods=["POST"]),
]
