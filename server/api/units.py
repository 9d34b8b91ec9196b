"""Units: GET /api/units (scope, ?q= search ignoring diacritics), GET /api/units/{id} with children and
history; PATCH /api/units/{id} (rename, move) and POST /api/units/{id}/merge for the provincial admin."""

from __future__ import annotations

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.routing import Route

from .. import auth
from ..models import Unit
from ..services import units
from . import JSON, Id, int_param, read_body


def unit_json(u: Unit, parent_names: dict[int, str] | None = None) -> dict:
    """`parent_name` is set for a unit whose name another unit also bears (it names the district)."""
    return {
        "id": u.id,
        "code": u.code,
        "name": u.name,
        "source_name": u.source_name,
        "parent_id": u.parent_id,  # type: ignore[attr-defined]
        "level": u.level,
        "kind": u.kind,
        "target_year": u.target_year,
        "status": u.qms_status,
        "status_date": u.qms_status_date.isoformat() if u.qms_status_date else None,
        "active": u.active,
        "parent_name": (parent_names or {}).get(u.id),
    }


async def list_units(request: Request) -> JSON:
    user = await auth.require_user(request)
    q = request.query_params.get("q", "")[:100]
    found = await units.units_in_scope(user, q)
    parents = await units.parents_of_same_names(found)
    return JSON({"units": [unit_json(u, parents) for u in found], "count": len(found)})


async def get_unit(request: Request) -> JSON:
    user = await auth.require_user(request)
    detail = await units.unit_detail(user, int_param(request, "unit_id"))
    return JSON(
        {
            **unit_json(detail.unit),
            "qms_note": detail.unit.qms_note,
            "children": [unit_json(c) for c in detail.children],
            "history": [
                {"change": h.change, "old": h.old, "new": h.new, "at": h.at.isoformat()} for h in detail.history
            ],
        }
    )


class UnitChange(BaseModel):
    name: str | None = Field(default=None, max_length=255)
    parent_id: Id | None = None


class UnitMerge(BaseModel):
    into_id: Id


async def patch_unit(request: Request) -> JSON:
    """Rename and/or move a unit (provincial admin)."""
    user = await auth.require_user(request, *units.TREE_ADMINS)
    unit_id = int_param(request, "unit_id")
    body = await read_body(request, UnitChange)
    return JSON(unit_json(await units.change_unit(user, unit_id, name=body.name, parent_id=body.parent_id)))


async def post_merge(request: Request) -> JSON:
    user = await auth.require_user(request, *units.TREE_ADMINS)
    unit_id = int_param(request, "unit_id")
    body = await read_body(request, UnitMerge)
    return JSON(unit_json(await units.merge_into(user, unit_id, body.into_id)))


routes = [
    Route("/api/units/{unit_id}", patch_unit, methods=["PATCH"]),
    Route("/api/units/{unit_id}/merge", post_merge, methods=["POST"]),
    Route("/api/units", list_units, methods=["GET"]),
    Route("/api/units/{unit_id}", get_unit, methods=["GET"]),
]
