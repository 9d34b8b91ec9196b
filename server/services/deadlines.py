"""Which deadlines apply to a unit, and their next due date, counted in Asia/Ho_Chi_Minh.

A unit sees the deadlines set on it and on every unit above it, limited to its level when a deadline
names one. `deadlines_of` checks the caller's scope first.
"""

from __future__ import annotations

import calendar
from datetime import date

from sync.periods import TIMEZONE, today_vn

from ..models import Deadline, Unit, User
from .tree import ancestor_ids
from .units import unit_in_scope

__all__ = ["deadlines_for", "deadlines_of", "next_due", "today_vn"]


def next_due(deadline: Deadline, today: date) -> date | None:
    """The first due date on or after today (one-off deadlines keep their date, even when past)."""
    kind, _, arg = deadline.recurrence.partition(":")
    if kind == "monthly":
        day = int(arg)
        year, month = today.year, today.month
        for _ in range(2):
            due = date(year, month, min(day, calendar.monthrange(year, month)[1]))
            if due >= today:
                return due
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if kind == "yearly":
        month, day = (int(x) for x in arg.split("-"))
        due = date(today.year, month, day)
        return due if due >= today else date(today.year + 1, month, day)
    return deadline.due_date


async def deadlines_for(unit: Unit, today: date) -> list[dict]:
    above = await ancestor_ids(unit.id)
    rows = await Deadline.filter(unit_id__in=above).prefetch_related("template")
    out = []
    for d in rows:
        if d.level is not None and d.level != unit.level:
            continue
        due = next_due(d, today)
        if due is None:
            continue
        out.append(
            {
                "code": d.code,
                "title": d.title,
                "due": due.isoformat(),
                "days_left": (due - today).days,
                "recurrence": d.recurrence,
                "reference": d.reference,
                "template_code": d.template.code if d.template else None,
            }
        )
    return sorted(out, key=lambda x: x["due"])


async def deadlines_of(user: User, unit_id: int | None = None, today: date | None = None) -> dict:
    """The deadlines of the user's unit (or `unit_id` in scope), soonest first, with today and the zone."""
    unit = await unit_in_scope(user, user.unit_id if unit_id is None else unit_id)  # type: ignore[attr-defined]
    today = today or today_vn()
    return {"today": today.isoformat(), "timezone": TIMEZONE, "deadlines": await deadlines_for(unit, today)}
