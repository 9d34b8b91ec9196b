"""The province's calendar in real Chromium at 360 px: the admin's /deadlines page and its form pass
axe-core with no CSP violation; the admin adopts Huế's monthly rule there, and the phone shows the missed
months as overdue, in words, after its next sync."""

from __future__ import annotations

import re
from datetime import date

import pytest

from sync.periods import today_vn
from tests.browser_fixtures import (  # noqa: F401
    PASSWORD,
    axe_check,
    browser,
    live_server,
    login,
    new_context,
    playwright_instance,
    shot,
    sync_now,
    wait_synced,
)

pytestmark = pytest.mark.browser


def test_an_admin_adopts_a_rule_on_the_deadlines_page_and_the_phone_shows_it_overdue(new_context, live_server):
    phone_ctx = new_context()
    phone = phone_ctx.new_page()
    login(phone, "xa.iatoi")
    wait_synced(phone)
    card = phone.locator("section[aria-labelledby=h-dl]")
    card.locator("li").first.wait_for()
    assert "Hoàn thành áp dụng ISO điện tử: UBND cấp xã" in card.inner_text()
    assert "Huế" not in card.inner_text()  # another province's rule does not bind Kon Tum
    assert card.locator("svg.dl-timeline[role=img]").count() == 1

    admin_ctx = new_context()
    page = admin_ctx.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/login?next=/deadlines")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/deadlines")
    assert page.get_by_text("Tham khảo · không áp dụng tại tỉnh").count() == 2
    shot(page, "page-deadlines")
    axe_check(page, "page-deadlines")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # The 45 roadmap milestones are folded under one line; opened, each links to its form.
    page.click("details.milestones summary")
    assert page.locator("ul.milestone-list li").count() == 46
    page.locator("details.milestones").scroll_into_view_if_needed()
    shot(page, "page-deadlines-milestones")
    axe_check(page, "page-deadlines-milestones")

    (rule_id,) = live_server.sql("SELECT id FROM deadline WHERE code = ?", ("HUE-MONTHLY-REPORT",))[0]
    try:
        page.click(f"a[href='/deadlines/{rule_id}']")
        page.wait_for_url(f"**/deadlines/{rule_id}")
        assert page.input_value("#due_day") == "21" and not page.is_checked("#binding")
        assert page.input_value("#source_date") == "28/10/2022"
        shot(page, "page-deadline-form")
        axe_check(page, "page-deadline-form")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        # Adopted from two months back: the months whose 21st has passed are missed.
        today = today_vn()
        start = date(today.year - (today.month <= 2), (today.month - 3) % 12 + 1, 1)
        page.check("#binding")
        page.fill("#starts_on", start.strftime("%d/%m/%Y"))
        page.click("button.primary")
        page.wait_for_selector("p.done")
        assert "HUE-MONTHLY-REPORT" in page.inner_text("p.done")
        assert not csp_errors, csp_errors

        sync_now(phone)
        wait_synced(phone)
        overdue = card.locator("li.dl-overdue")
        overdue.first.wait_for()
        text = overdue.first.inner_text()
        assert re.search(r"⚠ Quá hạn \d+ ngày", text), text
        assert re.search(r"Tháng \d\d/\d{4} · Hạn 21/\d\d/\d{4}", text), text
        # Starting the report offers the missed month first, not this month.
        missed = re.search(r"(Tháng \d\d/\d{4}) · Hạn", text)[1]
        (template_id,) = live_server.sql("SELECT max(id) FROM template WHERE code = ?", ("monthly_report",))[0]
        phone.select_option("#new-template", str(template_id))
        assert phone.locator("#new-period option").first.inner_text() == missed
        card.scroll_into_view_if_needed()
        shot(phone, "app-home-deadlines")
        axe_check(phone, "app-home-deadlines")
    finally:
        live_server.sql(
            "UPDATE deadline SET binding = ?, starts_on = NULL WHERE code = ?", (False, "HUE-MONTHLY-REPORT")
        )
