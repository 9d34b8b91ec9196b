"""Checklists of units in the caller's scope: create for a unit and period, list, get with answers."""
from __future__ import annotations

import json

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.routing import Route
from tortoise.exceptions import IntegrityError

from sync.checklists import PERIOD_EXAMPLES, create_checklist, valid_period
from sync.models import Answer, Checklist, Conflict

from .. import auth
from ..errors import ApiError, not_found
from ..models import AuditLog, Template, TemplateItem, Unit
from . import JSON, read_body


class NewChecklist(BaseModel):
    unit_id: int
    template_id: int
    period: str = Field(min_length=1, max_length=16)


def checklist_json(c: Checklist, template: Template | None = None, progress: dict | None = None) -> dict:
    data = {
        "id": c.id, "unit_id": c.unit_id, "template_id": c.template_id,  # type: ignore[attr-defined]
        "period": c.period, "status": c.status, "version": c.version,
        "created_by": c.created_by, "created_ms": c.created_ms, "updated_ms": c.updated_ms,
        "status_by": c.status_by, "status_ms": c.status_ms, "status_comment": c.status_comment,
        "approved_version": c.approved_version,
    }
    if template is not None:
        data["template"] = {"id": template.id, "code": template.code, "version": template.version,
                            "title": template.title}
    if progress is not None:
        data["progress"] = progress
    return data


def answer_json(a: Answer) -> dict:
    return {
        "item_key": a.item_key, "value": json.loads(a.value) if a.value is not None else None,
        "note": a.note, "version": a.version, "value_by": a.value_by, "value_ms": a.value_ms,
        "note_by": a.note_by, "note_ms": a.note_ms, "review_comment": a.review_comment,
    }


def conflict_json(c: Conflict) -> dict:
    load = lambda v: json.loads(v) if v is not None else None  # noqa: E731
    return {
        "id": c.id, "item_key": c.item_key, "field": c.field, "status": c.status,
        "winner_value": load(c.winner_value), "winner_by": c.winner_by, "winner_ms": c.winner_ms,
        "loser_value": load(c.loser_value), "loser_by": c.loser_by, "loser_ms": c.loser_ms,
        "resolved_by": c.resolved_by, "resolved_value": load(c.resolved_value),
    }


async def progress_of(checklists: list[Checklist]) -> dict[str, dict]:
    """Answered items out of all items, per checklist, in two queries."""
    if not checklists:
        return {}
    template_ids = {c.template_id for c in checklists}  # type: ignore[attr-defined]
    totals: dict[int, int] = {}
    for tid in await TemplateItem.filter(template_id__in=template_ids).values_list("template_id", flat=True):
        totals[tid] = totals.get(tid, 0) + 1
    answered: dict[str, int] = {}
    rows = await Answer.filter(checklist_id__in=[c.id for c in checklists]).exclude(value=None).values_list(
        "checklist_id", flat=True)
    for cid in rows:
        answered[cid] = answered.get(cid, 0) + 1
    return {c.id: {"answered": answered.get(c.id, 0), "total": totals.get(c.template_id, 0)}  # type: ignore[attr-defined]
            for c in checklists}


async def list_checklists(request: Request) -> JSON:
    user = await auth.require_user(request)
    scope = await auth.scope_unit_ids(user)
    qs = Checklist.filter(unit_id__in=scope)
    if "unit_id" in request.query_params:
        try:
            qs = qs.filter(unit_id=int(request.query_params["unit_id"]))
        except ValueError:
            raise ApiError(422, "invalid", "Trường 'unit_id' phải là số nguyên.", field="unit_id") from None
    if status := request.query_params.get("status"):
        qs = qs.filter(status=status)
    checklists = await qs.order_by("-updated_ms").limit(500)
    templates = {t.id: t for t in await Template.filter(id__in={c.template_id for c in checklists})}  # type: ignore[attr-defined]
    progress = await progress_of(checklists)
    return JSON({"checklists": [checklist_json(c, templates[c.template_id], progress[c.id])  # type: ignore[attr-defined]
                                for c in checklists]})


async def post_checklist(request: Request) -> JSON:
    user = await auth.require_user(request, *auth.CAN_CREATE_CHECKLISTS)
    body = await read_body(request, NewChecklist)
    checklist = await create_checklist_for(user, body)
    template = await Template.get(id=checklist.template_id)  # type: ignore[attr-defined]
    return JSON(checklist_json(checklist, template), status_code=201)


async def create_checklist_for(user, body: NewChecklist) -> Checklist:
    """Checks scope, template and period; raises ApiError (409 "exists" names the existing one)."""
    if user.role not in auth.CAN_CREATE_CHECKLISTS:
        raise ApiError(403, "forbidden", "Tài khoản của bạn không có quyền thực hiện thao tác này.")
    if not await auth.unit_in_scope(user, body.unit_id):
        raise ApiError(404, "not_found", "Không tìm thấy đơn vị", field="unit_id")
    template = await Template.get_or_none(id=body.template_id, published=True)
    if template is None:
        raise ApiError(422, "invalid", "Mẫu phiếu không tồn tại.", field="template_id")
    period = body.period.strip()
    if not valid_period(template.period_kind, period):
        raise ApiError(422, "invalid",
                       f"Kỳ báo cáo '{period}' không hợp lệ cho mẫu này (ví dụ: {PERIOD_EXAMPLES[template.period_kind]}).",
                       field="period")
    existing = await Checklist.get_or_none(unit_id=body.unit_id, template_id=template.id, period=period)
    if existing is None:
        try:
            checklist = await create_checklist(body.unit_id, template.id, period, user.username)
        except IntegrityError:  # created concurrently by someone else: answer as a duplicate below
            existing = await Checklist.get(unit_id=body.unit_id, template_id=template.id, period=period)
    if existing is not None:
        raise ApiError(409, "exists", "Đơn vị đã có phiếu này cho kỳ này.", checklist_id=existing.id)
    await AuditLog.create(username=user.username, action="checklist.create", object_type="checklist",
                          object_id=checklist.id, detail={"unit_id": body.unit_id, "template": template.code,
                                                          "period": period})
    return checklist


async def get_checklist(request: Request) -> JSON:
    user = await auth.require_user(request)
    checklist = await Checklist.get_or_none(id=request.path_params["checklist_id"])
    if checklist is None or not await auth.unit_in_scope(user, checklist.unit_id):  # type: ignore[attr-defined]
        raise not_found("Không tìm thấy phiếu")
    template = await Template.get(id=checklist.template_id)  # type: ignore[attr-defined]
    unit = await Unit.get(id=checklist.unit_id)  # type: ignore[attr-defined]
    answers = await Answer.filter(checklist_id=checklist.id).order_by("item_key")
    conflicts = await Conflict.filter(checklist_id=checklist.id, status="open").order_by("created_ms")
    progress = await progress_of([checklist])
    return JSON({
        **checklist_json(checklist, template, progress[checklist.id]),
        "unit": {"id": unit.id, "name": unit.name},
        "answers": [answer_json(a) for a in answers],
        "conflicts": [conflict_json(c) for c in conflicts],
    })


routes = [
    Route("/api/checklists", list_checklists, methods=["GET"]),
    Route("/api/checklists", post_checklist, methods=["POST"]),
    Route("/api/checklists/{checklist_id}", get_checklist, methods=["GET"]),
]
