"""Pages: the province's calendar (/deadlines) for the admin: every rule with its source document, a
form to add one and one to change one. Forms POST (the Origin check guards them); a refused value comes
back on the same form with the catalogue's message. Phones get the change on their next sync."""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..catalogue import DEADLINE_RULE_ACTIONS_DONE, PERIOD_KIND_LABELS, PERIOD_OFFSET_LABELS
from ..errors import ApiError, parse_int, problem
from ..models import Deadline, Template, Unit
from ..services import deadline_rules
from ..services.deadline_rules import due_rule_text
from ..services.deadlines import source_line
from . import user_or_login
from .render import render, vn_date


def _rule_id(request: Request) -> int:
    try:
        return parse_int(request.path_params["rule_id"], "rule_id")
    except ApiError:
        raise problem("deadline_rule_not_found") from None


def _int_or_none(form: FormData, name: str) -> int | None:
    raw = str(form.get(name, "")).strip()
    return parse_int(raw, name) if raw else None


def _vn_date(form: FormData, name: str) -> str | None:
    """A dd/mm/yyyy field as an ISO date for the service (which says so in Vietnamese when it is not one)."""
    raw = str(form.get(name, "")).strip()
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw)
    return f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}" if m else (raw or None)


def values_from_form(form: FormData) -> dict[str, Any]:
    """The form as the service's values. The due date is asked as people think of it (a day of the month,
    a day and month of the year, or one date) and becomes the rule's recurrence here."""
    kind = str(form.get("period_kind", "once"))
    day, month = _int_or_none(form, "due_day"), _int_or_none(form, "due_month")
    due_date = _vn_date(form, "due_date")
    recurrence = ""
    if day is not None and not due_date:
        if kind == "month":
            recurrence = f"monthly:{day}"
        elif kind == "year" and month is not None:
            recurrence = f"yearly:{month:02d}-{day:02d}"
        else:
            raise problem("deadline_rule_recurrence_kind", field="recurrence")
    values: dict[str, Any] = {
        name: str(form.get(name, ""))
        for name in ("code", "title", "source_number", "source_issuer", "source_quote", "reference")
    }
    values.update(
        template_id=_int_or_none(form, "template_id"),
        unit_id=_int_or_none(form, "unit_id"),
        level=_int_or_none(form, "level"),
        period_kind=kind,
        period_offset=_int_or_none(form, "period_offset") or 0,
        recurrence=recurrence,
        due_date=due_date,
        binding=form.get("binding") == "1",
        source_date=_vn_date(form, "source_date"),
        starts_on=_vn_date(form, "starts_on"),
    )
    return values


async def _choices(rule: Deadline | None) -> dict[str, Any]:
    latest: dict[str, Template] = {}
    for t in await Template.all().order_by("version"):
        latest[t.code] = t
    # Rules are set on the province, an agency or a district; a rule set lower keeps its own unit.
    units = await Unit.filter(active=True, level__lte=1).order_by("level", "annex_no", "name")
    if rule is not None and rule.unit_id not in {u.id for u in units}:  # type: ignore[attr-defined]
        units.append(await Unit.get(id=rule.unit_id))  # type: ignore[attr-defined]
    return {
        "templates": sorted(latest.values(), key=lambda t: t.title),
        "units": units,
        "PERIOD_KIND_LABELS": PERIOD_KIND_LABELS,
        "PERIOD_OFFSET_LABELS": PERIOD_OFFSET_LABELS,
    }


async def rules_page(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    rules = await deadline_rules.list_rules(actor)
    done = None
    code, about = request.query_params.get("done", ""), request.query_params.get("rule", "")
    if code in DEADLINE_RULE_ACTIONS_DONE and about.isdigit():
        rule = await Deadline.get_or_none(id=int(about))
        if rule is not None:
            done = DEADLINE_RULE_ACTIONS_DONE[code].format(code=rule.code)
    rows = [{"rule": r, "due": due_rule_text(r), "source": source_line(r)} for r in rules]
    # One-off milestones (the roadmap: one per agency) are many and alike: listed apart, folded.
    milestones = [row for row in rows if row["rule"].due_date and not row["rule"].recurrence]
    context = {
        "user": actor,
        "rows": [row for row in rows if row not in milestones],
        "milestones": milestones,
        "done": done,
        "done_id": int(about) if done else None,
        "PERIOD_KIND_LABELS": PERIOD_KIND_LABELS,
    }
    return render(request, "deadlines.html", context)


def _form_of(rule: Deadline | None) -> dict[str, Any]:
    """The form's fields for a rule (empty for a new one)."""
    if rule is None:
        return {"binding": True, "period_kind": "year", "period_offset": -1}
    kind, _, arg = rule.recurrence.partition(":")
    day, month = (
        (arg, None) if kind == "monthly" else tuple(reversed(arg.split("-"))) if kind == "yearly" else (None, None)
    )
    return {
        **{f: getattr(rule, f) for f in ("code", "title", "source_number", "source_issuer", "source_quote")},
        "reference": rule.reference,
        "template_id": rule.template_id,  # type: ignore[attr-defined]
        "unit_id": rule.unit_id,  # type: ignore[attr-defined]
        "level": rule.level,
        "period_kind": rule.period_kind,
        "period_offset": rule.period_offset,
        "due_day": int(day) if day else None,
        "due_month": int(month) if month else None,
        "due_date": vn_date(rule.due_date),
        "binding": rule.binding,
        "source_date": vn_date(rule.source_date),
        "starts_on": vn_date(rule.starts_on),
    }


async def _form_page(request: Request, actor, rule: Deadline | None, form: dict, error: str | None, status: int):
    return render(
        request,
        "deadline_form.html",
        {"user": actor, "rule": rule, "f": form, "error": error, **await _choices(rule)},
        status_code=status,
    )


async def new_rule(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    deadline_rules.require_admin(actor)
    if request.method == "GET":
        return await _form_page(request, actor, None, _form_of(None), None, 200)
    form = await request.form()
    try:
        rule = await deadline_rules.create_rule(actor, values_from_form(form))
    except ApiError as exc:
        if exc.status in (403,):
            raise
        return await _form_page(request, actor, None, dict(form), exc.message, exc.status)
    return RedirectResponse(f"/deadlines?done=created&rule={rule.id}#r-{rule.id}", status_code=303)


async def edit_rule(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    rule = await deadline_rules.rule_for(actor, _rule_id(request))
    if request.method == "GET":
        return await _form_page(request, actor, rule, _form_of(rule), None, 200)
    form = await request.form()
    try:
        rule = await deadline_rules.update_rule(actor, rule.id, values_from_form(form))
    except ApiError as exc:
        if exc.status in (403,):
            raise
        return await _form_page(request, actor, rule, dict(form), exc.message, exc.status)
    return RedirectResponse(f"/deadlines?done=changed&rule={rule.id}#r-{rule.id}", status_code=303)


routes = [
    Route("/deadlines", rules_page),
    Route("/deadlines/new", new_rule, methods=["GET", "POST"]),
    Route("/deadlines/{rule_id}", edit_rule, methods=["GET", "POST"]),
]
