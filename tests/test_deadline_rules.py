"""The province's calendar: the admin adds and edits deadline rules (API and /deadlines page), and each
unit's due items are right: a missed report stays overdue until that template AND that period is handed
in, the annual report due 29/06/2027 covers 2026, a missed 2025 milestone stays, and an edit reaches the
API the phone reads on its next sync."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import date

import pytest_asyncio

from server.models import AuditLog, Deadline, User
from server.services.deadlines import deadlines_of, due_items
from sync.models import Checklist
from sync.periods import due_dates_around, today_vn

from .conftest import template_id, unit_id

ORIGIN = {"Origin": "http://testserver"}


def rule_body(**over) -> dict:
    body = {
        "code": "TEST-MONTHLY",
        "title": "Báo cáo tháng (thử)",
        "period_kind": "month",
        "period_offset": 0,
        "recurrence": "monthly:21",
        "binding": True,
        "source_number": "99/QĐ-UBND",
        "source_date": "2026-11-01",
        "source_issuer": "UBND tỉnh Kon Tum",
        "source_quote": "trước ngày 22 hằng tháng",
        "reference": "Điều 1",
    }
    body.update(over)
    return body


@pytest_asyncio.fixture
async def admin(login):
    client = await login("admin")
    yield client
    await Deadline.filter(code__startswith="TEST-").delete()


@pytest_asyncio.fixture
async def adopted(admin):
    """Kon Tum adopts a monthly report due on the 21st and an annual report due 29/06 for the year before."""
    kt = await unit_id("KT")
    monthly = await admin.post(
        "/api/deadline-rules", json=rule_body(unit_id=kt, template_id=await template_id("monthly_report"))
    )
    assert monthly.status_code == 201, monthly.text
    annual = await admin.post(
        "/api/deadline-rules",
        json=rule_body(
            code="TEST-ANNUAL",
            title="Báo cáo năm (thử)",
            unit_id=kt,
            template_id=await template_id("annual_report"),
            period_kind="year",
            period_offset=-1,
            recurrence="yearly:06-29",
            source_quote="trước ngày 30/6",
        ),
    )
    assert annual.status_code == 201, annual.text
    return {"monthly": monthly.json()["id"], "annual": annual.json()["id"]}


async def hand_in(unit_code: str, template_code: str, period: str, status: str = "submitted") -> None:
    now = int(time.time() * 1000)
    await Checklist.create(
        id=str(uuid.uuid4()),
        unit_id=await unit_id(unit_code),
        template_id=await template_id(template_code),
        period=period,
        status=status,
        created_ms=now,
        updated_ms=now,
    )


async def items_of(rule_id: int, today: date, unit_code: str = "KT-147") -> list:
    return [i for i in await due_items(today, [await unit_id(unit_code)]) if i.rule_id == rule_id]


# ------------------------------------------------------------------------------------------ due items


async def test_a_missed_monthly_report_is_overdue_after_its_day_and_stays(adopted):
    rule = adopted["monthly"]
    on_the_day = await items_of(rule, date(2026, 12, 21))
    assert [(i.period, i.due, i.status, i.days_left) for i in on_the_day if i.period == "2026-12"] == [
        ("2026-12", date(2026, 12, 21), "due", 0)
    ]
    after = await items_of(rule, date(2026, 12, 22))
    dec = [i for i in after if i.period == "2026-12"]
    assert [(i.status, i.days_left) for i in dec] == [("overdue", -1)]
    # Three weeks later January's report is due too, and December's is still there.
    later = {i.period: i for i in await items_of(rule, date(2027, 1, 12))}
    assert later["2026-12"].status == "overdue" and later["2026-12"].days_left == -22
    assert later["2027-01"].status == "upcoming" and later["2027-01"].due == date(2027, 1, 21)
    await hand_in("KT-147", "monthly_report", "2026-12")
    assert "2026-12" not in {i.period for i in await items_of(rule, date(2027, 1, 12))}


async def test_octobers_report_does_not_mark_december_done(adopted):
    await hand_in("KT-147", "monthly_report", "2026-10", "approved")
    items = {i.period: i for i in await items_of(adopted["monthly"], date(2026, 12, 10))}
    assert items["2026-12"].status == "upcoming" and items["2026-12"].days_left == 11
    assert items["2026-11"].status == "overdue"
    assert "2026-10" not in items  # handed in: nothing left to show
    await hand_in("KT-147", "monthly_report", "2026-12")
    items = {i.period: i for i in await items_of(adopted["monthly"], date(2026, 12, 10))}
    assert items["2026-12"].status == "done"
    # A returned report is not handed in.
    await hand_in("KT-097", "monthly_report", "2026-12", "returned")
    (dec,) = [i for i in await items_of(adopted["monthly"], date(2026, 12, 10), "KT-097") if i.period == "2026-12"]
    assert dec.status == "upcoming"


async def test_the_annual_report_due_29_06_2027_covers_2026(adopted, login):
    items = await items_of(adopted["annual"], date(2027, 6, 1))
    assert [(i.period, i.due, i.status) for i in items][-1] == ("2026", date(2027, 6, 29), "upcoming")
    xa = await User.get(username="xa.iatoi")
    shown = [d for d in (await deadlines_of(xa, today=date(2027, 6, 1)))["deadlines"] if d["code"] == "TEST-ANNUAL"]
    assert [(d["period_label"], d["due"]) for d in shown][-1] == ("Năm 2026", "2027-06-29")
    await hand_in("KT-147", "annual_report", "2027")  # the wrong year
    assert [i.status for i in await items_of(adopted["annual"], date(2027, 6, 1)) if i.period == "2026"] == ["upcoming"]
    await hand_in("KT-147", "annual_report", "2026")
    assert [i.status for i in await items_of(adopted["annual"], date(2027, 6, 1)) if i.period == "2026"] == ["done"]


async def test_a_missed_2025_milestone_stays_visible_until_done(login):
    admin = await login("admin")
    kt001 = await unit_id("KT-001")
    rule = await Deadline.get(code="KT-ROADMAP-2025-KT-001")
    (item,) = await items_of(rule.id, date(2026, 12, 3), "KT-001")
    assert (item.period, item.status, item.days_left, item.due_date) == ("once", "overdue", -337, date(2025, 12, 31))
    # The API the phone reads says it in words, with the date of the milestone.
    body = (await deadlines_of(await User.get(username="admin"), kt001, today=date(2026, 12, 3)))["deadlines"]
    (shown,) = [d for d in body if d["code"] == "KT-ROADMAP-2025-KT-001"]
    assert (shown["due"], shown["status_label"]) == ("2025-12-31", "Quá hạn 337 ngày")
    assert (await admin.get("/api/deadlines", params={"unit_id": kt001})).json()["deadlines"][0]["status"] == "overdue"
    await hand_in("KT-001", "rollout", "once")
    (item,) = await items_of(rule.id, date(2026, 12, 3), "KT-001")
    assert item.status == "done"


async def test_a_rule_that_does_not_bind_the_province_makes_no_due_items(admin):
    hue = await Deadline.get(code="HUE-MONTHLY-REPORT")
    assert await items_of(hue.id, date(2026, 12, 22)) == []
    # starts_on: a rule adopted in December does not make earlier months overdue.
    r = await admin.post(
        "/api/deadline-rules",
        json=rule_body(
            code="TEST-LATE",
            unit_id=await unit_id("KT"),
            template_id=await template_id("monthly_report"),
            starts_on="2026-12-01",
        ),
    )
    assert r.status_code == 201, r.text
    assert [i.period for i in await items_of(r.json()["id"], date(2026, 12, 3))] == ["2026-12"]


# ------------------------------------------------------------------------------------ rules: the API


async def test_an_admin_edit_reaches_the_api_the_phone_reads(admin, login):
    xa = await login("xa.iatoi")
    before = (await xa.get("/api/deadlines")).json()
    assert "HUE-MONTHLY-REPORT" not in [d["code"] for d in before["deadlines"]]
    hue = await Deadline.get(code="HUE-MONTHLY-REPORT")
    saved = {f: getattr(hue, f) for f in ("binding", "recurrence")}
    try:
        r = await admin.patch(f"/api/deadline-rules/{hue.id}", json={"binding": True, "recurrence": "monthly:20"})
        assert r.status_code == 200, r.text
        assert r.json()["binding"] is True and r.json()["recurrence"] == "monthly:20"
        after = (await xa.get("/api/deadlines")).json()
        assert after["rules_version"] != before["rules_version"]  # the phone's cache key moves
        shown = [d for d in after["deadlines"] if d["code"] == "HUE-MONTHLY-REPORT"]
        next_due = due_dates_around("monthly:20", today_vn(), 0)[-1]
        assert shown[-1]["due"] == next_due.isoformat()
        assert shown[-1]["period"] == next_due.strftime("%Y-%m")
    finally:
        await Deadline.filter(id=hue.id).update(**saved)


async def test_an_admin_lists_rules_with_their_source_documents(admin):
    rules = (await admin.get("/api/deadline-rules")).json()["rules"]
    by_code = {r["code"]: r for r in rules}
    assert by_code["KT-ANNUAL-REPORT"]["source"].startswith(
        "474/QĐ-UBND ngày 10/07/2020 của Chủ tịch UBND tỉnh Kon Tum"
    )
    assert by_code["AG-ANNUAL-REPORT"]["binding"] is False
    assert rules[0]["binding"] is True and rules[-1]["binding"] is False  # binding ones first


async def test_non_admins_cannot_read_or_change_rules(login):
    hue = await Deadline.get(code="HUE-MONTHLY-REPORT")
    for username in ("xa.iatoi", "huyen.iahdrai"):
        c = await login(username)
        assert (await c.get("/api/deadline-rules")).status_code == 403
        assert (await c.post("/api/deadline-rules", json=rule_body(unit_id=1))).status_code == 403
        r = await c.patch(f"/api/deadline-rules/{hue.id}", json={"binding": True})
        assert r.status_code == 403 and r.json()["message"].startswith("Tài khoản của bạn không có quyền")
        page = await c.get("/deadlines")
        assert page.status_code == 403 and "không có quyền" in page.text
        assert (await c.post("/deadlines/new", data={"code": "X"}, headers=ORIGIN)).status_code == 403
    assert (await Deadline.get(id=hue.id)).binding is False
    assert not await Deadline.filter(code__startswith="TEST-").exists()


async def test_a_bad_rule_is_refused_with_a_vietnamese_message(admin):
    kt = await unit_id("KT")
    monthly_tpl = await template_id("monthly_report")
    cases = [
        (rule_body(unit_id=kt, period_kind="year"), 422, "Hạn hằng tháng dành cho báo cáo tháng"),
        (rule_body(unit_id=kt, recurrence="monthly:32"), 422, "Cách lặp lại không hợp lệ"),
        (rule_body(unit_id=kt, due_date="2026-12-21"), 422, "Chỉ chọn một trong hai"),
        (rule_body(unit_id=kt, source_date="21/12/2026"), 422, "Ngày văn bản không phải một ngày có thật"),
        (rule_body(unit_id=kt, code="kt bad"), 422, "Mã quy định chỉ gồm"),
        (rule_body(unit_id=kt, template_id=999999), 422, "Mẫu phiếu không tồn tại"),
        (rule_body(unit_id=kt, template_id=await template_id("annual_report")), 422, "khác với kỳ của mẫu phiếu"),
        (rule_body(unit_id=kt, title=""), 422, "Chưa nhập tên hạn nộp"),
        (rule_body(unit_id="1"), 422, "Đơn vị phải là số nguyên"),
        (rule_body(unit_id=kt, binding="yes"), 422, "Áp dụng tại tỉnh phải là đúng hoặc sai"),
        (rule_body(unit_id=999999), 404, "Không tìm thấy đơn vị"),
        (rule_body(unit_id=kt, code="HUE-MONTHLY-REPORT", template_id=monthly_tpl), 409, "đã được dùng"),
    ]
    for body, status, words in cases:
        r = await admin.post("/api/deadline-rules", json=body)
        assert r.status_code == status, (body, r.text)
        assert words in r.json()["message"], (body, r.json())
    assert (await admin.patch("/api/deadline-rules/999999", json={"binding": True})).status_code == 404
    hue = await Deadline.get(code="HUE-MONTHLY-REPORT")
    for field, words in (
        ("binding", "Chưa có áp dụng tại tỉnh"),
        ("unit_id", "Chưa có đơn vị"),
        ("title", "Chưa có tên"),
    ):
        r = await admin.patch(f"/api/deadline-rules/{hue.id}", json={field: None})
        assert r.status_code == 422 and r.json()["message"].startswith(words), r.json()
    for body in ({"level": -1}, {"period_offset": 99}, {"extra": 1}, {"recurrence": 21}):
        assert (await admin.patch(f"/api/deadline-rules/{hue.id}", json=body)).status_code == 422, body
    assert (await Deadline.get(id=hue.id)).binding is False
    assert not await Deadline.filter(code__startswith="TEST-").exists()


# ---------------------------------------------------------------------------------- rules: the page


async def test_the_admin_adds_and_edits_a_rule_on_the_deadlines_page(admin, login):
    page = await admin.get("/deadlines")
    assert page.status_code == 200 and "Văn bản gốc" in page.text and "Tham khảo" in page.text
    assert "<script" not in page.text
    form = {
        "code": "TEST-PAGE",
        "title": "Báo cáo năm theo kế hoạch tỉnh (thử)",
        "template_id": str(await template_id("annual_report")),
        "period_kind": "year",
        "period_offset": "-1",
        "due_day": "14",
        "due_month": "12",
        "unit_id": str(await unit_id("KT")),
        "level": "",
        "binding": "1",
        "source_number": "474/QĐ-UBND",
        "source_date": "10/07/2020",
        "source_issuer": "Chủ tịch UBND tỉnh Kon Tum",
        "source_quote": "Định kỳ hàng năm",
        "reference": "Điều 1, mục VI.4",
        "starts_on": "",
    }
    r = await admin.post("/deadlines/new", data=form, headers=ORIGIN)
    assert r.status_code == 303, r.text
    rule = await Deadline.get(code="TEST-PAGE")
    assert (rule.recurrence, rule.period_offset, rule.binding) == ("yearly:12-14", -1, True)
    listed = await admin.get(r.headers["location"])
    assert "Đã thêm quy định TEST-PAGE" in listed.text and "Ngày 14/12 hằng năm" in listed.text
    # A refused value comes back on the form with the catalogue's words, the typed values kept.
    bad = await admin.post(f"/deadlines/{rule.id}", data={**form, "due_month": ""}, headers=ORIGIN)
    assert bad.status_code == 422 and "Hạn hằng tháng dành cho báo cáo tháng" in bad.text and "TEST-PAGE" in bad.text
    bad = await admin.post(f"/deadlines/{rule.id}", data={**form, "source_date": "31/02/2026"}, headers=ORIGIN)
    assert bad.status_code == 422 and "Ngày văn bản không phải một ngày có thật" in bad.text
    edit = await admin.get(f"/deadlines/{rule.id}")
    assert edit.status_code == 200 and 'value="14"' in edit.text and 'value="10/07/2020"' in edit.text
    r = await admin.post(
        f"/deadlines/{rule.id}", data={**form, "due_day": "", "due_month": "", "due_date": "31/12/2026"}, headers=ORIGIN
    )
    assert r.status_code == 303
    rule = await Deadline.get(id=rule.id)
    assert (rule.recurrence, rule.due_date) == ("", date(2026, 12, 31))
    # The phone's API shows it to a commune, labelled with the year it reports on.
    xa = await login("xa.iatoi")
    shown = [d for d in (await xa.get("/api/deadlines")).json()["deadlines"] if d["code"] == "TEST-PAGE"]
    assert [(d["due"], d["period_label"]) for d in shown] == [("2026-12-31", "Năm 2025")]
    assert (await admin.get("/deadlines/999999")).status_code == 404


# ------------------------------------------------------------------------------ an existing database

MIGRATE_FROM_0003 = """
import asyncio, sqlite3, sys
from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate
from server.db import tortoise_config
from server.migrate import upgrade

