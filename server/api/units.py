"""GET /api/units (scope, ?q= search ignoring diacritics) and GET /api/units/{id}."""
from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from .. import auth
from ..errors import not_found
from ..models import Unit, UnitHistory
from ..textfold import fold_diacritics
from . import JSON, int_param


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


routes = [
    Route("/api/units", list_units, methods=["GET"]),
    Route("/api/units/{unit_id}", get_unit, methods=["GET"]),
]
