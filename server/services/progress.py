"""Where every unit stands, computed from the data: its QMS status, its monthly reports' timeliness and the
roadmap it is measured against. The one home of these figures: the dashboard, the unit page and the
province's notices read them from here, never from the demo `unit.qms_status` column.

**Status of a unit** (`derive_status`, pure; `statuses_of` reads the rows). Only APPROVED checklists
count: what a unit typed but no reviewer approved changes nothing. From the lowest to the highest:

- ``not_started``: no approved checklist. It reads "Chưa có thông tin": a unit may well apply a system
  nobody has declared here yet (issue 13), so it is no evidence of "not applying".
- ``building``: at least one approved checklist (any template), none of those below. Since the day the
  earliest of them was approved.
- ``converted``: an approved ``conversion`` checklist answers ``announced`` = Có AND gives
  ``announcement_date``: the system was announced conformant to TCVN ISO 9001:2015. Since that date.
- ``announced``: an approved ``rollout`` checklist answers ``s12_announced`` = Có AND gives
  ``s12_announcement_date``: the e-ISO system was announced (công bố, step 12 of QĐ 474 §III.2). Since
  that date. This is what the roadmap counts as done.
- ``applying``: announced, and an approved ``self_assessment`` or ``annual_report`` of a year not before
  the announcement's year was approved on or after the announcement date: the system is applied and kept
  up. Since the day that report was approved.

An announcement without its date is not counted (the date is what the province records). The highest
status wins; among checklists that give the same one, the earliest date (then the smallest id). The
result names the checklist that set it (id, template, period) and the date. A checklist reopened after
approval is a draft again and stops counting.

**Monthly-report timeliness** (`timeliness`, pure; `timeliness_grid`). The deadline is the binding rule
for the ``monthly_report`` template that applies to the unit (its unit or an ancestor, and its level when
the rule names one), read with `sync.periods.due_date_of`: the report for "2026-11" under "monthly:21" is
due 21/11/2026 (the last day allowed). A report counts as sent at its FIRST applied ``submit`` (the edit
log: the time the official pressed "Nộp", corrected for the phone's clock, never later than the server
received it), even when it was later returned for corrections; a checklist submitted or approved with no
submit in the log (loaded data) counts from its last status change. Counted in Asia/Ho_Chi_Minh:

- ``on_time``: sent on or before the due date;   ``late``: sent after it;
- ``missing``: not sent and the due date is past; ``not_yet_due``: not sent, due date today or later;
- ``handed_in`` / ``no_deadline``: no binding rule applies (sent / not sent), so nothing to judge.

**Roadmap targets** are the deadline rules themselves (no copy): a *milestone* is a binding rule of the
``rollout`` template with a fixed due date and no recurrence (Kon Tum: one per provincial agency by
31/12/2025, one per district by 31/12/2027, one for every commune by 31/12/2030; `seed/data/deadlines.csv`
``KT-ROADMAP-*``). A unit's milestone is the earliest such rule that applies to it; units are grouped by
the milestone's year, and a group's target is its number of units. Progress (`roadmap_progress`) counts
the units of each group (and of each district's subtree) per derived status; done = announced or applying.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sync.models import Answer, Checklist, ChecklistAlias, Edit
from sync.periods import VN, due_date_of, valid_period
from sync.rows import loads

from ..models import Deadline, Template, Unit

__all__ = [
    "DONE_STATUSES",
    "PROGRESS_STATUSES",
    "TIMELINESS",
    "Cell",
    "ChecklistFacts",
    "Milestone",
    "UnitStatus",
    "counts_of",
    "derive_status",
    "milestones_of",
    "months_back",
    "roadmap_progress",
    "statuses_of",
    "timeliness",
    "timeliness_grid",
]

# Lowest to highest: the order is the rank.
PROGRESS_STATUSES = ("not_started", "building", "converted", "announced", "applying")
DONE_STATUSES = ("announced", "applying")  # what the roadmap counts as reached
TIMELINESS = ("on_time", "late", "missing", "not_yet_due", "handed_in", "no_deadline")
HANDED_IN = ("submitted", "approved")

ROLLOUT, CONVERSION, MONTHLY = "rollout", "conversion", "monthly_report"
APPLYING_REPORTS = ("self_assessment", "annual_report")
# (template, the yes/no item, the date item) of each announcement a status rests on
ANNOUNCEMENTS = {
    ROLLOUT: ("announced", "s12_announced", "s12_announcement_date"),
    CONVERSION: ("converted", "announced", "announcement_date"),
}
# The answers the rule reads, so the query loads only them.
ANSWER_KEYS = tuple(k for _s, yes, day in ANNOUNCEMENTS.values() for k in (yes, day))


@dataclass(frozen=True)
class ChecklistFacts:
    """What the status rule needs of one approved checklist."""

    id: str
    template_code: str
    period: str
    approved_on: date | None  # the day it was approved (Asia/Ho_Chi_Minh)
    answers: dict[str, Any] = field(default_factory=dict)  # item key -> value (only ANSWER_KEYS)


@dataclass(frozen=True)
class UnitStatus:
    status: str  # one of PROGRESS_STATUSES
    since: date | None = None
    checklist_id: str | None = None
    template_code: str | None = None
    period: str | None = None

    @property
    def done(self) -> bool:
        return self.status in DONE_STATUSES


NOT_STARTED = UnitStatus("not_started")


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _year(period: str) -> int | None:
    return int(period[:4]) if valid_period("year", period) or valid_period("month", period) else None


def derive_status(rows: Iterable[ChecklistFacts]) -> UnitStatus:
    """A unit's status from its APPROVED checklists (the rule in this module's docstring)."""
    candidates: list[UnitStatus] = []
    announced: list[UnitStatus] = []
    rows = list(rows)
    for r in rows:
        if r.approved_on is not None:
            candidates.append(UnitStatus("building", r.approved_on, r.id, r.template_code, r.period))
        rule = ANNOUNCEMENTS.get(r.template_code)
        if rule:
            status, yes, day_key = rule
            day = _day(r.answers.get(day_key))
            if r.answers.get(yes) == "yes" and day is not None:
                found = UnitStatus(status, day, r.id, r.template_code, r.period)
                candidates.append(found)
                if status == "announced":
                    announced.append(found)
    if announced:
        first = min(announced, key=lambda s: (s.since, s.checklist_id))
        for r in rows:
            year = _year(r.period)
            if (
                r.template_code in APPLYING_REPORTS
                and r.approved_on is not None
                and r.approved_on >= first.since  # type: ignore[operator]
                and year is not None
                and year >= first.since.year  # type: ignore[union-attr]
            ):
                candidates.append(UnitStatus("applying", r.approved_on, r.id, r.template_code, r.period))
    if not candidates:
        return NOT_STARTED
    return min(
        candidates,
        key=lambda s: (-PROGRESS_STATUSES.index(s.status), s.since or date.max, s.checklist_id or ""),
    )


def _vn_day(ms: int | None) -> date | None:
    return datetime.fromtimestamp(ms / 1000, VN).date() if ms else None


async def statuses_of(unit_ids: Iterable[int]) -> dict[int, UnitStatus]:
    """Every unit's derived status (units with nothing approved are `not_started`)."""
    ids = list(unit_ids)
    out = {uid: NOT_STARTED for uid in ids}
    if not ids:
        return out
    codes = dict(await Template.all().values_list("id", "code"))
    rows = await Checklist.filter(unit_id__in=ids, status="approved").values_list(
        "id", "unit_id", "template_id", "period", "status_ms"
    )
    wanted = [cid for cid, _u, t, _p, _ms in rows if codes.get(t) in ANNOUNCEMENTS]
    answers: dict[str, dict[str, Any]] = {}
    if wanted:
        for cid, key, value in await Answer.filter(checklist_id__in=wanted, item_key__in=ANSWER_KEYS).values_list(
            "checklist_id", "item_key", "value"
        ):
            answers.setdefault(cid, {})[key] = loads(value)
    facts: dict[int, list[ChecklistFacts]] = {}
    for cid, uid, tid, period, status_ms in rows:
        code = codes.get(tid, "")
        facts.setdefault(uid, []).append(ChecklistFacts(cid, code, period, _vn_day(status_ms), answers.get(cid, {})))
    for uid, found in facts.items():
        out[uid] = derive_status(found)
    return out


