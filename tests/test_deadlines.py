"""Deadlines in Asia/Ho_Chi_Minh as the documents mean them: "trước ngày X" is due on day X − 1, the
rules of other provinces kept as data that does not bind Kon Tum, and the roadmap milestones."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime

from seed.read import DATA
from server.models import Deadline
from server.services.deadlines import today_vn
from sync.periods import day_before, due_dates_around, period_due_on, shift_period

from .conftest import unit_id


def test_today_is_counted_in_vietnam_not_utc():
    # 18:30 UTC on 21 November is already 01:30 on the 22nd in Hà Nội.
    assert today_vn(datetime(2026, 11, 21, 18, 30, tzinfo=UTC)) == date(2026, 11, 22)


def test_before_day_x_is_due_on_day_x_minus_one():
    assert day_before(date(2026, 12, 22)) == date(2026, 12, 21)
    assert day_before(date(2027, 6, 30)) == date(2027, 6, 29)
    assert day_before(date(2027, 3, 1)) == date(2027, 2, 28)  # "trước ngày 1/3" is the end of February
    # The seeded rules quote "trước ngày 22" and "trước ngày 30/6" and are due on the 21st and 29 June.
    rows = {r["code"]: r for r in csv.DictReader((DATA / "deadlines.csv").open(encoding="utf-8"))}
    assert "trước ngày 22" in rows["HUE-MONTHLY-REPORT"]["source_quote"]
    assert rows["HUE-MONTHLY-REPORT"]["recurrence"] == "monthly:21"
    assert "trước ngày 30/6" in rows["AG-ANNUAL-REPORT"]["source_quote"]
    assert rows["AG-ANNUAL-REPORT"]["recurrence"] == "yearly:06-29"


def test_due_dates_keep_the_missed_ones_and_the_next_one():
    assert due_dates_around("monthly:21", date(2026, 12, 22), 2) == [
        date(2026, 11, 21),
        date(2026, 12, 21),
        date(2027, 1, 21),
    ]
    assert due_dates_around("monthly:21", date(2026, 12, 21), 1) == [date(2026, 11, 21), date(2026, 12, 21)]
    assert due_dates_around("monthly:31", date(2027, 2, 1), 0) == [date(2027, 2, 28)]  # a short month's last day
    assert due_dates_around("yearly:06-29", date(2027, 7, 1), 1) == [date(2027, 6, 29), date(2028, 6, 29)]


def test_the_period_a_report_covers_is_moved_by_the_rule_offset():
    assert period_due_on("year", -1, date(2027, 6, 29)) == "2026"
    assert period_due_on("month", 0, date(2026, 12, 21)) == "2026-12"
    assert shift_period("2027-01", "month", -1) == "2026-12"
    assert period_due_on("once", 0, date(2030, 12, 31)) == "once"


async def test_rules_of_other_provinces_are_kept_but_do_not_bind_kon_tum(seeded):
    rules = {r.code: r for r in await Deadline.all()}
    assert rules["HUE-MONTHLY-REPORT"].binding is False and rules["HUE-MONTHLY-REPORT"].source_issuer.endswith(
        "Thừa Thiên Huế"
    )
    assert rules["AG-ANNUAL-REPORT"].binding is False and rules["AG-ANNUAL-REPORT"].source_number == "1141/UBND-TH"
    kt = rules["KT-ANNUAL-REPORT"]
    assert kt.binding and kt.source_number == "474/QĐ-UBND" and "Định kỳ hàng năm" in kt.source_quote
    assert kt.recurrence == "" and kt.due_date is None  # Kon Tum's plan fixes no day
    assert all(r.source_number and r.source_quote for r in rules.values())


async def test_a_commune_sees_only_the_binding_deadlines_of_its_level(login):
    xa = await login("xa.iatoi")
    r = await xa.get("/api/deadlines")
    assert r.status_code == 200
    body = r.json()
    codes = [d["code"] for d in body["deadlines"]]
    assert codes == ["KT-ROADMAP-2030"]  # not Huế's monthly report, not An Giang's 30 June, not the 2025 ones
    (item,) = body["deadlines"]
    assert item["due"] == "2030-12-31" and item["period"] == "once" and item["status"] == "upcoming"
    assert "474/QĐ-UBND" in item["source"] and body["rules_version"]


async def test_deadlines_of_a_unit_outside_scope_are_not_found(login):
    xa = await login("xa.iatoi")
    assert (await xa.get("/api/deadlines", params={"unit_id": await unit_id("KT-097")})).status_code == 404
    assert (await xa.get("/api/deadlines", params={"unit_id": "x"})).status_code == 422
