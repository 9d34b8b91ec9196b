"""Pages: administration for the provincial admin (issue 16). /admin lists what can be administered;
/admin/units creates units, finds one to rename, move or merge, and imports a province's new list of
units with a preview; /admin/templates publishes a new version of a checklist template.

Forms POST (the Origin check guards them) and come back with what was done; a refused value comes back
on the same page with the catalogue's message (and, for a file, each bad row or fault).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..catalogue import ADMIN_ACTIONS_DONE, PERIOD_KIND_LABELS, UNIT_HISTORY_LABELS
from ..errors import ApiError, parse_int, problem
from ..models import UNIT_KINDS, Template, Unit, User
from ..services import admin_units, templates_admin, unit_import, units
from . import user_or_login
from .render import render

IMPORT_LABELS = {
    "create": "Tạo mới",
    "rename": "Đổi tên",
    "kind": "Đổi loại đơn vị",
    "move": "Chuyển đơn vị cấp trên",
    "merge": "Sáp nhập",
    "retire": "Ngừng hoạt động",
}


async def _admin(request: Request) -> tuple[User | None, Response | None]:
    actor, redirect = await user_or_login(request)
    if redirect:
        return None, redirect
    admin_units.require_province_admin(actor)
    return actor, None


def _unit_id(request: Request) -> int:
    try:
        return parse_int(request.path_params["unit_id"], "unit_id")
    except ApiError:
        raise problem("unit_not_found") from None


async def _file(request: Request) -> bytes:
    form = await request.form(max_part_size=2 * 1024 * 1024)
    upload = form.get("file")
    return await upload.read() if isinstance(upload, UploadFile) else b""


def _done(request: Request, **names: str) -> str | None:
    code = request.query_params.get("done", "")
    return ADMIN_ACTIONS_DONE[code].format(**names) if code in ADMIN_ACTIONS_DONE else None


async def hub(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    if actor.role != "admin":
        raise problem("forbidden")
    return render(request, "admin.html", {"user": actor})


async def _parents(actor: User) -> list[Unit]:
    """Units a new unit can be put under: the province, its departments and districts."""
    found = await units.units_in_scope(actor)
    return [u for u in found if u.active and u.level <= 1]


async def units_page(
    request: Request, *, error: str | None = None, errors: list | None = None, form: dict | None = None, status=200
) -> Response:
    actor, redirect = await _admin(request)
    if redirect:
        return redirect
    q = request.query_params.get("q", "")[:100]
    found = (await units.units_in_scope(actor, q))[:50] if q else []
    done = None
    about = request.query_params.get("unit", "")
    if about.isdigit() and (u := await Unit.get_or_none(id=int(about))) is not None:
        done = _done(request, name=u.name)
    elif request.query_params.get("done") == "import_applied":
        done = _done(request)
    context: dict[str, Any] = {
        "user": actor,
        "q": q,
        "found": found,
        "parents": await _parents(actor),
        "kinds": UNIT_KINDS,
        "f": form or {"kind": "commune"},
        "done": done,
        "error": error,
        "errors": errors or [],
    }
    return render(request, "admin_units.html", context, status_code=status)


async def new_unit(request: Request) -> Response:
    actor, redirect = await _admin(request)
    if redirect:
        return redirect
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("code", "name", "kind", "parent_id")}
    try:
        parent_id = parse_int(values["parent_id"] or None, "parent_id")
        unit = await admin_units.create(
            actor, code=values["code"], name=values["name"], kind=values["kind"], parent_id=parent_id
        )
    except ApiError as exc:
        if exc.status == 403:
            raise
        return await units_page(request, error=exc.message, form=values, status=exc.status)
    return RedirectResponse(f"/admin/units/{unit.id}?done=unit_created", status_code=303)


async def unit_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    actor, redirect = await _admin(request)
    if redirect:
        return redirect
    detail = await units.unit_detail(actor, _unit_id(request))
    scope = await units.units_in_scope(actor)
    inside = {c.id for c in scope if c.parent_id == detail.unit.id}  # type: ignore[attr-defined]
    parents = [u for u in await _parents(actor) if u.id != detail.unit.id and u.id not in inside]
    # Units it may merge into: of its level, those of its own parent first (two communes of one district).
    peers = [u for u in scope if u.active and u.level == detail.unit.level and u.id != detail.unit.id]
    peers.sort(key=lambda u: (u.parent_id != detail.unit.parent_id, u.name_folded))  # type: ignore[attr-defined]
    merged_from = await Unit.filter(merged_into_id=detail.unit.id).order_by("name")
    context = {
        "user": actor,
        "d": detail,
        "parents": parents,
        "peers": peers,
        "merged_from": merged_from,
        "users": await User.filter(unit_id=detail.unit.id).order_by("username"),
        "done": _done(request, name=detail.unit.name),
        "error": error,
        "HISTORY_LABELS": UNIT_HISTORY_LABELS,
    }
    return render(request, "admin_unit.html", context, status_code=status)


async def change_unit(request: Request) -> Response:
    actor, redirect = await _admin(request)
    if redirect:
        return redirect
    unit_id = _unit_id(request)
    what = request.url.path.rsplit("/", 1)[-1]
    form = await request.form()
    try:
        if what == "rename":
            await units.change_unit(actor, unit_id, name=str(form.get("name", "")))
        elif what == "move":
            await units.change_unit(actor, unit_id, parent_id=parse_int(form.get("parent_id") or None, "parent_id"))
        else:
            await units.merge_into(actor, unit_id, parse_int(form.get("into_id") or None, "into_id"))
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        return await unit_page(request, error=exc.message, status=exc.status)
    done = {"rename": "unit_renamed", "move": "unit_moved", "merge": "unit_merged"}[what]
    return RedirectResponse(f"/admin/units/{unit_id}?done={done}", status_code=303)


async def import_preview(request: Request) -> Response:
    actor, redirect = await _admin(request)
    if redirect:
        return redirect
    data = await _file(request)
    try:
        plan = await unit_import.plan_of(actor, data)
    except ApiError as exc:
        if exc.status == 403:
            raise
        return await units_page(request, error=exc.message, errors=exc.extra.get("errors"), status=exc.status)
    context = {
        "user": actor,
        "plan": plan,
        "labels": IMPORT_LABELS,
        "data": base64.b64encode(data).decode(),
    }
    return render(request, "admin_import.html", context)


async def import_apply(request: Request) -> Response:
    actor, redirect = await _admin(request)
    if redirect:
        return redirect
    form = await request.form(max_part_size=3 * 1024 * 1024)
    try:
        data = base64.b64decode(str(form.get("data", "")), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    try:
        await unit_import.apply(actor, data, str(form.get("digest", ""))[:64])
    except ApiError as exc:
        if exc.status == 403:
            raise
        return await units_page(request, error=exc.message, errors=exc.extra.get("errors"), status=exc.status)
    return RedirectResponse("/admin/units?done=import_applied", status_code=303)


async def templates_page(
    request: Request, *, error: str | None = None, errors: list | None = None, status: int = 200
) -> Response:
    actor, redirect = await _admin(request)
    if redirect:
        return redirect
    done = None
    about = request.query_params.get("template", "")
    if about.isdigit() and (t := await Template.get_or_none(id=int(about))) is not None:
        done = _done(request, name=f"{t.title} (phiên bản {t.version})")
    context = {
        "user": actor,
        "entries": await templates_admin.versions(),
        "PERIOD_KIND_LABELS": PERIOD_KIND_LABELS,
        "done": done,
        "error": error,
        "errors": errors or [],
    }
    return render(request, "admin_templates.html", context, status_code=status)


async def publish_template(request: Request) -> Response:
    actor, redirect = await _admin(request)
    if redirect:
        return redirect
    raw = await _file(request)
    try:
        template = await templates_admin.publish(actor, templates_admin.parse_file(raw))
    except ApiError as exc:
        if exc.status == 403:
            raise
        return await templates_page(request, error=exc.message, errors=exc.extra.get("errors"), status=exc.status)
    return RedirectResponse(
        f"/admin/templates?done=template_published&template={template.id}#t-{template.code}", status_code=303
    )


routes = [
    Route("/admin", hub),
    Route("/admin/units", units_page),
    Route("/admin/units/new", new_unit, methods=["POST"]),
    Route("/admin/units/import", import_preview, methods=["POST"]),
    Route("/admin/units/import/apply", import_apply, methods=["POST"]),
    Route("/admin/units/{unit_id}", unit_page),
    Route("/admin/units/{unit_id}/rename", change_unit, methods=["POST"]),
    Route("/admin/units/{unit_id}/move", change_unit, methods=["POST"]),
    Route("/admin/units/{unit_id}/merge", change_unit, methods=["POST"]),
    Route("/admin/templates", templates_page),
    Route("/admin/templates", publish_template, methods=["POST"]),
]
