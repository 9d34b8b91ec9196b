"""Registers and exports in real Chromium, at 360 px and at desk width: the pages pass axe-core with no
CSP violation and no sideways scroll on a phone, and the export page's script follows the job to its
download link. Screenshots go to tests/screenshots/registers/ to be looked at."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

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

SHOTS = SCREENSHOTS / "registers"
DESK = {"width": 1280, "height": 900}


def snap(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page, username: str, next_path: str) -> None:
    page.goto(f"/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"**{next_path}")


@pytest.fixture
def decisions(live_server):
    """An approved roll-out checklist of Xã Đăk Kan that records its decision, and two procedures."""
    (unit,) = live_server.sql("SELECT id FROM unit WHERE code = ?", ("KT-086",))[0]
    (tid,) = live_server.sql("SELECT id FROM template WHERE code = ? ORDER BY version DESC", ("rollout",))[0]
    cid = str(uuid.uuid4())
    live_server.sql(
        "INSERT INTO checklist (id, unit_id, template_id, period, status, version, created_by, created_ms,"
        " updated_ms, status_by, status_ms, status_comment) VALUES (?, ?, ?, 'once', 'approved', 3, 'seed',"
        " 1, 1, 'admin', 1773000000000, '')",
        (cid, unit, tid),
    )
    answers = {
        "s12_announcement_number": "12/QĐ-UBND",
        "s12_announcement_date": "2026-03-15",
        "s12_announcement_photo": [{"sha256": "ab" * 32, "name": "qd-cong-bo-dak-kan.jpg"}],
        "s06_tthc_in_system": 87,
    }
    for key, value in answers.items():
        live_server.sql(
            "INSERT INTO answer (checklist_id, item_key, value, note, version, value_ms, value_by, value_device,"
            " value_seq, note_ms, note_by, note_device, note_seq, value_version, note_version, review_comment,"
            " updated_ms) VALUES (?, ?, ?, '', 1, 1773000000000, 'xa.dakkan', '', 0, 0, '', '', 0, 0, 0, '', 1)",
            (cid, key, json.dumps(value, ensure_ascii=False)),
        )
    admin = live_server.client("admin")
    made = [
        admin.post(
            "/api/registers/procedures",
            json={"unit_id": unit, "name": name, "code": code, "field": "Hộ tịch", "in_system_on": "2026-03-01"},
        ).json()["id"]
        for name, code in (("Đăng ký khai sinh", "1.001193"), ("Đăng ký kết hôn có yếu tố nước ngoài", "1.000894"))
    ]
    yield
    live_server.sql(
        "UPDATE tthc_procedure SET removed_at = created_at, removed_by = 'test' WHERE id IN (?, ?)", tuple(made)
    )
    live_server.sql("DELETE FROM answer WHERE checklist_id = ?", (cid,))
    live_server.sql("DELETE FROM checklist WHERE id = ?", (cid,))
    admin.close()


@pytest.mark.parametrize("width", ["phone", "desk"])
def test_registers_and_exports_pages_pass_axe_and_the_export_reaches_its_file(
    new_context, browser, live_server, decisions, width
):
    if width == "desk":
        ctx = browser.new_context(
            viewport=DESK, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", base_url=live_server.base_url
        )
    else:
        ctx = new_context()
    try:
        _walk(ctx.new_page(), width)
    finally:
        if width == "desk":
            ctx.close()


def _walk(page, width: str) -> None:
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, "admin", "/registers/announcements")
    page.fill("#q", "dak kan")
    page.click("form.search button")
    page.wait_for_url("**q=dak+kan")
    card = page.locator("ul.register li").first
    assert "Xã Đăk Kan" in card.inner_text() and "12/QĐ-UBND" in card.inner_text()
    assert "15/03/2026" in card.inner_text() and "qd-cong-bo-dak-kan.jpg" in card.inner_text()
    snap(page, f"registers-announcements-{width}")
    axe_check(page, "registers-announcements")
    if width == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.goto("/registers/procedures?q=ket hon")
    assert page.locator("ul.register li").count() == 1
    page.goto("/registers/procedures")
    snap(page, f"registers-procedures-{width}")
    axe_check(page, "registers-procedures")
    if width == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.goto("/exports")
    snap(page, f"exports-{width}")
    axe_check(page, "exports")
    if width == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # The checklists export, in XLSX: the job page follows it to the download link.
    page.locator("section[aria-labelledby=x-checklists] button.primary").click()
    page.wait_for_url("**/exports/*")
    page.wait_for_selector("#job-file:not([hidden])")
    assert "Đã xong" in page.inner_text("#job-text")
    snap(page, f"export-job-{width}")
    axe_check(page, "export-job")
    with page.expect_download() as dl:
        page.click("#job-file a")
    path = dl.value.path()
    assert dl.value.suggested_filename.startswith("phieu-va-tra-loi-") and Path(path).read_bytes()[:2] == b"PK"
    if width == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    job_id = page.url.rsplit("/", 1)[1]
    page.request.delete(f"/api/exports/{job_id}")
    assert not csp, csp
