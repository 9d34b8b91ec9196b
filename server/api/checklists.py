"""Checklists of units in the caller's scope: create for a unit and period, list, get with answers."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.routing import Route

from sync.models import Answer, Checklist, Conflict
from sync.rows import side_value

from .. import auth
from ..models import Template
from ..services import audit_edits, checklists
from . import JSON, Id, int_param, read_body


class NewChecklist(BaseModel):
    unit_id: Id
    template_id: Id
    period: str = Field(min_length=1, max_length=16)


def checklist_json(c: Checklist, template: Template | None = None, progress: dict | None = None) -> dict:
    data = {
        "id": c.id,
        "unit_id": c.unit_id,
        "template_id": c.template_id,  # type: ignore[attr-defined]
        "period": c.period,
        "status": c.status,
        "version": c.version,
        "created_by": c.created_by,
        "created_ms": c.created_ms,
        "updated_ms": c.updated_ms,
        "status_by": c.status_by,
        "status_ms": c.status_ms,
        "status_comment": c.status_comment,
        "approved_version": c.approved_version,
    }
    if template is not None:
        data["template"] = {
            "id": template.id,
            "code": template.code,
            "version": template.version,
            "title": template.title,
        }
    if progress is not None:
        data["progress"] = progress
    return data


def answer_json(a: Answer) -> dict:
    return {
        "item_key": a.item_key,
        "value": json.loads(a.value) if a.value is not None else None,
        "note": a.note,
        "version": a.version,
        "value_by": a.value_by,
        "value_ms": a.value_ms,
        "note_by": a.note_by,
        "note_ms": a.note_ms,
        "review_comment": a.review_comment,
    }


def conflict_json(c: Conflict) -> dict:
    def load(text: str | None):
        return side_value(c.field, text)

    return {
        "id": c.id,
        "item_key": c.item_key,
        "field": c.field,
        "status": c.status,
        "winner_value": load(c.winner_value),
        "winner_by": c.winner_by,
        "winner_ms": c.winner_ms,
        "loser_value": load(c.loser_value),
        "loser_by": c.loser_by,
        "loser_ms": c.loser_ms,
        "resolved_by": c.resolved_by,
        "resolved_value": load(c.resolved_value),
    }


def row_json(row: checklists.ChecklistRow) -> dict:
    return checklist_json(row.checklist, row.template, row.progress)


async def list_checklists(request: Request) -> JSON:
    user = await auth.require_user(request)
    unit_id = int_param(request, "unit_id") if "unit_id" in request.query_params else None
    rows = await checklists.list_in_scope(user, unit_id=unit_id, status=request.query_params.get("status"))
    return JSON({"checklists": [row_json(r) for r in rows]})


async def post_checklist(request: Request) -> JSON:
    user = await auth.require_user(request, *auth.CAN_CREATE_CHECKLISTS)
    body = await read_body(request, NewChecklist)
    checklist = await checklists.create_for(user, body.unit_id, body.template_id, body.period)
    template = await Template.get(id=checklist.template_id)  # type: ignore[attr-defined]
    return JSON(checklist_json(checklist, template), status_code=201)


async def get_checklist(request: Request) -> JSON:
    user = await auth.require_user(request)
    detail = await checklists.get_checklist(user, request.path_params["checklist_id"])
    return JSON(
        {
            **checklist_json(detail.checklist, detail.template, detail.progress),
            "unit": {"id": detail.unit.id, "name": detail.unit.name},
            "answers": [answer_json(a) for a in detail.answers],
            "conflicts": [conflict_json(c) for c in detail.conflicts],
        }
    )


async def get_checklist_edits(request: Request) -> JSON:
    """The edit log of a checklist, for an auditor: GET /api/checklists/{id}/edits?after=&limit=."""
    user = await auth.require_user(request)
    after = int_param(request, "after", default=0, minimum=0)
    limit = int_param(request, "limit", default=100)
    page = await audit_edits.edits_of_checklist(user, request.path_params["checklist_id"], after=after, limit=limit)
    return JSON(page)


routes = [
    Route("/api/checklists", list_checklists, methods=["GET"]),
    Route("/api/checklists", post_checklist, methods=["POST"]),
    Route("/api/checklists/{checklist_id}", get_checklist, methods=["GET"]),
    Route("/api/checklists/{checklist_id}/edits", get_checklist_edits, methods=["GET"]),
]
