"""Report periods and the time zone every date is counted in.

A checklist is made for one period of its template's kind: a month ("2026-11"), a year ("2026") or once
("once"). "Which period is now" is counted in Asia/Ho_Chi_Minh, whatever the server's or phone's zone.
"""

from __future__ import annotations

import calendar
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


# ---------------------------------------------------------------------------------- deadline dates
# A deadline rule's recurrence names the last day allowed: "monthly:21" (the documents' "trước ngày 22
# hằng tháng") or "yearly:06-29" ("trước ngày 30/6"). A day past a month's end is its last day.
RECURRENCE = re.compile(r"^(monthly):(0?[1-9]|[12]\d|3[01])$|^(yearly):(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
# The recurrence kind each period kind is due by.
RECURRENCE_OF_KIND = {"month": "monthly", "year": "yearly"}
# How many missed periods before the current one stay on a unit's list (a rule's `starts_on` may cut
# it shorter): a year of months, three years.
OVERDUE_LOOKBACK = {"monthly": 12, "yearly": 3}
# From this many days before its date a deadline is "due": it heads the list (the phone gets it too).
DUE_SOON_DAYS = 7


def valid_recurrence(recurrence: str) -> bool:
    return bool(RECURRENCE.match(recurrence))


def day_before(day: date) -> date:
    """ "Trước ngày X" allows day X - 1 at the latest."""
    return date.fromordinal(day.toordinal() - 1)


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def due_dates_around(recurrence: str, today: date, back: int) -> list[date]:
    """The due dates of a recurrence: up to `back` before today, then the first on or after today."""
    kind, _, arg = recurrence.partition(":")
    if kind == "monthly":
        now = today.year * 12 + today.month - 1
        dates = [_clamped(i // 12, i % 12 + 1, int(arg)) for i in range(now - back - 1, now + 2)]
    elif kind == "yearly":
        month, day = (int(x) for x in arg.split("-"))
        dates = [_clamped(today.year + i, month, day) for i in range(-back - 1, 2)]
    else:
        return []
    past = [d for d in dates if d < today][-back:] if back else []
    return past + [d for d in dates if d >= today][:1]


def shift_period(period: str, period_kind: str, offset: int) -> str:
    """A period moved by `offset` periods of its kind: ("2027", "year", -1) → "2026"."""
    if period_kind == "month":
        y, m = int(period[:4]), int(period[5:7])
        index = y * 12 + (m - 1) + offset
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    if period_kind == "year":
        return f"{int(period) + offset:04d}"
    return "once"


def period_due_on(period_kind: str, period_offset: int, due: date) -> str:
    """The period a report due on `due` covers: the due date's own period moved by the rule's offset
    (a report due 29/06/2027 with offset -1 covers "2026")."""
    return shift_period(current_period(period_kind, due), period_kind, period_offset)
