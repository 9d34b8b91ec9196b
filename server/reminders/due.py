"""What is due where: `due_items(today, unit_ids)`.

wt-deadlines provides the calendar's own `server.services.deadlines.due_items` with this signature; until
it lands this thin adapter over today's deadline rows stands in (monthly and yearly rules give the
current and previous occurrence, so a missed one stays overdue; a one-off keeps its date).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sync.models import Checklist

from ..models import Deadline, Unit

DONE_STATUSES = ("submitted", "approved")


@dataclass(frozen=True)
class DueItem:
    rule_id: int
    unit_id: int
    template_id: int | None
    period: str
    due: date
    status: str  # upcoming / due / overdue / done
    days_left: int


def _month_due(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _occurrences(d: Deadline, today: date) -> list[tuple[str, date]]:
    kind, _, arg = d.recurrence.partition(":")
    if kind == "monthly":
        py, pm = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
        return [(f"{y:04d}-{m:02d}", _month_due(y, m, int(arg))) for y, m in ((py, pm), (today.year, today.month))]
    if kind == "yearly":
        month, day = (int(x) for x in arg.split("-"))
        return [(f"{y:04d}", date(y, month, day)) for y in (today.year - 1, today.year)]
    return [("once", d.due_date)] if d.due_date else []


def _status(due: date, today: date, done: bool) -> str:
    if done:
        return "done"
    return "upcoming" if due > today else "due" if due == today else "overdue"


async def _adapter(today: date, unit_ids=None) -> list[DueItem]:
    units = Unit.filter(active=True)
    if unit_ids is not None:
        units = units.filter(id__in=list(unit_ids))
    unit_rows = await units.values_list("id", "parent_id", "level")
    parents = dict(await Unit.all().values_list("id", "parent_id"))
    rules = await Deadline.all()
    done = {
        (u, t, p)
        for u, t, p in await Checklist.filter(status__in=DONE_STATUSES).values_list("unit_id", "template_id", "period")
    }
    out: list[DueItem] = []
    for uid, _parent, level in unit_rows:
        chain, cur = set(), uid
        while cur is not None and cur not in chain:
            chain.add(cur)
            cur = parents.get(cur)
        for rule in rules:
            if rule.unit_id not in chain or (rule.level is not None and rule.level != level):
                continue
            for period, due in _occurrences(rule, today):
                finished = (uid, rule.template_id, period) in done
                if due < today and finished:
                    continue  # an old occurrence that was done: nothing to show
                status = _status(due, today, finished)
                out.append(DueItem(rule.id, uid, rule.template_id, period, due, status, (due - today).days))
    return out


async def due_items(today: date, unit_ids=None) -> list[DueItem]:
    """The calendar's due items when wt-deadlines' function exists, this adapter's otherwise."""
    from ..services import deadlines

    real = getattr(deadlines, "due_items", None)
    return await (real or _adapter)(today, unit_ids)
