"""The words of one reminder: title, body lines and the link, the same on every channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sync.periods import period_label

from ..catalogue import REMINDER_TEXTS as T


@dataclass(frozen=True)
class Text:
    title: str
    lines: list[str]
    path: str  # a path of the app ("/app/#/c/<id>"), made absolute for email


def dmy(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def checklist_path(checklist_id: str | None) -> str:
    return f"/app/#/c/{checklist_id}" if checklist_id else "/app/#/"


def deadline_text(stage: str, *, unit: str, title: str, period: str, due: date, today: date, checklist_id) -> Text:
    days = (due - today).days
    kind = "after" if stage.startswith("after") else "due" if days == 0 else "before"
    values = {"unit": unit, "title": title, "period": period_label(period), "due": dmy(due), "days": abs(days)}
    return Text(T[f"{kind}_title"].format(**values), [T[f"{kind}_body"].format(**values)], checklist_path(checklist_id))


def summary_text(today: date, late: list[dict]) -> Text:
    lines = [T["summary_body"].format(count=len(late))]
    for item in late:
        lines.append(
            T["summary_line"].format(
                unit=item["unit"],
                title=item["title"],
                period=period_label(item["period"]),
                due=dmy(item["due"]),
                days=(today - item["due"]).days,
            )
        )
    return Text(T["summary_title"].format(date=dmy(today)), lines, "/app/#/")
