"""Deadlines in Asia/Ho_Chi_Minh: the 22nd of each month, 30 June, and the roadmap milestones."""

from __future__ import annotations

from datetime import UTC, date, datetime

from server.models import Deadline
from server.services.deadlines import next_due, today_vn

from .conftest import unit_id


def test_today_is_counted_in_vietnam_not_utc():
    # 18:30 UTC on 21 November is already 01:30 on the 22nd in Hà Nội.
    assert today_vn(datetime(2026, 11, 21, 18, 30, tzinfo=UTC)) == date(2026, 11, 22)


def test_monthly_and_yearly_next_due_dates():
    monthly, yearly = Deadline(recurrence="monthly:22"), Deadline(recurrence="yearly:06-30")
    assert next_due(monthly, date(2026, 11, 22)) == date(2026, 11, 22)
    assert next_due(monthly, date(2026, 11, 23)) == date(2026, 12, 22)
    assert next_due(monthly, date(2026, 12, 23)) == date(2027, 1, 22)
    assert next_due(Deadline(recurrence="monthly:31"), date(2027, 2, 1)) == date(2027, 2, 28)
    assert next_due(yearly, date(2026, 7, 1)) == date(2027, 6, 30)
    assert next_due(Deadline(recurrence="", due_date=date(2030, 12, 31)), date(2026, 1, 1)) == date(2030, 12, 31)


async def test_a_commune_sees_its_deadlines_soonest_first(login):
    xa = await login("xa.iatoi")
    r = await xa.get("/api/deadlines")
    assert r.status_code == 200
    items = r.json()["deadlines"]
    codes = [d["code"] for d in items]
    assert "KT-MONTHLY-REPORT" in codes and "KT-ANNUAL-REPORT" in codes and "KT-ROADMAP-2030" in codes
    assert not any(c.startswith("KT-ROADMAP-2025") for c in codes)  # provincial milestones are not theirs
    assert [d["due"] for d in items] == sorted(d["due"] for d in items)


async def test_deadlines_of_a_unit_outside_scope_are_not_found(login):
    xa = await login("xa.iatoi")
    assert (await xa.get("/api/deadlines", params={"unit_id": await unit_id("KT-097")})).status_code == 404
    assert (await xa.get("/api/deadlines", params={"unit_id": "x"})).status_code == 422
