"""The annual summary the province sends upward (to the provincial People's Committee and the Ministry of
Science and Technology), compiled from the units' APPROVED annual reports of the year (template
`annual_report`, QĐ 474 §VI.4: "gửi Sở Khoa học và Công nghệ để tổng hợp, báo cáo Ủy ban nhân dân tỉnh").

Totals add the numbers the units gave; "units that …" count the units that answered "Có" (for the
quality objectives, "Một phần" is counted apart). Units with no approved report are listed by name and
count in no total. The sources list names every checklist added up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..catalogue import ANNUAL_FIGURES, ANNUAL_YES_COUNTS, UNIT_KIND_LABELS
from ..models import Unit, User
from .documents import (
    Approved,
    Issuer,
    Scope,
    Source,
    approved_of,
    as_date,
    as_number,
    issuer_json,
    scope_of,
    source_json,
    sources_in_order,
)

TEMPLATE = "annual_report"


@dataclass(frozen=True)
class SummaryRow:
    no: int
    unit: Unit
    name: str  # as the document prints it
    group: str
    numbers: dict[str, int | float | None]  # ANNUAL_FIGURES keys
    choices: dict[str, str | None]  # ANNUAL_YES_COUNTS keys -> choice code
    announcement_number: str
    announcement_date: date | None
    sent_date: date | None
    source: Source | None


@dataclass
class AnnualSummary:
    year: str
    issuer: Issuer
    root: Unit
    rows: list[SummaryRow]
    sources: list[Source]
    totals: dict[str, int | float] = field(default_factory=dict)
    yes_counts: dict[str, int] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def number_labels(self) -> dict[str, str]:
        return ANNUAL_FIGURES

    @property
    def yes_labels(self) -> dict[str, str]:
        return ANNUAL_YES_COUNTS


def _row(no: int, unit: Unit, name: str, a: Approved | None) -> SummaryRow:
    answers = a.answers if a else {}
    return SummaryRow(
        no=no,
        unit=unit,
        name=name,
        group=UNIT_KIND_LABELS.get(unit.kind, unit.kind),
        numbers={k: as_number(answers.get(k)) for k in ANNUAL_FIGURES},
        choices={k: v if isinstance(v := answers.get(k), str) else None for k in ANNUAL_YES_COUNTS},
        announcement_number=str(answers.get("announcement_number") or "").strip(),
        announcement_date=as_date(answers.get("announcement_date")),
        sent_date=as_date(answers.get("sent_date")),
        source=a.source if a else None,
    )


async def build_summary(actor: User, year: str) -> AnnualSummary:
    scope = await scope_of(actor)
    approved = await approved_of(scope, TEMPLATE, year)
    rows = [_row(i, u, scope.names[u.id], approved.get(u.id)) for i, u in enumerate(scope.units, 1)]
    counted = [r for r in rows if r.source]
    s = AnnualSummary(year, scope.issuer, scope.root, rows, sources_in_order(scope.units, approved))
    s.totals = {k: sum(r.numbers[k] or 0 for r in counted) for k in ANNUAL_FIGURES}
    s.yes_counts = {k: sum(1 for r in counted if r.choices[k] == "yes") for k in ANNUAL_YES_COUNTS}
    total = len(rows)
    published, in_system = s.totals["tthc_published"], s.totals["tthc_in_system"]
    s.figures = {
        "total": total,
        "reported": len(counted),
        "reported_percent": round(100 * len(counted) / total) if total else 0,
        "not_reported": [r.name for r in rows if not r.source],
        "tthc_percent": round(100 * in_system / published) if published else None,
        "objectives_partly": sum(1 for r in counted if r.choices["objectives_met"] == "partial"),
        "announced": sum(1 for r in counted if r.announcement_number),
        "difficulties": _texts(scope, approved, "difficulties"),
        "proposals": _texts(scope, approved, "proposals"),
        "results": _texts(scope, approved, "results"),
    }
    return s


def _texts(scope: Scope, approved: dict[int, Approved], key: str) -> list[tuple[str, str]]:
    return [
        (scope.names[u.id], str(a.answers[key]).strip())
        for u in scope.units
        if (a := approved.get(u.id)) and str(a.answers.get(key) or "").strip()
    ]


def summary_json(s: AnnualSummary) -> dict:
    return {
        "year": s.year,
        "issuer": issuer_json(s.issuer),
        "scope_unit_id": s.root.id,
        "figures": s.figures,
        "totals": s.totals,
        "yes_counts": s.yes_counts,
        "units": [
            {
                "no": r.no,
                "unit_id": r.unit.id,
                "unit": r.name,
                "group": r.group,
                **r.numbers,
                **r.choices,
                "announcement_number": r.announcement_number,
                "announcement_date": r.announcement_date.isoformat() if r.announcement_date else None,
                "sent_date": r.sent_date.isoformat() if r.sent_date else None,
                "checklist_id": r.source.checklist_id if r.source else None,
            }
            for r in s.rows
        ],
        "sources": [source_json(x) for x in s.sources],
    }
