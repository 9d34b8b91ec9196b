"""Data built for the progress and dashboard tests, in the seeded Kon Tum tree, through the real sync
engine (phones' edits, the reviewer's approvals), so the edit log records when each report was sent.

Ia H'Drai (KT-045, reviewer huyen.iahdrai) and Tu Mơ Rông (KT-040, reviewer huyen.tumorong) communes;
the admin's phone fills in and submits, back-dated by its own clock as a phone offline for weeks would be.
A binding monthly rule "monthly:21" is added for the test and removed after it (`drop_world`).

Monthly reports (TODAY = 01/11/2026; due 21/08, 21/09, 21/10; November not yet due):
  KT-145 Ia Dom    08 on time (20/08)  09 on time (21/09, 23:30, the last day)  10 on time (sent 15/10,
                   returned, sent again 28/10: the first sending counts)
  KT-146 Ia Đal    08 late (25/08)     09 missing                                10 late (30/10)
  KT-147 Ia Tơi    nothing: missing, missing, missing
Statuses (approved checklists only):
  KT-145 applying   rollout announced 10/05/2026 + approved annual report 2026
  KT-146 announced  rollout announced 20/06/2026
  KT-147 converted  conversion announced 30/06/2021
  KT-096 building   rollout approved, not announced
  KT-097 not_started: rollout says announced but only submitted, never approved
"""

from __future__ import annotations

import time
from datetime import date, datetime

from server.models import Deadline, Template, Unit
from sync.models import Checklist
from sync.periods import VN

TODAY = date(2026, 11, 1)
MONTHS = ["2026-08", "2026-09", "2026-10"]
RULE_CODE = "TEST-MONTHLY-21"

EXPECTED_GRID = {
    "KT-145": ["on_time", "on_time", "on_time"],
    "KT-146": ["late", "missing", "late"],
    "KT-147": ["missing", "missing", "missing"],
}
EXPECTED_STATUS = {
    "KT-145": ("applying", None),  # since the annual report's approval: today
    "KT-146": ("announced", date(2026, 6, 20)),
    "KT-147": ("converted", date(2021, 6, 30)),
    "KT-096": ("building", None),
    "KT-097": ("not_started", None),
}


class Clock:
    """A phone's clock the test moves: `at(...)` back-dates the next edits, `now()` resets it."""

    def __init__(self) -> None:
        self.fixed: int | None = None

    def __call__(self) -> int:
        return self.fixed if self.fixed is not None else int(time.time() * 1000)

    def at(self, day: date, hour: int = 10, minute: int = 0) -> None:
        self.fixed = int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN).timestamp() * 1000)

    def now(self) -> None:
        self.fixed = None


async def _template(code: str) -> int:
    return (await Template.filter(code=code).order_by("-version").first()).id  # type: ignore[union-attr]


async def _send(
    phone, clock: Clock, unit: str, template: str, period: str, day: date | None, answers: dict, hour=10, minute=0
):
    """Create, answer and (when `day`) submit a checklist as the phone did on `day`; push now."""
    if day:
        clock.at(day, hour, minute)
    cid = phone.create_checklist((await Unit.get(code=unit)).id, await _template(template), period)
    for key, value in answers.items():
        phone.edit_answer(cid, key, value)
    if day:
        phone.set_status(cid, "submit")
    clock.now()
    await phone.push()
    return cid


async def _decide(reviewer, cid: str, action: str = "approve", comment: str = "") -> None:
    version = (await Checklist.get(id=cid)).version
    reviewer.set_status(cid, action, seen_version=version, comment=comment)
    results = await reviewer.push()
    assert all(r["outcome"] == "applied" for r in results), results


async def make_world(device) -> dict:
    """Build the data above; returns the checklist ids by name."""
    province = await Unit.get(code="KT")
    await Deadline.create(
        code=RULE_CODE,
        title="Báo cáo tháng (thử: trước ngày 22)",
        template_id=await _template("monthly_report"),
        unit=province,
        recurrence="monthly:21",
        period_kind="month",
        period_offset=0,
        binding=True,
    )
    clock = Clock()
    admin = await device("admin", clock=clock)
    iahdrai = await device("huyen.iahdrai")
    tumorong = await device("huyen.tumorong")
    ids: dict[str, str] = {}
    # monthly reports
    ids["145-08"] = await _send(admin, clock, "KT-145", "monthly_report", "2026-08", date(2026, 8, 20), {})
    ids["145-09"] = await _send(admin, clock, "KT-145", "monthly_report", "2026-09", date(2026, 9, 21), {}, 23, 30)
    ids["145-10"] = await _send(admin, clock, "KT-145", "monthly_report", "2026-10", date(2026, 10, 15), {})
    await _decide(iahdrai, ids["145-10"], "return", "Thiếu ngày họp xem xét")
    clock.at(date(2026, 10, 28))
    admin.edit_answer(ids["145-10"], "difficulties", "Đã bổ sung")
    admin.set_status(ids["145-10"], "submit")
    clock.now()
    await admin.push()
    ids["146-08"] = await _send(admin, clock, "KT-146", "monthly_report", "2026-08", date(2026, 8, 25), {})
    ids["146-10"] = await _send(admin, clock, "KT-146", "monthly_report", "2026-10", date(2026, 10, 30), {})
    # a draft never submitted does not count as sent
    ids["147-10"] = await _send(admin, clock, "KT-147", "monthly_report", "2026-10", None, {"difficulties": "Mất mạng"})
    # statuses
    ids["145-rollout"] = await _send(
        admin,
        clock,
        "KT-145",
        "rollout",
        "once",
        date(2026, 5, 12),
        {"s12_announced": "yes", "s12_announcement_date": "2026-05-10"},
    )
    ids["145-annual"] = await _send(admin, clock, "KT-145", "annual_report", "2026", date(2026, 11, 1), {})
    ids["146-rollout"] = await _send(
        admin,
        clock,
        "KT-146",
        "rollout",
        "once",
        date(2026, 6, 21),
        {"s12_announced": "yes", "s12_announcement_date": "2026-06-20"},
    )
    ids["147-conversion"] = await _send(
        admin,
        clock,
        "KT-147",
        "conversion",
        "once",
        date(2021, 7, 1),
        {"announced": "yes", "announcement_date": "2021-06-30"},
    )
    ids["096-rollout"] = await _send(
        admin, clock, "KT-096", "rollout", "once", date(2026, 9, 1), {"s01_training_done": "yes"}
    )
    ids["097-rollout"] = await _send(
        admin,
        clock,
        "KT-097",
        "rollout",
        "once",
        date(2026, 9, 1),
        {"s12_announced": "yes", "s12_announcement_date": "2026-08-01"},
    )
    for name in ("145-08", "145-rollout", "145-annual", "146-rollout", "147-conversion"):
        await _decide(iahdrai, ids[name])
    await _decide(tumorong, ids["096-rollout"])
    return ids


async def drop_world() -> None:
    await Deadline.filter(code=RULE_CODE).delete()
