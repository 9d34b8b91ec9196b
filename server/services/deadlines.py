"""Which deadlines a unit owes, for which period, and whether it is done, counted in Asia/Ho_Chi_Minh.

A deadline rule (`server.models.Deadline`, edited by the province: `deadline_rules.py`) applies to the
subtree of its unit, limited to one level when it names one, and only when it binds this province. Each
due date of a rule asks for one period of its template: the due date's own period moved by the rule's
offset (an annual report due 29/06/2027 covers 2026). An item is done when that template AND that period
was submitted or approved; a missed one stays overdue until then (back to OVERDUE_LOOKBACK periods, or
the rule's `starts_on`). `due_items` is what the reminders call; `deadlines_of` is what phones read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sync.models import Checklist
from sync.periods import (
    DUE_SOON_DAYS,
    OVERDUE_LOOKBACK,
    TIMEZONE,
    due_dates_around,
    period_due_on,
    period_label,
    today_vn,
)

from ..catalogue import DUE_STATUS_LABELS
from ..models import Deadline, Template, Unit, User
from .units import unit_in_scope

__all__ = ["DUE_SOON_DAYS", "DUE_STATUSES", "DueItem", "deadlines_of", "due_items", "rules_version", "today_vn"]

DUE_STATUSES = ("upcoming", "due", "overdue", "done")
# A checklist in one of these states counts as handed in for its period.
HANDED_IN = ("submitted", "approved")


@dataclass(frozen=True)
class DueItem:
    rule_id: int
    unit_id: int
    template_id: int | None  # the rule's template (latest version); any version of it counts as done
    period: str
    due: date
    status: str  # one of DUE_STATUSES
    days_left: int  # negative when overdue

    @property
    def due_date(self) -> date:
        """The same as `due` (the last day allowed), under the name the reminders may use."""
        return self.due


def _status(done: bool, days_left: int) -> str:
    if done:
        return "done"
    if days_left < 0:
        return "overdue"
    return "due" if days_left <= DUE_SOON_DAYS else "upcoming"


def rule_dates(rule: Deadline, today: date) -> list[tuple[date, str]]:
    """(due date, period asked for) of a rule around today: missed ones first, then the next one."""
    if rule.recurrence:
        back = OVERDUE_LOOKBACK.get(rule.recurrence.partition(":")[0], 0)
        dates = due_dates_around(rule.recurrence, today, back)
        if rule.starts_on:
            dates = [d for d in dates if d >= rule.starts_on]
    elif rule.due_date:
        dates = [rule.due_date]
    else:
        return []  # the document fixes no day and the province has not set one
    return [(d, period_due_on(rule.period_kind, rule.period_offset, d)) for d in dates]


def _applies(rule: Deadline, unit: Unit, chain: list[int]) -> bool:
    return rule.unit_id in chain and (rule.level is None or rule.level == unit.level)  # type: ignore[attr-defined]


async def due_items(today: date, unit_ids: list[int] | set[int] | None = None) -> list[DueItem]:
    """What each unit (all active reporting units, or `unit_ids`) owes around `today`: for every binding
    rule, the missed periods not yet handed in (overdue) and the next due date (whatever its status).
    Sorted by unit, then due date."""
    rules = await Deadline.filter(binding=True)
    if not rules:
        return []
    units_q = Unit.filter(active=True, parent_id__isnull=False)  # the province's root reports to no one
    if unit_ids is not None:
        units_q = units_q.filter(id__in=list(unit_ids))
    units = await units_q
    parents = dict(await Unit.all().values_list("id", "parent_id"))
    codes = dict(await Template.all().values_list("id", "code"))
    handed_in = {
        (u, codes.get(t), p)
        for u, t, p in await Checklist.filter(unit_id__in=[u.id for u in units], status__in=HANDED_IN).values_list(
            "unit_id", "template_id", "period"
        )
    }
    dates = {r.id: rule_dates(r, today) for r in rules}
    out: list[DueItem] = []
    for unit in units:
        chain, uid = [], unit.id
        while uid is not None and uid not in chain:
            chain.append(uid)
            uid = parents.get(uid)
        for rule in rules:
            if not _applies(rule, unit, chain):
                continue
            code = codes.get(rule.template_id)  # type: ignore[attr-defined]
            for due, period in dates[rule.id]:
                done = code is not None and (unit.id, code, period) in handed_in
                days_left = (due - today).days
                if done and days_left < 0 and rule.recurrence:
                    continue  # a past period handed in: nothing left to show
                item = DueItem(rule.id, unit.id, rule.template_id, period, due, _status(done, days_left), days_left)  # type: ignore[attr-defined]
                out.append(item)
    out.sort(key=lambda i: (i.unit_id, i.due, i.rule_id))
    return out


async def rules_version() -> str:
    """When a rule last changed: the phone keeps its copy of /api/deadlines keyed by it."""
    latest = await Deadline.all().order_by("-updated_at").first()
    return latest.updated_at.isoformat() if latest and latest.updated_at else ""


def item_json(item: DueItem, rule: Deadline, template_code: str | None) -> dict:
    return {
        "rule_id": item.rule_id,
        "code": rule.code,
        "title": rule.title,
        "template_id": item.template_id,
        "template_code": template_code,
        "period": item.period,
        "period_label": period_label(item.period),
        "due": item.due.isoformat(),
        "days_left": item.days_left,
        "status": item.status,
        "status_label": status_label(item),
        "recurrence": rule.recurrence,
        "source": source_line(rule),
        "reference": rule.reference,
    }


def status_label(item: DueItem) -> str:
    key = "today" if item.status == "due" and item.days_left == 0 else item.status
    return DUE_STATUS_LABELS[key].format(n=abs(item.days_left))


def source_line(rule: Deadline) -> str:
    """ "Quyết định 474/QĐ-UBND ngày 10/07/2020 của Chủ tịch UBND tỉnh Kon Tum: «…»" as one line."""
    parts = [rule.source_number]
    if rule.source_date:
        parts.append("ngày " + rule.source_date.strftime("%d/%m/%Y"))
    if rule.source_issuer:
        parts.append("của " + rule.source_issuer)
    line = " ".join(p for p in parts if p)
    return f"{line}: «{rule.source_quote}»" if rule.source_quote else line


async def deadlines_of(user: User, unit_id: int | None = None, today: date | None = None) -> dict:
    """The deadlines of the user's unit (or `unit_id` in scope): overdue first, then soonest; with today,
    the zone and the rules' version (the phone's cache key)."""
    unit = await unit_in_scope(user, user.unit_id if unit_id is None else unit_id)  # type: ignore[attr-defined]
    today = today or today_vn()
    items = await due_items(today, [unit.id])
    rules = {r.id: r for r in await Deadline.filter(id__in=[i.rule_id for i in items])}
    codes = dict(
        await Template.filter(id__in=[i.template_id for i in items if i.template_id]).values_list("id", "code")
    )
    return {
        "today": today.isoformat(),
        "timezone": TIMEZONE,
        "unit_id": unit.id,
        "rules_version": await rules_version(),
        "deadlines": [item_json(i, rules[i.rule_id], codes.get(i.template_id)) for i in items],
    }