# ------------------------------------------------------------------------------------ timeliness


def timeliness(sent_on: date | None, due: date | None, today: date) -> str:
    """One cell of the grid (the rule in this module's docstring)."""
    if due is None:
        return "handed_in" if sent_on else "no_deadline"
    if sent_on is not None:
        return "on_time" if sent_on <= due else "late"
    return "missing" if today > due else "not_yet_due"


@dataclass(frozen=True)
class Cell:
    unit_id: int
    month: str  # "2026-11"
    status: str  # one of TIMELINESS
    due: date | None
    sent_on: date | None
    checklist_id: str | None


def months_back(today: date, n: int) -> list[str]:
    """The `n` months ending with today's, oldest first: ["2026-06", …, "2026-11"]."""
    index = today.year * 12 + today.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - n + 1, index + 1)]


def _chain(uid: int, parents: dict[int, int | None]) -> list[int]:
    chain: list[int] = []
    cur: int | None = uid
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = parents.get(cur)
    return chain


def _rule_applies(rule: Deadline, unit_level: int, chain: list[int]) -> bool:
    return rule.unit_id in chain and (rule.level is None or rule.level == unit_level)  # type: ignore[attr-defined]


async def _rules_of(code: str) -> list[Deadline]:
    template_ids = await Template.filter(code=code).values_list("id", flat=True)
    return list(await Deadline.filter(binding=True, template_id__in=list(template_ids)).order_by("id"))


