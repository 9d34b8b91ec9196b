"""Registers across the caller's scope, searched ignoring diacritics (?q=).

GET    /api/registers/announcements        every unit's announcement decision, from approved checklists
GET    /api/registers/procedures           the administrative procedures units brought into their system
                                           (?unit_id= one unit in scope)
POST   /api/registers/procedures           an official of the unit or an admin above it: list one
DELETE /api/registers/procedures/{id}      the same people: take one off the list (the row is kept)

Exports of both: POST /api/exports with kind "announcements" or "procedures".
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.routing import Route

from .. import auth
from ..services import registers
from . import JSON, Id, int_param, read_body

Query = Annotated[str, Field(max_length=200)]


def _q(request: Request) -> str:
    return request.query_params.get("q", "")[:200]


async def list_announcements(request: Request) -> JSON:
    user = await auth.require_user(request)
    items, units = await registers.announcements(user, _q(request))
    return JSON({"announcements": [a.as_json() for a in items], "units_in_scope": units})


async def list_procedures(request: Request) -> JSON:
    user = await auth.require_user(request)
    unit_id = int_param(request, "unit_id") if "unit_id" in request.query_params else None
    rows = await registers.procedures(user, _q(request), unit_id)
    return JSON({"procedures": [r.as_json() for r in rows]})


class NewProcedure(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    unit_id: Id
    name: Annotated[str, Field(max_length=1000)]
    code: Annotated[str, Field(max_length=32)] = ""
    field: Annotated[str, Field(max_length=255)] = ""
    in_system_on: Annotated[str, Field(max_length=10)] | None = None  # "2026-03-01"
    note: Annotated[str, Field(max_length=2000)] = ""


async def add_procedure(request: Request) -> JSON:
    user = await auth.require_user(request)
    body = await read_body(request, NewProcedure)
    p = await registers.add_procedure(
        user, body.unit_id, body.name, body.code, body.field, body.in_system_on, body.note
    )
    rows = await registers.procedures(user, unit_id=body.unit_id)
    return JSON(next(r.as_json() for r in rows if r.procedure.id == p.id), status_code=201)


async def remove_procedure(request: Request) -> JSON:
    user = await auth.require_user(request)
    p = await registers.remove_procedure(user, int_param(request, "procedure_id"))
    return JSON({"id": p.id, "removed_at": p.removed_at.isoformat() if p.removed_at else None})


routes = [
    Route("/api/registers/announcements", list_announcements, methods=["GET"]),
    Route("/api/registers/procedures", list_procedures, methods=["GET"]),
    Route("/api/registers/procedures", add_procedure, methods=["POST"]),
    Route("/api/registers/procedures/{procedure_id}", remove_procedure, methods=["DELETE"]),
]
