"""Report periods and the time zone every date is counted in.

A checklist is made for one period of its template's kind: a month ("2026-11"), a year ("2026") or once
("once"). "Which period is now" is counted in Asia/Ho_Chi_Minh, whatever the server's or phone's zone.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

TIMEZONE = "Asia/Ho_Chi_Minh"
VN = ZoneInfo(TIMEZONE)

PERIOD_KINDS = ("month", "year", "once")
PERIOD_PATTERNS = {
    "month": re.compile(r"^20\d\d-(0[1-9]|1[0-2])$"),
    "year": re.compile(r"^20\d\d$"),
    "once": re.compile(r"^once$"),
}
PERIOD_EXAMPLES = {"month": "2026-11", "year": "2026", "once": "once"}
# How a period reads, by kind ({month} and {year} filled in); the phone gets these through the catalogue.
PERIOD_LABELS = {"month": "Tháng {month}/{year}", "year": "Năm {year}", "once": "Một lần"}
# How many periods of each kind a create form offers: the current one and the ones just before it (a
# report started late, or offline at the turn of a month). The phone gets these through the catalogue.
RECENT_PERIODS = {"month": 3, "year": 2, "once": 1}


def valid_period(period_kind: str, period: str) -> bool:
    pattern = PERIOD_PATTERNS.get(period_kind)
    return bool(pattern and pattern.match(period))


def today_vn(now: datetime | None = None) -> date:
    """Today's date in Vietnam (a naive `now` is taken as UTC)."""
    now = now or datetime.now(VN)
    if now.tzinfo is None:
        now = now.replace(tzinfo=ZoneInfo("UTC"))
    return now.astimezone(VN).date()


def current_period(period_kind: str, today: date) -> str:
    """The period a checklist of this kind made today belongs to."""
    if period_kind == "month":
        return f"{today.year:04d}-{today.month:02d}"
    if period_kind == "year":
        return f"{today.year:04d}"
    return "once"


def current_periods(today: date) -> dict[str, str]:
    """The current period of every kind: {"month": "2026-11", "year": "2026", "once": "once"}."""
    return {kind: current_period(kind, today) for kind in PERIOD_KINDS}


def period_label(period: str) -> str:
    """ "2026-11" → "Tháng 11/2026", "2026" → "Năm 2026", "once" → "Một lần"."""
    if period == "once":
        return PERIOD_LABELS["once"]
    if PERIOD_PATTERNS["month"].match(period):
        return PERIOD_LABELS["month"].format(month=period[5:], year=period[:4])
    if PERIOD_PATTERNS["year"].match(period):
        return PERIOD_LABELS["year"].format(year=period)
    return period


def recent_periods(period_kind: str, today: date) -> list[str]:
    """The periods a create form offers for this kind, the current one first: "2026-11", "2026-10", …"""
    if period_kind == "month":
        out, y, m = [], today.year, today.month
        for _ in range(RECENT_PERIODS["month"]):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        return out
    if period_kind == "year":
        return [f"{today.year - i:04d}" for i in range(RECENT_PERIODS["year"])]
    return ["once"]