def _action(payload: str) -> str:
    try:
        data = json.loads(payload)
    except ValueError:
        return ""
    return data.get("action", "") if isinstance(data, dict) else ""


async def _first_submits(checklist_ids: list[str]) -> dict[str, int]:
    """Each checklist's first applied submit, in effective (clock-corrected) milliseconds."""
    if not checklist_ids:
        return {}
    canonical = {
        a: c
        for a, c in await ChecklistAlias.filter(checklist_id__in=checklist_ids).values_list("alias_id", "checklist_id")
    }
    named = list(checklist_ids) + list(canonical)
    out: dict[str, int] = {}
    for e in await Edit.filter(checklist_id__in=named, kind="status", outcome="applied"):
        if _action(e.payload) != "submit":
            continue
        cid = canonical.get(e.checklist_id, e.checklist_id)
        out[cid] = min(out.get(cid, e.effective_ms), e.effective_ms)
    return out


async def timeliness_grid(unit_ids: Iterable[int], months: list[str], today: date) -> dict[tuple[int, str], Cell]:
    """The monthly report of every unit for every month: {(unit_id, "2026-11"): Cell}."""
    units = {u.id: u for u in await Unit.filter(id__in=list(unit_ids))}
    parents = dict(await Unit.all().values_list("id", "parent_id"))
    rules = [r for r in await _rules_of(MONTHLY) if r.recurrence.startswith("monthly") or r.due_date]
    template_ids = await Template.filter(code=MONTHLY).values_list("id", flat=True)
    checklists = await Checklist.filter(
        unit_id__in=list(units), template_id__in=list(template_ids), period__in=months
    ).values_list("id", "unit_id", "period", "status", "status_ms")
    submits = await _first_submits([c[0] for c in checklists])
    sent: dict[tuple[int, str], tuple[int, str]] = {}  # earliest sending per (unit, month), and which checklist
    for cid, uid, period, status, status_ms in checklists:
        ms = submits.get(cid) or (status_ms if status in HANDED_IN else None)
        if ms and ((uid, period) not in sent or (ms, cid) < sent[(uid, period)]):
            sent[(uid, period)] = (ms, cid)
    opened = {(uid, period): cid for cid, uid, period, _s, _ms in checklists}
    grid: dict[tuple[int, str], Cell] = {}
    for uid, unit in units.items():
        chain = _chain(uid, parents)
        applying = [r for r in rules if _rule_applies(r, unit.level, chain)]
        for month in months:
            dues = [
                d
                for r in applying
                if (d := due_date_of(r.recurrence, r.period_kind, r.period_offset, month, r.due_date)) is not None
            ]
            due = min(dues) if dues else None
            ms, cid = sent.get((uid, month), (None, opened.get((uid, month))))
            sent_on = _vn_day(ms)
            grid[(uid, month)] = Cell(uid, month, timeliness(sent_on, due, today), due, sent_on, cid)
    return grid


