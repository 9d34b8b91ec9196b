"""The documents in real Chromium: /documents, the notice and the annual summary pass axe-core with no CSP
violation at 360 px and at desk width, the XLSX button downloads a named file, and the notice prints on A4
(page.pdf). Screenshots and the PDF go to tests/screenshots/documents/ to be looked at."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from sync.rows import dumps
from tests.browser_fixtures import (  # noqa: F401
    PASSWORD,
    SCREENSHOTS,
    axe_check,
    browser,
    live_server,
    new_context,
    playwright_instance,
)

pytestmark = pytest.mark.browser
SHOTS = SCREENSHOTS / "documents"
MONTH, YEAR = "2025-10", "2025"
ANSWERS = {
    "monthly_report": {
        "plan_issued": "yes",
        "objectives_issued": "yes",
        "audit_programme_issued": "yes",
        "internal_audit_done": "yes",
        "internal_audit_date": "2025-09-10",
        "management_review_done": "yes",
        "management_review_date": "2025-09-20",
        "reannounced": "na",
        "steering_committee_updated": "yes",
        "new_tthc_count": 4,
        "new_tthc_built_count": 3,
        "internal_procedures_count": 15,
        "difficulties": "Thiếu cán bộ chuyên trách về ISO ở các xã vùng sâu.",
    },
    "annual_report": {
        "tthc_published": 120,
        "tthc_in_system": 118,
        "eiso_in_use": "yes",
        "objectives_met": "partial",
        "announcement_number": "25/QĐ-SKHCN",
        "announcement_date": "2025-03-04",
        "funding_spent": 15000000,
        "results": "Hệ thống vận hành ổn định, hồ sơ được giải quyết đúng hạn.",
    },
}


@pytest.fixture
def approved_reports(live_server):
    """An approved monthly report (October 2025) and annual report (2025) of Sở Khoa học và Công nghệ."""
    sql = live_server.sql
    ((unit,),) = sql("SELECT id FROM unit WHERE code = ?", ("KT-016",))
    made = []
    now = int(time.time() * 1000)
    for code, period in (("monthly_report", MONTH), ("annual_report", YEAR)):
        ((tpl,),) = sql("SELECT id FROM template WHERE code = ? ORDER BY version DESC LIMIT 1", (code,))
        cid = str(uuid.uuid4())
        sql(
            "INSERT INTO checklist (id, unit_id, template_id, period, status, version, created_by, created_ms, updated_ms,"
            " status_by, status_ms, status_comment, approved_version, last_action)"
            " VALUES (?, ?, ?, ?, 'approved', 1, 'test', ?, ?, 'admin', ?, '', 1, 'approve')",
            (cid, unit, tpl, period, now, now, now),
        )
        for key, value in ANSWERS[code].items():
            sql(
                "INSERT INTO answer (checklist_id, item_key, value, note, version, value_ms, value_by, value_device,"
                " value_seq, note_ms, note_by, note_device, note_seq, value_version, note_version, review_comment,"
                " updated_ms) VALUES (?, ?, ?, '', 1, ?, 'test', '', 0, 0, '', '', 0, 1, 0, '', ?)",
                (cid, key, dumps(value), now, now),
            )
        made.append(cid)
    yield made
    for cid in made:
        sql("DELETE FROM answer WHERE checklist_id = ?", (cid,))
        sql("DELETE FROM checklist WHERE id = ?", (cid,))


def _login(page, username: str, next_path: str) -> None:
    page.goto(f"/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"**{next_path}*")


def _look(page, name: str, width: int, at: str | None = None) -> None:
    """A screenshot of what a visitor sees first (or of the element `at`, scrolled to)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": 800})
    page.evaluate("window.scrollTo(0, 0)")
    if at:
        page.locator(at).first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # let the scrolled page paint
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"))


def test_the_documents_pages_pass_axe_at_phone_and_desk_width_and_the_notice_prints_on_a4(
    new_context, approved_reports
):
    ctx = new_context(accept_downloads=True)
    page = ctx.new_page()
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login(page, "admin", "/documents")
    assert page.locator("a[href='/documents']").count() == 1  # the nav link
    for width in (360, 1280):
        _look(page, "documents", width)
        axe_check(page, f"documents-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    page.fill("#month", MONTH)
    with page.expect_download() as dl:
        page.click("button[formaction='/documents/notice.xlsx']")
    assert dl.value.suggested_filename == f"thong-bao-htqlcl-{MONTH}-KT.xlsx"
    dl.value.save_as(SHOTS / dl.value.suggested_filename)  # to be opened in LibreOffice and looked at

    page.set_viewport_size({"width": 360, "height": 740})
    page.click("text=Xem thông báo để in")
    page.wait_for_url(f"**/documents/notice?month={MONTH}")
    assert "Sở Khoa học và Công nghệ thông báo" in page.inner_text("article.doc")
    # At 360 px only the annex scrolls (in its own focusable region), never the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for width in (360, 1280):
        _look(page, "notice", width)
        _look(page, "notice-annex", width, at=".annex-table tbody tr:nth-child(16)")
        _look(page, "notice-sources", width, at=".sources")
        axe_check(page, f"notice-{width}")
    pdf = page.pdf(path=str(SHOTS / "notice.pdf"), format="A4", prefer_css_page_size=True)
    assert pdf[:5] == b"%PDF-"  # its pages are looked at as PNG (pdftoppm)

    page.goto(f"/documents/annual?year={YEAR}")
    assert "15.000.000" in page.inner_text("article.doc")
    for width in (360, 1280):
        _look(page, "annual", width)
        _look(page, "annual-totals", width, at=".totals")
        axe_check(page, f"annual-{width}")
    page.pdf(path=str(SHOTS / "annual.pdf"), format="A4", prefer_css_page_size=True)
    with page.expect_download() as dl:
        page.click("a[href$='annual.xlsx?year=2025']")
    assert dl.value.suggested_filename == f"bao-cao-nam-htqlcl-{YEAR}-KT.xlsx"
    dl.value.save_as(SHOTS / dl.value.suggested_filename)
    assert not csp, json.dumps(csp, ensure_ascii=False)


def test_a_district_reviewer_prints_the_notice_of_their_district(new_context):
    page = new_context().new_page()
    _login(page, "huyen.iahdrai", f"/documents/notice?month={MONTH}")
    head = page.inner_text("header.doc-head")
    assert "ỦY BAN NHÂN DÂN HUYỆN IA H’DRAI" in head and "Ia H'Drai, ngày" in head
    assert "Sở Khoa học và Công nghệ" not in page.inner_text(".annex-table")
    for width in (360, 1280):
        _look(page, "notice-district", width)
        axe_check(page, f"notice-district-{width}")
    page.pdf(path=str(SHOTS / "notice-district.pdf"), format="A4", prefer_css_page_size=True)