path = sys.argv[1]
async def to_0003():
    await migrate(config=tortoise_config("sqlite://" + path), target="models.0003_device_session_lockout")
    await Tortoise.close_connections()
asyncio.run(to_0003())
with sqlite3.connect(path) as c:  # what the seed of before wrote
    c.execute("INSERT INTO unit (id, code, kind, level, source_name, name, name_folded, qms_status, qms_note,"
              " active, created_at, updated_at) VALUES (1, 'KT', 'province', 0, 'Kon Tum', 'Kon Tum', 'kon tum',"
              " 'none', '', 1, '2026-01-01', '2026-01-01')")
    for code, rec in (("KT-MONTHLY-REPORT", "monthly:22"), ("KT-ANNUAL-REPORT", "yearly:06-30")):
        c.execute("INSERT INTO deadline (code, title, unit_id, recurrence, reference) VALUES (?, 't', 1, ?, '')",
                  (code, rec))
asyncio.run(upgrade("sqlite://" + path))
with sqlite3.connect(path) as c:
    print(sorted(c.execute("SELECT code, recurrence, binding, period_kind, period_offset FROM deadline")))
"""


def test_the_migration_keeps_the_old_rules_as_other_provinces_rules_due_the_day_before(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", MIGRATE_FROM_0003, str(tmp_path / "old.sqlite3")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == str(
        [("AG-ANNUAL-REPORT", "yearly:06-29", 0, "year", -1), ("HUE-MONTHLY-REPORT", "monthly:21", 0, "month", 0)]
    )


async def test_seeding_again_keeps_a_rule_the_province_edited(admin):
    from seed.load import load_seed

    hue = await Deadline.get(code="HUE-MONTHLY-REPORT")
    try:
        r = await admin.patch(f"/api/deadline-rules/{hue.id}", json={"binding": True})
        assert r.status_code == 200, r.text
        await load_seed()
        assert (await Deadline.get(id=hue.id)).binding is True
    finally:
        await Deadline.filter(id=hue.id).update(binding=False)
        await AuditLog.filter(object_type="deadline_rule").delete()
