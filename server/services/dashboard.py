"""The dashboard: where every unit under the caller stands, in one read (/dashboard and /api/dashboard).

Who: the provincial admin (the whole province), reviewers and viewers (their own unit's subtree, from
`auth.scope_unit_ids`); officials are refused (`forbidden`). `unit_id` narrows it to one unit of that
scope (province → district → unit: the drill-down); outside it answers `unit_not_found`.

What (every figure from `progress.py`, `deadlines.py` and `review.py`, none computed here):
- the roadmap per milestone year and per district: units per derived status against the target;
- the monthly-report grid: one row per unit directly below the focus (and the focus itself when it is
  not the province), one column per month, plus the totals per month over the whole subtree;
- what is overdue today (binding deadline rules) and what waits for review (deciders only).
"""

from __future__ import annotations

from datetime import date

from sync.periods import period_label, today_vn, valid_period
from sync.vocabulary import DECIDERS

from ..errors import problem
from ..models import Deadline, Unit, User
from . import deadlines, progress, review
from .tree import subtree_ids
from .units import unit_in_scope

DASHBOARD_ROLES = ("admin", "reviewer", "viewer")
MONTHS_DEFAULT, MONTHS_MAX = 6, 12
OVERDUE_SHOWN = 20  # units listed; the rest are counted (each unit's page lists its own)
REVIEW_SHOWN = 10


def _unit(u: Unit) -> dict:
    return {"id": u.id, "name": u.name, "code": u.code, "level": u.level, "kind": u.kind}


def _status(s: progress.UnitStatus) -> dict:
    return {
        "status": s.status,
        "since": s.since,
        "checklist_id": s.checklist_id,
        "template_code": s.template_code,
        "period": s.period,
    }


async def _crumbs(user: User, focus: Unit) -> list[dict]:
    """The units from the top of the caller's scope down to the focus's parent: the way back up."""
    scope_top = user.unit_id  # type: ignore[attr-defined]
    out: list[dict] = []
    uid = focus.parent_id  # type: ignore[attr-defined]
    while uid is not None and focus.id != scope_top:
        u = await Unit.get(id=uid)
        out.append({"id": u.id, "name": u.name})
        if u.id == scope_top:
            break
        uid = u.parent_id  # type: ignore[attr-defined]
    return list(reversed(out))


async def _overdue(today: date, ids: list[int], names: dict[int, str]) -> dict:
    """What is overdue today, one line per unit (the most items first) with its oldest item."""
    items = [i for i in await deadlines.due_items(today, ids) if i.status == "overdue"]
    by_unit: dict[int, list[deadlines.DueItem]] = {}
    for i in items:
        by_unit.setdefault(i.unit_id, []).append(i)
    order = sorted(by_unit, key=lambda u: (-len(by_unit[u]), min(i.due for i in by_unit[u]), names.get(u, "")))
    shown = order[:OVERDUE_SHOWN]
    oldest = {u: min(by_unit[u], key=lambda i: (i.due, i.rule_id)) for u in shown}
    rules = {r.id: r for r in await Deadline.filter(id__in={i.rule_id for i in oldest.values()})}
    return {
        "count": len(items),
        "unit_count": len(by_unit),
        "units": [
            {
                "unit_id": u,
                "unit_name": names.get(u, ""),
                "count": len(by_unit[u]),
                "oldest": {
                    "title": rules[oldest[u].rule_id].title,
                    "period": oldest[u].period,
                    "period_label": period_label(oldest[u].period),
                    "due": oldest[u].due,
                    "days_late": -oldest[u].days_left,
                },
            }
            for u in shown
        ],
    }


def months_param(raw: int | None) -> int:
    if raw is None:
        return MONTHS_DEFAULT
    if not 1 <= raw <= MONTHS_MAX:
        raise problem("field_out_of_range", field="months", minimum=1, maximum=MONTHS_MAX)
    return raw


def until_param(raw: str | None, today: date) -> date:
    """The grid's last month ("2026-11"), by default today's: as the first day of that month."""
    if not raw:
        return today.replace(day=1)
    if not valid_period("month", raw):
        raise problem("field_invalid", field="until", detail="cần một tháng dạng YYYY-MM, ví dụ 2026-11")
    return date(int(raw[:4]), int(raw[5:7]), 1)


async def dashboard(
    user: User,
    unit_id: int | None = None,
    months: int | None = None,
    until: str | None = None,
    today: date | None = None,
) -> dict:
    """Everything the dashboard shows (see the module's docstring); dates as `date`."""
    if user.role not in DASHBOARD_ROLES:
        raise problem("forbidden")
    n_months = months_param(months)
    today = today or today_vn()
    last_month = until_param(until, today)
    focus = await unit_in_scope(user, user.unit_id if unit_id is None else unit_id, field="unit_id")  # type: ignore[attr-defined]
    everyone = list(
        await Unit.filter(id__in=list(await subtree_ids(focus.id)), active=True).order_by("level", "annex_no", "id")
    )
    # The province's root reports to no one and is no target of the roadmap.
    units = [u for u in everyone if u.level > 0]
    ids = [u.id for u in units]
    statuses = await progress.statuses_of(ids)
    milestones = await progress.milestones_of(units)
    roadmap = progress.roadmap_progress(units, statuses, milestones)

    month_list = progress.months_back(last_month, n_months)
    grid = await progress.timeliness_grid(ids, month_list, today)
    children = [u for u in everyone if u.parent_id == focus.id]  # type: ignore[attr-defined]
    has_children = {u.parent_id for u in everyone}  # type: ignore[attr-defined]
    rows_units = ([focus] if focus.level > 0 else []) + children
    rows = [
        {
            "unit": {**_unit(u), "has_children": u.id in has_children and u.id != focus.id},
            "progress": _status(statuses.get(u.id, progress.NOT_STARTED)),
            "milestone": milestones[u.id].due if u.id in milestones else None,
            "cells": [
                {
                    "period": m,
                    "status": (c := grid[(u.id, m)]).status,
                    "due": c.due,
                    "sent_on": c.sent_on,
                    "checklist_id": c.checklist_id,
                }
                for m in month_list
            ],
        }
        for u in rows_units
        if u.level > 0
    ]
    per_month = []
    for m in month_list:
        counts = {s: 0 for s in progress.TIMELINESS}
        for uid in ids:
            counts[grid[(uid, m)].status] += 1
        per_month.append({"period": m, "label": period_label(m), "counts": counts})

    names = {u.id: u.name for u in units}
    overdue = await _overdue(today, ids, names)
    waiting = None
    if user.role in DECIDERS:
        f = review.QueueFilters(unit_id=None if focus.id == user.unit_id else focus.id, status="submitted")  # type: ignore[attr-defined]
        q = await review.queue(user, f)
        waiting = {
            "count": q["counts"]["by_status"].get("submitted", 0),
            "items": [
                {
                    "id": c["id"],
                    "unit_name": c["unit"]["name"],
                    "template_title": c["template"]["title"],
                    "period": c["period"],
                    "period_label": period_label(c["period"]),
                    "due": date.fromisoformat(c["due"]) if c["due"] else None,
                }
                for c in q["checklists"][:REVIEW_SHOWN]
            ],
        }
    return {
        "today": today,
        "focus": _unit(focus),
        "crumbs": await _crumbs(user, focus),
        "months": [{"period": m, "label": period_label(m)} for m in month_list],
        "until": month_list[-1],
        "unit_count": len(units),
        "total": progress.counts_of(ids, statuses),
        "roadmap": roadmap,
        "grid": {"rows": rows, "per_month": per_month},
        "overdue": overdue,
        "review": waiting,
    }
