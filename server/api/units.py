"""GET /api/units (scope, ?q= search ignoring diacritics) and GET /api/units/{id}."""
from __future__ import annotations

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.routing import Route

from .. import auth
from ..errors import ApiError, not_found
from ..models import Unit, UnitHistory
from ..textfold import fold_diacritics
from ..units_admin import merge_unit, move_unit, rename_unit
from . import JSON, int_param, read_body


def unit_json(u: Unit) -> dict:
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
    }


async def units_in_scope(user, q: str = "") -> list[Unit]:
    scope = await auth.scope_unit_ids(user)
    qs = Unit.filter(id__in=scope)
    for word in fold_diacritics(q).split():
        qs = qs.filter(name_folded__contains=word)
    return await qs.order_by("level", "annex_no", "id")


async def list_units(request: Request) -> JSON:
    user = await auth.require_user(request)
    q = request.query_params.get("q", "")[:100]
    units = await units_in_scope(user, q)
    return JSON({"units": [unit_json(u) for u in units], "count": len(units)})


async def get_unit(request: Request) -> JSON:
    user = await auth.require_user(request)
    unit_id = int_param(request, "unit_id")
    if not await auth.unit_in_scope(user, unit_id):
        raise not_found("Không tìm thấy đơn vị")
    unit = await Unit.get(id=unit_id)
    children = await Unit.filter(parent_id=unit_id).order_by("annex_no", "id")
    history = await UnitHistory.filter(unit_id=unit_id).order_by("id")
    return JSON({
        **unit_json(unit),
        "qms_note": unit.qms_note,
        "children": [unit_json(c) for c in children],
        "history": [{"change": h.change, "old": h.old, "new": h.new, "at": h.at.isoformat()} for h in history],
    })


class UnitChange(BaseModel):
    name: str | None = Field(default=None, max_length=255)
    parent_id: int | None = None


class UnitMerge(BaseModel):
    into_id: int


async def _admin_unit(request: Request, field: str = "unit_id"):
    user = await auth.require_user(request, "admin")
    unit_id = int_param(request, field)
    if not await auth.unit_in_scope(user, unit_id):
        raise not_found("Không tìm thấy đơn vị")
    return user, await Unit.get(id=unit_id)


async def _target_in_scope(user, unit_id: int, field: str) -> Unit:
    if not await auth.unit_in_scope(user, unit_id):
        raise ApiError(422, "invalid", "Đơn vị đích không tồn tại.", field=field)
    return await Unit.get(id=unit_id)


async def patch_unit(request: Request) -> JSON:
    """Rename and/or move a unit (provincial admin); each change is kept in the unit's history."""
    user, unit = await _admin_unit(request)
    body = await read_body(request, UnitChange)
    target = await _target_in_scope(user, body.parent_id, "parent_id") if body.parent_id is not None else None
    if body.name is not None:
        unit = await rename_unit(unit, body.name, user.username)
    if target is not None:
        unit = await move_unit(unit, target, user.username)
    return JSON(unit_json(unit))


async def post_merge(request: Request) -> JSON:
    user, unit = await _admin_unit(request)
    body = await read_body(request, UnitMerge)
    into = await _target_in_scope(user, body.into_id, "into_id")
    return JSON(unit_json(await merge_unit(unit, into, user.username)))


routes = [
    Route("/api/units/{unit_id}", patch_unit, methods=["PATCH"]),
    Route("/api/units/{unit_id}/merge", post_merge, methods=["POST"]),
    Route("/api/units", list_units, methods=["GET"]),
    Route("/api/units/{unit_id}", get_unit, methods=["GET"]),
]
