"""Pages: login, the unit tree with search, a unit and its checklists, one checklist."""
from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from sync.models import Answer, Checklist, Conflict

from .. import auth
from ..api.checklists import progress_of
from ..api.session import login_user, set_session_cookie
from ..api.units import units_in_scope
from ..errors import ApiError
from ..models import Template, TemplateItem, Unit
from .render import render, render_error


async def _user_or_login(request: Request):
    user = await auth.session_user(request)
    if user is None:
        return None, RedirectResponse("/login?next=" + request.url.path, status_code=303)
    return user, None


def _safe_next(value: str | None) -> str:
    # Only local paths: "//evil.example" or "https://…" would be an open redirect.
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/units"


async def home(request: Request):
    user = await auth.session_user(request)
    return RedirectResponse("/units" if user else "/login", status_code=303)


async def login_page(request: Request):
    if request.method == "GET":
        return render(request, "login.html", {"user": None, "next": _safe_next(request.query_params.get("next"))})
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    next_url = _safe_next(str(form.get("next", "")))
    if not username or not password:
        return render(request, "login.html", {"user": None, "next": next_url, "username": username,
                                              "error": "Vui lòng nhập tên đăng nhập và mật khẩu."}, 422)
    try:
        _user, token = await login_user(request, username, password)
    except ApiError as exc:
        return render(request, "login.html", {"user": None, "next": next_url, "username": username,
                                              "error": exc.message}, exc.status)
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(response, request, token)
    return response


async def logout_page(request: Request):
    await auth.end_session(request.cookies.get(auth.COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.COOKIE, path="/")
    return response


async def units_page(request: Request):
    user, redirect = await _user_or_login(request)
    if redirect:
        return redirect
    q = request.query_params.get("q", "")[:100]
    units = await units_in_scope(user, q)
    by_parent: dict[int | None, list[Unit]] = {}
    ids = {u.id for u in units}
    roots = []
    for u in units:
        if u.parent_id in ids and not q:  # type: ignore[attr-defined]
            by_parent.setdefault(u.parent_id, []).append(u)  # type: ignore[attr-defined]
        else:
            roots.append(u)
    counts: dict[str, int] = {}
    for u in units:
        counts[u.qms_status] = counts.get(u.qms_status, 0) + 1
    groups = [] if q else _district_groups(units, by_parent)
    return render(request, "units.html", {"user": user, "q": q, "roots": roots, "by_parent": by_parent,
                                          "count": len(units), "status_counts": counts, "groups": groups})


DONE_STATUSES = ("iso2015", "announced", "eiso")


def _district_groups(units: list[Unit], by_parent: dict) -> list[dict]:
    """Units that have children, each with the status counts of its subtree: what a chart draws."""
    groups = []
    for u in units:
        if not by_parent.get(u.id) or u.level == 0:
            continue
        counts: dict[str, int] = {}
        stack = [u]
        while stack:
            node = stack.pop()
            counts[node.qms_status] = counts.get(node.qms_status, 0) + 1
            stack.extend(by_parent.get(node.id, ()))
        total = sum(counts.values())
        groups.append({"unit": u, "counts": counts, "total": total,
                       "done": sum(counts.get(s, 0) for s in DONE_STATUSES)})
    return groups


async def unit_page(request: Request, error: str | None = None):
    user, redirect = await _user_or_login(request)
    if redirect:
        return redirect
    try:
        unit_id = int(request.path_params["unit_id"])
    except ValueError:
        return render_error(request, 404, "Không tìm thấy đơn vị")
    if not await auth.unit_in_scope(user, unit_id):
        return render_error(request, 404, "Không tìm thấy đơn vị")
    unit = await Unit.get(id=unit_id)
    parent = await Unit.get_or_none(id=unit.parent_id) if unit.parent_id else None  # type: ignore[attr-defined]
    children = await Unit.filter(parent_id=unit.id).order_by("annex_no", "id")
    checklists = await Checklist.filter(unit_id=unit.id).order_by("-updated_ms")
    templates_by_id = {t.id: t for t in await Template.all()}
    progress = await progress_of(checklists)
    from sync.periods import current_periods, today_vn

    return render(request, "unit.html", {
        "user": user, "unit": unit, "parent": parent, "children": children, "checklists": checklists,
        "templates": templates_by_id, "progress": progress, "error": error,
        "can_create": user.role in auth.CAN_CREATE_CHECKLISTS,
        "published": [t for t in templates_by_id.values() if t.published],
        "periods": current_periods(today_vn()),
    }, status_code=422 if error else 200)


async def unit_create_checklist(request: Request):
    """The page form for POST /api/checklists: same checks, then show the new checklist."""
    user, redirect = await _user_or_login(request)
    if redirect:
        return redirect
    from ..api.checklists import NewChecklist, create_checklist_for

    form = await request.form()
    try:
        body = NewChecklist(unit_id=request.path_params["unit_id"], template_id=form.get("template_id") or 0,
                            period=str(form.get("period", "")).strip() or "?")
        checklist = await create_checklist_for(user, body)
    except ApiError as exc:
        if exc.code == "exists":
            return RedirectResponse(f"/checklists/{exc.extra['checklist_id']}", status_code=303)
        if exc.status in (403, 404):
            return render_error(request, exc.status, exc.message)
        return await unit_page(request, error=exc.message)
    except ValueError:
        return await unit_page(request, error="Vui lòng chọn mẫu phiếu và kỳ báo cáo.")
    return RedirectResponse(f"/checklists/{checklist.id}", status_code=303)


async def checklist_page(request: Request):
    user, redirect = await _user_or_login(request)
    if redirect:
        return redirect
    checklist = await Checklist.get_or_none(id=request.path_params["checklist_id"])
    if checklist is None or not await auth.unit_in_scope(user, checklist.unit_id):  # type: ignore[attr-defined]
        return render_error(request, 404, "Không tìm thấy phiếu")
    template = await Template.get(id=checklist.template_id)  # type: ignore[attr-defined]
    unit = await Unit.get(id=checklist.unit_id)  # type: ignore[attr-defined]
    items = await TemplateItem.filter(template_id=template.id).order_by("position")
    answers = {a.item_key: a for a in await Answer.filter(checklist_id=checklist.id)}
    values = {k: json.loads(a.value) if a.value is not None else None for k, a in answers.items()}
    conflicts = await Conflict.filter(checklist_id=checklist.id, status="open")
    sections: list[tuple[str, list]] = []
    for item in items:
        if not sections or sections[-1][0] != item.section:
            sections.append((item.section, []))
        sections[-1][1].append(item)
    return render(request, "checklist.html", {
        "user": user, "checklist": checklist, "template": template, "unit": unit, "sections": sections,
        "answers": answers, "values": values, "conflicts": conflicts,
        "progress": (await progress_of([checklist]))[checklist.id],
    })


routes = [
    Route("/", home),
    Route("/login", login_page, methods=["GET", "POST"]),
    Route("/logout", logout_page, methods=["POST"]),
    Route("/units", units_page),
    Route("/units/{unit_id}", unit_page),
    Route("/units/{unit_id}/checklists", unit_create_checklist, methods=["POST"]),
    Route("/checklists/{checklist_id}", checklist_page),
]