# ------------------------------------------------------------------------------------ roadmap


@dataclass(frozen=True)
class Milestone:
    rule_id: int
    code: str
    title: str
    due: date
    reference: str

    @property
    def year(self) -> int:
        return self.due.year


async def milestones_of(units: Iterable[Unit]) -> dict[int, Milestone]:
    """Each unit's roadmap milestone (the earliest binding one-off rule of the rollout template that
    applies to it); units without one are left out."""
    rules = [r for r in await _rules_of(ROLLOUT) if r.due_date and not r.recurrence]
    if not rules:
        return {}
    parents = dict(await Unit.all().values_list("id", "parent_id"))
    out: dict[int, Milestone] = {}
    for unit in units:
        chain = _chain(unit.id, parents)
        found = [r for r in rules if _rule_applies(r, unit.level, chain)]
        if found:
            r = min(found, key=lambda r: (r.due_date, r.id))
            out[unit.id] = Milestone(r.id, r.code, r.title, r.due_date, r.reference)  # type: ignore[arg-type]
    return out


def counts_of(ids: Iterable[int], statuses: dict[int, UnitStatus]) -> dict:
    """Units per status, the target (how many units) and how many reached it (done, percent)."""
    counts = {s: 0 for s in PROGRESS_STATUSES}
    for uid in ids:
        counts[statuses.get(uid, NOT_STARTED).status] += 1
    total = sum(counts.values())
    done = sum(counts[s] for s in DONE_STATUSES)
    return {"counts": counts, "target": total, "done": done, "percent": round(100 * done / total) if total else 0}


def roadmap_progress(
    units: list[Unit], statuses: dict[int, UnitStatus], milestones: dict[int, Milestone]
) -> dict[str, list[dict]]:
    """Progress against the roadmap, pure over rows: per milestone year ("by_year": the year, its due
    date, the kinds of unit it binds, how many as the target, counts per status, done) and per district ("by_district":
    every unit with children among `units`, counted over the units below it)."""
    by_year: dict[int, list[int]] = {}
    due_of: dict[int, date] = {}
    kinds_of: dict[int, list[str]] = {}
    for u in units:
        m = milestones.get(u.id)
        if m:
            by_year.setdefault(m.year, []).append(u.id)
            due_of[m.year] = max(due_of.get(m.year, m.due), m.due)
            if u.kind not in kinds_of.setdefault(m.year, []):
                kinds_of[m.year].append(u.kind)
    years = [
        {"year": y, "due": due_of[y], "kinds": kinds_of[y], **counts_of(ids, statuses)}
        for y, ids in sorted(by_year.items())
    ]
    ids = {u.id for u in units}
    children: dict[int, list[int]] = {}
    for u in units:
        if u.parent_id in ids:  # type: ignore[attr-defined]
            children.setdefault(u.parent_id, []).append(u.id)  # type: ignore[attr-defined]
    districts = []
    for u in units:
        if u.level == 0 or u.id not in children:
            continue
        below, stack = [], list(children[u.id])
        while stack:
            uid = stack.pop()
            below.append(uid)
            stack.extend(children.get(uid, ()))
        districts.append({"unit_id": u.id, "name": u.name, **counts_of(below, statuses)})
    return {"by_year": years, "by_district": districts}
