"""The documents the province sends, checked against data built for the purpose on the Kon Tum seed.

October 2025, the monthly report due on the 21st (a binding rule made here, removed after):
- Sở Khoa học và Công nghệ: approved, submitted on 15/10 (the edit log) -> on time; answers "Có" to every
  annex column, with dates and counts.
- UBND huyện Ia H'Drai: approved with no submit in the log, last status change 25/10 -> late; has sent its
  communes' summary, no audit programme.
- Xã Tu Mơ Rông: submitted on 10/10 but NOT approved -> on time, and none of its answers counted.
- Xã Ia Tơi: only a September report -> missing for October.
The annual summary of 2025 adds up two approved annual reports and ignores a submitted one.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from io import BytesIO

import pytest
import pytest_asyncio
from openpyxl import load_workbook

from server.models import Deadline, Template, Unit
from sync.models import Answer, Checklist, Edit
from sync.periods import VN
from sync.rows import dumps
from tests.conftest import template_id, unit_id

MONTH, YEAR = "2025-10", "2025"
SKHCN, IAHDRAI, IATOI, TUMORONG = "KT-016", "KT-045", "KT-147", "KT-097"
TRICKY = "Thiếu cán bộ «chuyên trách» & <b>đào tạo</b>; ơ ư ạ ồ ₫"


def ms(day: date, hour: int = 9) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=VN).timestamp() * 1000)


async def make_checklist(
    code: str, template: str, period: str, status: str, status_day: date, answers: dict, submitted: date | None = None
) -> str:
    cid = str(uuid.uuid4())
    at = ms(status_day)
    await Checklist.create(
        id=cid,
        unit_id=await unit_id(code),
        template_id=await template_id(template),
        period=period,
        status=status,
        created_ms=at,
        updated_ms=at,
        status_ms=at,
        status_by="test",
        approved_version=1 if status == "approved" else None,
        last_action="approve" if status == "approved" else "submit",
    )
    for key, value in answers.items():
        await Answer.create(checklist_id=cid, item_key=key, value=dumps(value), updated_ms=at)
    if submitted:  # the official's "Nộp", as the engine records it
        when = ms(submitted)
        await Edit.create(
            device_id=str(uuid.uuid4()),
            seq=1,
            username="test",
            kind="status",
            checklist_id=cid,
            payload=json.dumps(
                {"kind": "status", "seq": 1, "device_ms": when, "checklist_id": cid, "action": "submit"}
            ),
            device_ms=when,
            effective_ms=when,
            received_ms=when,
            outcome="applied",
        )
    return cid


ALL_YES = {
    "plan_issued": "yes",
    "objectives_issued": "yes",
    "audit_programme_issued": "yes",
    "internal_audit_done": "yes",
    "internal_audit_date": "2025-09-10",
    "management_review_done": "yes",
    "management_review_date": "2025-09-20",
    "reannounced": "yes",
    "steering_committee_updated": "yes",
    "new_tthc_count": 4,
    "new_tthc_built_count": 3,
    "internal_procedures_count": 15,
    "district_summary_sent": "na",
    "difficulties": TRICKY,
}


@pytest_asyncio.fixture
async def world(seeded):
    tpl = await Template.filter(code="monthly_report").order_by("-version").first()
    province = await Unit.get(code="KT")
    rule = await Deadline.create(
        code="TEST-DOCS-MONTHLY",
        title="Báo cáo tháng (thử)",
        template=tpl,
        unit=province,
        period_kind="month",
        recurrence="monthly:21",
        binding=True,
    )
    ids = {
        "skhcn": await make_checklist(
            SKHCN, "monthly_report", MONTH, "approved", date(2025, 10, 18), ALL_YES, submitted=date(2025, 10, 15)
        ),
        "iahdrai": await make_checklist(
            IAHDRAI,
            "monthly_report",
            MONTH,
            "approved",
            date(2025, 10, 25),
            {
                "plan_issued": "yes",
                "objectives_issued": "no",
                "audit_programme_issued": "no",
                "internal_audit_done": "no",
                "management_review_done": "no",
                "district_summary_sent": "yes",
                "new_tthc_count": 2,
                "new_tthc_built_count": 2,
                "internal_procedures_count": 10,
            },
        ),
        "tumorong": await make_checklist(
            TUMORONG, "monthly_report", MONTH, "submitted", date(2025, 10, 10), ALL_YES, submitted=date(2025, 10, 10)
        ),
        "iatoi_september": await make_checklist(
            IATOI, "monthly_report", "2025-09", "approved", date(2025, 9, 15), ALL_YES
        ),
        "annual_skhcn": await make_checklist(
            SKHCN,
            "annual_report",
            YEAR,
            "approved",
            date(2026, 6, 20),
            {
                "tthc_published": 120,
                "tthc_in_system": 118,
                "internal_procedures": 15,
                "announcement_number": "25/QĐ-SKHCN",
                "announcement_date": "2025-03-04",
                "reannounce_count": 2,
                "eiso_in_use": "yes",
                "objectives_met": "partial",
                "internal_audit_done": "yes",
                "corrective_actions_closed": "yes",
                "management_review_done": "yes",
                "staff_trained": 30,
                "funding_spent": 15000000,
                "results": "Hệ thống vận hành ổn định",
                "difficulties": TRICKY,
                "sent_date": "2026-06-20",
            },
        ),
        "annual_iahdrai": await make_checklist(
            IAHDRAI,
            "annual_report",
            YEAR,
            "approved",
            date(2026, 6, 25),
            {"tthc_published": 80, "tthc_in_system": 60, "eiso_in_use": "no", "objectives_met": "yes"},
        ),
        "annual_iatoi_unapproved": await make_checklist(
            IATOI, "annual_report", YEAR, "submitted", date(2026, 6, 1), {"tthc_published": 999, "eiso_in_use": "yes"}
        ),
    }
    yield ids
    await rule.delete()


def row_of(annex: list[dict], name: str) -> dict:
    (row,) = [r for r in annex if r["unit"] == name]
    return row


# ------------------------------------------------------------------------------------ the notice


async def test_the_notice_counts_only_approved_reports_and_judges_timeliness_by_the_rule(world, login):
    admin = await login("admin")
    r = await admin.get(f"/api/documents/notice?month={MONTH}")
    assert r.status_code == 200, r.text
    body = r.json()
    f = body["figures"]
    assert f["total"] == 147  # every agency, district and commune of Kon Tum; the province itself is not one
    assert f["reported"] == 2
    assert f["plan"] == ["Sở Khoa học và Công nghệ"]
    assert f["programme"] == ["Sở Khoa học và Công nghệ"]
    assert f["programme_missing"] == ["UBND huyện Ia H'Drai"]
    assert f["audit_and_review"] == ["Sở Khoa học và Công nghệ"]
    assert f["districts"] == 10 and f["districts_summary"] == ["UBND huyện Ia H'Drai"]
    assert f["reannounced"] == ["Sở Khoa học và Công nghệ"]
    assert (f["new_tthc"], f["new_tthc_built"]) == (6, 5)
    assert f["difficulties"] == [["Sở Khoa học và Công nghệ", TRICKY]]
    t = f["timeliness"]
    assert sorted(t["on_time"]) == ["Sở Khoa học và Công nghệ", "Xã Tu Mơ Rông"]  # sent, even if not approved
    assert t["late"] == ["UBND huyện Ia H'Drai"]
    assert "Xã Ia Tơi" in t["missing"] and len(t["missing"]) == 144

    annex = body["annex"]
    sk = row_of(annex, "Sở Khoa học và Công nghệ")
    assert {k: sk[k] for k in ("plan_issued", "internal_audit_done", "steering_committee_updated")} == {
        "plan_issued": "yes",
        "internal_audit_done": "yes",
        "steering_committee_updated": "yes",
    }
    assert sk["internal_audit_date"] == "2025-09-10" and sk["management_review_date"] == "2025-09-20"
    assert (sk["new_tthc"], sk["new_tthc_built"], sk["internal_procedures_count"]) == (4, 3, 15)
    assert (sk["report_sent"], sk["report_due"], sk["report_sent_on"]) == ("on_time", "2025-10-21", "2025-10-15")
    assert sk["checklist_id"] == world["skhcn"]
    hd = row_of(annex, "UBND huyện Ia H'Drai")
    assert (hd["objectives_issued"], hd["report_sent"], hd["report_sent_on"]) == ("no", "late", "2025-10-25")
    tm = row_of(annex, "Xã Tu Mơ Rông")  # submitted, not approved: sent on time, nothing counted
    assert tm["report_sent"] == "on_time" and tm["plan_issued"] is None and tm["checklist_id"] is None
    it = row_of(annex, "Xã Ia Tơi")
    assert it["report_sent"] == "missing" and it["plan_issued"] is None  # September's report is not October's

    assert [s["checklist_id"] for s in body["sources"]] == [world["skhcn"], world["iahdrai"]]
    assert body["sources"][0]["link"] == f"/checklists/{world['skhcn']}"
    assert body["sources"][0]["template"].startswith("Báo cáo tháng")
    assert body["issuer"]["issuing"] == "SỞ KHOA HỌC VÀ CÔNG NGHỆ" and body["issuer"]["place"] == "Kon Tum"
    assert body["issuer"]["area"] == "tỉnh Kon Tum"


async def test_a_district_reviewer_gets_the_notice_of_their_district_only(world, login):
    rev = await login("huyen.iahdrai")
    body = (await rev.get(f"/api/documents/notice?month={MONTH}")).json()
    names = [r["unit"] for r in body["annex"]]
    district = await Unit.get(code=IAHDRAI)
    communes = await Unit.filter(parent_id=district.id, active=True).count()
    assert names[0] == "UBND huyện Ia H'Drai" and len(names) == 1 + communes
    assert "Sở Khoa học và Công nghệ" not in names and "Xã Tu Mơ Rông" not in names
    assert [s["checklist_id"] for s in body["sources"]] == [world["iahdrai"]]
    assert body["issuer"]["issuing"] == "ỦY BAN NHÂN DÂN HUYỆN IA H’DRAI"
    assert body["issuer"]["governing"] == "ỦY BAN NHÂN DÂN TỈNH KON TUM"
    assert (body["issuer"]["place"], body["issuer"]["area"]) == ("Ia H'Drai", "huyện Ia H'Drai")
    page = await rev.get(f"/documents/notice?month={MONTH}")
    assert "Ia H&#39;Drai, ngày" in page.text and "/TB-UBND" in page.text and "CHỦ TỊCH" in page.text


async def test_the_printable_notice_has_the_administrative_layout_and_escapes_answers(world, login):
    admin = await login("admin")
    r = await admin.get(f"/documents/notice?month={MONTH}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    for text in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "SỞ KHOA HỌC VÀ CÔNG NGHỆ",
        "/TB-SKHCN",
        "Kon Tum, ngày",
        "tháng 10 năm 2025",
        "Nơi nhận:",
        "(1) Sở Khoa học và Công nghệ",
        "Gửi trễ hạn: (1) UBND huyện Ia H&#39;Drai",
        f'href="/checklists/{world["skhcn"]}"',
        '<link rel="stylesheet" href="/static/print.css">',
    ):
        assert text in html, text
    assert "&lt;b&gt;đào tạo&lt;/b&gt;" in html and "<b>đào tạo" not in html  # an answer never becomes markup
    assert "<script" not in html and "style=" not in html


# ------------------------------------------------------------------------------------ the annual summary


async def test_the_annual_summary_adds_up_approved_annual_reports_only(world, login):
    admin = await login("admin")
    r = await admin.get(f"/api/documents/annual?year={YEAR}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["figures"]["reported"] == 2 and body["figures"]["total"] == 147
    assert "Xã Ia Tơi" in body["figures"]["not_reported"]  # submitted, not approved
    assert body["totals"]["tthc_published"] == 200 and body["totals"]["tthc_in_system"] == 178
    assert body["totals"]["funding_spent"] == 15000000 and body["totals"]["staff_trained"] == 30
    assert body["figures"]["tthc_percent"] == 89
    assert body["yes_counts"]["eiso_in_use"] == 1 and body["yes_counts"]["objectives_met"] == 1
    assert body["figures"]["objectives_partly"] == 1 and body["figures"]["announced"] == 1
    assert [s["checklist_id"] for s in body["sources"]] == [world["annual_skhcn"], world["annual_iahdrai"]]
    page = await admin.get(f"/documents/annual?year={YEAR}")
    assert page.status_code == 200
    for text in (
        "BÁO CÁO",
        "Kính gửi:",
        "Ủy ban nhân dân tỉnh Kon Tum;",
        "Bộ Khoa học và Công nghệ",
        "15.000.000",
        "2/147",
        "/BC-SKHCN",
    ):
        assert text in page.text, text


# ------------------------------------------------------------------------------------ XLSX read back


async def test_the_notice_xlsx_reads_back_cell_by_cell(world, login):
    admin = await login("admin")
    r = await admin.get(f"/documents/notice.xlsx?month={MONTH}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r.headers["content-disposition"].startswith('attachment; filename="thong-bao-htqlcl-2025-10-KT.xlsx"')
    wb = load_workbook(BytesIO(r.content))
    assert wb.sheetnames == ["Phụ lục", "Nguồn"]
    ws = wb["Phụ lục"]
    header = [c.value for c in ws[5]]
    assert header[:3] == ["STT", "Đơn vị", "Kế hoạch xây dựng, áp dụng, duy trì, cải tiến HTQLCL"]
    assert header[-3:] == ["Gửi báo cáo tháng", "Hạn gửi", "Ngày gửi"]
    assert ws.freeze_panes == "C6" and ws.print_title_rows == "$5:$5"
    assert ws.column_dimensions["B"].width == 30 and ws.column_dimensions["C"].width == 13
    rows = {row[1]: dict(zip(header, row)) for row in ws.iter_rows(min_row=6, values_only=True)}
    assert len(rows) == 147
    sk = rows["Sở Khoa học và Công nghệ"]
    assert sk["Đã đánh giá nội bộ"] == "Có" and sk["Ngày đánh giá nội bộ"] == datetime(2025, 9, 10)
    assert sk["Ngày xem xét của lãnh đạo"] == datetime(2025, 9, 20)
    assert sk["Số TTHC mới ban hành"] == 4 and sk["Số TTHC mới đã đưa vào HTQLCL"] == 3
    assert sk["Số quy trình nội bộ (trên 15)"] == 15
    assert (sk["Gửi báo cáo tháng"], sk["Hạn gửi"], sk["Ngày gửi"]) == (
        "Đúng hạn",
        datetime(2025, 10, 21),
        datetime(2025, 10, 15),
    )
    date_col = header.index("Ngày gửi") + 1
    sk_row = next(r for r in range(6, ws.max_row + 1) if ws.cell(r, 2).value == "Sở Khoa học và Công nghệ")
    assert ws.cell(sk_row, date_col).number_format == "dd/mm/yyyy"
    assert ws.cell(sk_row, 2).font.name == "DejaVu Sans"
    hd = rows["UBND huyện Ia H'Drai"]
    assert (hd["Mục tiêu chất lượng và kế hoạch thực hiện"], hd["Gửi báo cáo tháng"]) == ("Không", "Trễ hạn")
    it = rows["Xã Ia Tơi"]
    assert it["Gửi báo cáo tháng"] == "Chưa nộp, quá hạn" and it["Đã đánh giá nội bộ"] is None
    assert rows["Xã Tu Mơ Rông"]["Kế hoạch xây dựng, áp dụng, duy trì, cải tiến HTQLCL"] is None
    src = wb["Nguồn"]
    listed = [row for row in src.iter_rows(min_row=4, values_only=True) if row[0]]
    assert [row[1] for row in listed] == ["Sở Khoa học và Công nghệ", "UBND huyện Ia H'Drai"]
    assert listed[0][5].endswith(f"/checklists/{world['skhcn']}") and listed[0][4] == datetime(2025, 10, 18)
    assert src.freeze_panes == "C4"


async def test_the_annual_xlsx_reads_back_cell_by_cell(world, login):
    admin = await login("admin")
    r = await admin.get(f"/documents/annual.xlsx?year={YEAR}")
    assert r.status_code == 200
    assert 'filename="bao-cao-nam-htqlcl-2025-KT.xlsx"' in r.headers["content-disposition"]
    wb = load_workbook(BytesIO(r.content))
    assert wb.sheetnames == ["Tổng hợp", "Chi tiết", "Nguồn"]
    totals = {row[1]: row[2] for row in wb["Tổng hợp"].iter_rows(min_row=6, values_only=True) if row[1]}
    assert totals["Số đơn vị đã gửi báo cáo năm được duyệt"] == 2
    assert totals["Số thủ tục hành chính đã công bố"] == 200
    assert totals["Kinh phí duy trì, cải tiến HTQLCL (đồng)"] == 15000000
    assert totals["Đơn vị đã vận hành HTQLCL trên Hệ thống ISO điện tử"] == 1
    detail = wb["Chi tiết"]
    header = [c.value for c in detail[3]]
    rows = {row[1]: dict(zip(header, row)) for row in detail.iter_rows(min_row=4, values_only=True)}
    sk = rows["Sở Khoa học và Công nghệ"]
    assert sk["Ngày công bố"] == datetime(2025, 3, 4) and sk["Số quyết định công bố"] == "25/QĐ-SKHCN"
    assert sk["Đơn vị đạt mục tiêu chất lượng của năm"] == "Một phần"
    assert rows["Xã Ia Tơi"]["Số thủ tục hành chính đã công bố"] is None  # its report is not approved
    assert detail.freeze_panes == "C4" and detail.column_dimensions["B"].width == 30


# ------------------------------------------------------------------------------------ role × scope, bad input

ROUTES = [
    f"/api/documents/notice?month={MONTH}",
    f"/api/documents/annual?year={YEAR}",
    "/documents",
    f"/documents/notice?month={MONTH}",
    f"/documents/notice.xlsx?month={MONTH}",
    f"/documents/annual?year={YEAR}",
    f"/documents/annual.xlsx?year={YEAR}",
]


@pytest.mark.parametrize("path", ROUTES)
async def test_every_document_route_by_role(path, seeded, login, anon):
    r = await anon.get(path)
    if path.startswith("/api/"):
        assert r.status_code == 401 and r.json()["error"] == "not_authenticated"
    else:
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/documents")
    for username in ("xa.iatoi", "xa.tumorong"):  # officials of a commune: refused, in Vietnamese
        r = await (await login(username)).get(path)
        assert r.status_code == 403
        assert "không có quyền" in (r.json()["message"] if path.startswith("/api/") else r.text)
    for username in ("admin", "huyen.iahdrai", "huyen.tumorong"):
        r = await (await login(username)).get(path)
        assert r.status_code == 200, (username, r.text[:300])


async def test_a_viewer_gets_no_document(seeded, sessions):
    from server.auth import hash_password
    from server.models import User

    await User.create(
        username="docs.viewer",
        role="viewer",
        unit=await Unit.get(code="KT"),
        password_hash=hash_password("viewer-pass-2026"),
    )
    try:
        c = await sessions("docs.viewer", "viewer-pass-2026")
        assert (await c.get(f"/api/documents/notice?month={MONTH}")).status_code == 403
        assert (await c.get("/documents")).status_code == 403
    finally:
        await User.filter(username="docs.viewer").delete()


@pytest.mark.parametrize(
    "path",
    [
        "/api/documents/notice?month=2025-13",
        "/api/documents/notice?month=10-2025",
        "/api/documents/notice",
        "/api/documents/annual?year=25",
        "/api/documents/annual?year=abcd",
        "/documents/notice?month=2025-00",
        "/documents/annual.xlsx?year=1999",
    ],
)
async def test_a_bad_month_or_year_is_refused_with_a_readable_message(path, seeded, login):
    r = await (await login("admin")).get(path)
    assert r.status_code == 422
    if path.startswith("/api/"):
        assert r.json()["error"] == "invalid"
        assert r.json()["message"].startswith(("Tháng phải có dạng YYYY-MM", "Năm phải là một số"))
    else:
        assert "phải" in r.text and r.headers["content-type"].startswith("text/html")


async def test_the_nav_links_to_documents_for_those_who_may_have_them(seeded, login):
    assert 'href="/documents"' in (await (await login("admin")).get("/units")).text
    assert 'href="/documents"' in (await (await login("huyen.iahdrai")).get("/units")).text
    assert 'href="/documents"' not in (await (await login("xa.iatoi")).get("/units")).text
