"""The monthly notice (thông báo tháng) the province sends its units, built from the data.

Model: the notice of Thừa Thiên Huế's steering committee for October 2022 (seed 002): section 1 gives the
figures (plan and quality objectives; internal audit programme, audit and management review done; which
districts sent their summary; re-announcements and new procedures), the annex gives one row per unit.

Every figure but one comes from the units' APPROVED monthly reports of the month (the sources list names
each checklist). "Report sent" comes from `progress.timeliness_grid`, the one home of timeliness: the
deadline rule of the monthly report and the time the report was first submitted, approved or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..catalogue import CHOICE_LABELS, NOTICE_COLUMNS, TIMELINESS_LABELS, TIMELINESS_SIGNS, UNIT_KIND_LABELS
from ..models import Unit, User
from . import progress
from .documents import (
    Approved,
    Issuer,
    Scope,
    Source,
    approved_of,
    as_date,
    as_number,
    iso,
    issuer_json,
    scope_of,
    source_json,
    sources_in_order,
)

TEMPLATE = "monthly_report"
CHOICE_COLUMNS = (
    "plan_issued",
    "objectives_issued",
    "audit_programme_issued",
    "internal_audit_done",
    "management_review_done",
    "reannounced",
    "steering_committee_updated",
)
DATED = {"internal_audit_done": "internal_audit_date", "management_review_done": "management_review_date"}
SENT = ("on_time", "late", "handed_in")  # timeliness values that mean the report reached the province


@dataclass(frozen=True)
class AnnexRow:
    no: int
    unit: Unit
    name: str  # as the document prints it
    group: str  # the unit's kind, as the annex groups them
    choices: dict[str, str | None]  # column -> choice code ("yes", "no", "partial", "na") or None
    dates: dict[str, date | None]  # internal audit / management review -> the day it was done
    new_tthc: int | float | None
    new_tthc_built: int | float | None
    procedures: int | float | None
    report: progress.Cell
    source: Source | None

    def text(self, column: str) -> str:
        """The cell as the annex reads it: "Có (05/11/2026)", "Không", "3/4", "—" when not reported."""
        if self.source is None:
            return "—"
        if column in self.choices:
            value = self.choices[column]
            label = CHOICE_LABELS.get(value, "") if value else ""
            day = self.dates.get(column)
            return f"{label} ({day:%d/%m/%Y})" if label and day else label or "—"
        if column == "new_tthc":
            if self.new_tthc is None:
                return "—"
            return f"{_n(self.new_tthc_built or 0)}/{_n(self.new_tthc)}"
        if column == "internal_procedures_count":
            return "—" if self.procedures is None else _n(self.procedures)
        raise KeyError(column)

    @property
    def report_label(self) -> str:
        return TIMELINESS_LABELS[self.report.status]

    @property
    def report_sign(self) -> str:
        return TIMELINESS_SIGNS[self.report.status]

    @property
    def sent(self) -> bool:
        return self.report.status in SENT


def _n(x: int | float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}".replace(".", ",")


@dataclass
class Notice:
    month: str  # "2026-11"
    issuer: Issuer
    root: Unit
    rows: list[AnnexRow]
    sources: list[Source]
    today: date
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def month_no(self) -> int:
        return int(self.month[5:7])

    @property
    def year(self) -> int:
        return int(self.month[:4])

    @property
    def columns(self) -> dict[str, str]:
        return NOTICE_COLUMNS


def _yes(a: Approved | None, key: str) -> bool:
    return a is not None and a.answers.get(key) == "yes"


def _row(no: int, unit: Unit, name: str, a: Approved | None, cell: progress.Cell) -> AnnexRow:
    answers = a.answers if a else {}
    return AnnexRow(
        no=no,
        unit=unit,
        name=name,
        group=UNIT_KIND_LABELS.get(unit.kind, unit.kind),
        choices={k: answers.get(k) if isinstance(answers.get(k), str) else None for k in CHOICE_COLUMNS},
        dates={k: as_date(answers.get(v)) for k, v in DATED.items()},
        new_tthc=as_number(answers.get("new_tthc_count")),
        new_tthc_built=as_number(answers.get("new_tthc_built_count")),
        procedures=as_number(answers.get("internal_procedures_count")),
        report=cell,
        source=a.source if a else None,
    )


def _figures(scope: Scope, approved: dict[int, Approved], rows: list[AnnexRow]) -> dict[str, Any]:
    """Section 1 of the notice, counted over the units (the percentages over all of them)."""
    units, names = scope.units, scope.names
    total = len(units)

    def named(pred) -> list[str]:
        return [names[u.id] for u in units if pred(u, approved.get(u.id))]

    parents = {u.parent_id for u in units}  # type: ignore[attr-defined]
    districts = [u for u in units if u.id in parents]  # units with units of their own below them
    by_status: dict[str, list[str]] = {s: [] for s in progress.TIMELINESS}
    for r in rows:
        by_status[r.report.status].append(r.name)
    plan = named(lambda u, a: _yes(a, "plan_issued") and _yes(a, "objectives_issued"))
    new_tthc = sum((r.new_tthc or 0) for r in rows if r.source)
    built = sum((r.new_tthc_built or 0) for r in rows if r.source)
    return {
        "total": total,
        "reported": len(approved),
        "not_reported": named(lambda u, a: a is None),
        "plan": plan,
        "plan_percent": round(100 * len(plan) / total) if total else 0,
        "programme": named(lambda u, a: _yes(a, "audit_programme_issued")),
        "programme_missing": named(lambda u, a: a is not None and not _yes(a, "audit_programme_issued")),
        "audit_and_review": named(lambda u, a: _yes(a, "internal_audit_done") and _yes(a, "management_review_done")),
        "districts": len(districts),
        "districts_summary": [names[d.id] for d in districts if _yes(approved.get(d.id), "district_summary_sent")],
        "districts_no_summary": [
            names[d.id] for d in districts if not _yes(approved.get(d.id), "district_summary_sent")
        ],
        "timeliness": by_status,
        "reannounced": named(lambda u, a: _yes(a, "reannounced")),
        "steering_updated": named(lambda u, a: _yes(a, "steering_committee_updated")),
        "new_tthc": new_tthc,
        "new_tthc_built": built,
        "difficulties": [
            (names[u.id], str(a.answers["difficulties"]).strip())
            for u in units
            if (a := approved.get(u.id)) and str(a.answers.get("difficulties") or "").strip()
        ],
    }


async def build_notice(actor: User, month: str, today: date) -> Notice:
    """The notice of `month` ("2026-11") over the actor's scope, timeliness judged as of `today`."""
    scope = await scope_of(actor)
    approved = await approved_of(scope, TEMPLATE, month)
    grid = await progress.timeliness_grid([u.id for u in scope.units], [month], today)
    rows = [
        _row(i, u, scope.names[u.id], approved.get(u.id), grid[(u.id, month)]) for i, u in enumerate(scope.units, 1)
    ]
    notice = Notice(month, scope.issuer, scope.root, rows, sources_in_order(scope.units, approved), today)
    notice.figures = _figures(scope, approved, rows)
    return notice


def notice_json(n: Notice) -> dict:
    return {
        "month": n.month,
        "issuer": issuer_json(n.issuer),
        "scope_unit_id": n.root.id,
        "figures": n.figures,
        "columns": NOTICE_COLUMNS,
        "annex": [
            {
                "no": r.no,
                "unit_id": r.unit.id,
                "unit": r.name,
                "group": r.group,
                **{k: r.choices[k] for k in CHOICE_COLUMNS},
                "internal_audit_date": iso(r.dates["internal_audit_done"]),
                "management_review_date": iso(r.dates["management_review_done"]),
                "new_tthc": r.new_tthc,
                "new_tthc_built": r.new_tthc_built,
                "internal_procedures_count": r.procedures,
                "report_sent": r.report.status,
                "report_due": iso(r.report.due),
                "report_sent_on": iso(r.report.sent_on),
                "checklist_id": r.source.checklist_id if r.source else None,
            }
            for r in n.rows
        ],
        "sources": [source_json(s) for s in n.sources],
    }
