"""Deadlines: what a unit owes, and the province's rules behind it.

GET   /api/deadlines               the caller's unit (or ?unit_id= in scope): overdue first, then soonest;
                                   the phone refreshes its copy on every sync (keyed by `rules_version`)
GET   /api/deadline-rules          admin: every rule of the admin's subtree, with its source document
POST  /api/deadline-rules          admin: add a rule
PATCH /api/deadline-rules/{id}     admin: change some fields of a rule
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.routing import Route

from .. import auth
from ..models import Deadline
from ..services import deadline_rules
from ..services.deadlines import deadlines_of, source_line
from . import JSON, Id, int_param, read_body

Text = Annotated[str, Field(max_length=2000)]
DateText = Annotated[str, Field(max_length=10)]  # "2027-06-29"; checked by the service


class RuleFields(BaseModel):
    """Fields of a rule; every one optional so PATCH sends only what changes."""

    model_config = ConfigDict(extra="forbid", strict=True)
    code: Annotated[str, Field(max_length=64)] | None = None
    title: Annotated[str, Field(max_length=255)] | None = None
    template_id: Id | None = None
    unit_id: Id | None = None
    level: Annotated[int, Field(ge=0, le=20)] | None = None
    period_kind: Literal["month", "year", "once"] | None = None
    period_offset: Annotated[int, Field(ge=-12, le=12)] | None = None
    recurrence: Annotated[str, Field(max_length=32)] | None = None
    due_date: DateText | None = None
    binding: bool | None = None
    source_number: Annotated[str, Field(max_length=64)] | None = None
    source_date: DateText | None = None
    source_issuer: Annotated[str, Field(max_length=255)] | None = None
    source_quote: Text | None = None
    starts_on: DateText | None = None
    reference: Text | None = None


def rule_json(r: Deadline) -> dict:
    return {
        "id": r.id,
        "code": r.code,
        "title": r.title,
        "template_id": r.template_id,  # type: ignore[attr-defined]
        "unit_id": r.unit_id,  # type: ignore[attr-defined]
        "level": r.level,
        "period_kind": r.period_kind,
        "period_offset": r.period_offset,
        "recurrence": r.recurrence,
        "due_date": r.due_date.isoformat() if r.due_date else None,
        "binding": r.binding,
        "source_number": r.source_number,
        "source_date": r.source_date.isoformat() if r.source_date else None,
        "source_issuer": r.source_issuer,
        "source_quote": r.source_quote,
        "source": source_line(r),
        "starts_on": r.starts_on.isoformat() if r.starts_on else None,
        "reference": r.reference,
        "updated_at": r.updated_at.isoformat() if r.updated_at else None,
    }


async def list_deadlines(request: Request) -> JSON:
    user = await auth.require_user(request)
    unit_id = int_param(request, "unit_id") if "unit_id" in request.query_params else None
    return JSON(await deadlines_of(user, unit_id))


async def list_rules(request: Request) -> JSON:
    actor = await auth.require_user(request)
    return JSON({"rules": [rule_json(r) for r in await deadline_rules.list_rules(actor)]})


async def create_rule(request: Request) -> JSON:
    actor = await auth.require_user(request)
    deadline_rules.require_admin(actor)
    body = await read_body(request, RuleFields)
    rule = await deadline_rules.create_rule(actor, body.model_dump(exclude_unset=True))
    return JSON(rule_json(rule), status_code=201)


async def change_rule(request: Request) -> JSON:
    actor = await auth.require_user(request)
    rule = await deadline_rules.rule_for(actor, int_param(request, "rule_id"))
    body = await read_body(request, RuleFields)
    rule = await deadline_rules.update_rule(actor, rule.id, body.model_dump(exclude_unset=True))
    return JSON(rule_json(rule))


routes = [
    Route("/api/deadlines", list_deadlines, methods=["GET"]),
    Route("/api/deadline-rules", list_rules, methods=["GET"]),
    Route("/api/deadline-rules", create_rule, methods=["POST"]),
    Route("/api/deadline-rules/{rule_id}", change_rule, methods=["PATCH"]),
]
