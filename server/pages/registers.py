"""Pages: the province's registers (/registers/...): announcement decisions and the administrative
procedures each unit brought into its system, searched ignoring diacritics, exported through /exports.
The procedures form POSTs (the Origin check guards it); a refusal comes back on the same page."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..errors import ApiError, parse_int, problem
from ..services import registers
from . import user_or_login
from .render import render

DONE = {"added": "Đã thêm thủ tục vào sổ.", "removed": "Đã bỏ thủ tục khỏi sổ."}


def _q(request: Request) -> str:
    return request.query_params.get("q", "")[:200]


async def index(request: Request) -> Response:
    _user, redirect = await user_or_login(request)
    return redirect or RedirectResponse("/registers/announcements", status_code=303)


async def announcements_page(request: Request) -> Response:
    user, redirect = await user_or_login(request)
    if redirect:
        return redirect
    q = _q(request)
    items, units = await registers.announcements(user, q)
    return render(
        request,
        "registers_announcements.html",
        {"user": user, "items": items, "units_in_scope": units, "q": q, "tab": "announcements"},
    )


def _iso(raw: str) -> str | None:
    """A dd/mm/yyyy field as an ISO date; anything else is passed on for the service to refuse."""
    raw = raw.strip()
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw)
    return f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}" if m else (raw or None)


async def _procedures_page(request: Request, user, form: dict, error: str | None, status: int) -> Response:
    q = _q(request)
    raw_unit = request.query_params.get("unit_id", "")
    unit_id = parse_int(raw_unit, "unit_id") if raw_unit else None
    rows = await registers.procedures(user, q, unit_id)
    editable = await registers.editable_units(user)
    done = DONE.get(request.query_params.get("done", ""))
    context = {
        "user": user,
        "rows": rows,
        "q": q,
        "unit_id": unit_id,
        "editable": editable,
        "editable_ids": {u.id for u in editable},
        "form": form,
        "error": error,
        "done": done,
        "tab": "procedures",
    }
    return render(request, "registers_procedures.html", context, status_code=status)


async def procedures_page(request: Request) -> Response:
    user, redirect = await user_or_login(request)
    if redirect:
        return redirect
    return await _procedures_page(request, user, {}, None, 200)


async def add_procedure(request: Request) -> Response:
    user, redirect = await user_or_login(request)
    if redirect:
        return redirect
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        unit_id = parse_int(form.get("unit_id", ""), "unit_id")
        await registers.add_procedure(
            user,
            unit_id,
            form.get("name", ""),
            form.get("code", ""),
            form.get("field", ""),
            _iso(form.get("in_system_on", "")),
            form.get("note", ""),
        )
    except ApiError as exc:
        if exc.status == 403:
            raise
        return await _procedures_page(request, user, form, exc.message, exc.status)
    return RedirectResponse(f"/registers/procedures?unit_id={unit_id}&done=added", status_code=303)


async def remove_procedure(request: Request) -> Response:
    user, redirect = await user_or_login(request)
    if redirect:
        return redirect
    try:
        procedure_id = parse_int(request.path_params["procedure_id"], "procedure_id")
    except ApiError:
        raise problem("procedure_not_found") from None
    p = await registers.remove_procedure(user, procedure_id)
    return RedirectResponse(f"/registers/procedures?unit_id={p.unit_id}&done=removed", status_code=303)  # type: ignore[attr-defined]


routes = [
    Route("/registers", index, methods=["GET"]),
    Route("/registers/announcements", announcements_page, methods=["GET"]),
    Route("/registers/procedures", procedures_page, methods=["GET"]),
    Route("/registers/procedures", add_procedure, methods=["POST"]),
    Route("/registers/procedures/{procedure_id}/remove", remove_procedure, methods=["POST"]),
]
