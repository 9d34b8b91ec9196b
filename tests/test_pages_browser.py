"""The server-rendered pages in real Chromium at 360 px: screenshots, axe-core, no CSP violation."""

from __future__ import annotations

import pytest

from tests.browser_fixtures import PASSWORD, axe_check, browser, live_server, new_context, playwright_instance, shot  # noqa: F401

pytestmark = pytest.mark.browser


def test_pages_work_at_360px_and_pass_axe(new_context):
    ctx = new_context()
    page = ctx.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/login")
    shot(page, "page-login")
    axe_check(page, "page-login")
    page.fill("#username", "admin")
    page.fill("#password", "sai mật khẩu")
    page.click("button.primary")
    assert "không đúng" in page.locator("[role=alert]").inner_text()
    axe_check(page, "page-login-error")
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/units")
    assert page.locator("svg.bar").count() >= 11
    shot(page, "page-units")
    axe_check(page, "page-units")
    page.fill("#q", "dak kan")
    page.click("form.search button")
    page.wait_for_url("**/units?q=dak+kan")
    assert page.get_by_role("link", name="Xã Đăk Kan").is_visible()
    shot(page, "page-search")
    page.get_by_role("link", name="Xã Đăk Kan").click()
    page.wait_for_selector("h1:has-text('Xã Đăk Kan')")
    shot(page, "page-unit")
    axe_check(page, "page-unit")
    page.select_option("#template_id", label="Báo cáo tháng tình hình xây dựng, áp dụng, duy trì và cải tiến HTQLCL")
    page.click("form[action$='/checklists'] button")
    page.wait_for_url("**/checklists/*")
    shot(page, "page-checklist")
    axe_check(page, "page-checklist")
    # No page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not csp_errors, csp_errors


def test_the_header_of_an_admin_is_one_line_of_links_at_360px_and_beside_the_brand_at_1280px(new_context):
    """Nine links once wrapped the header onto three lines at 360 px: they are one row that scrolls
    sideways (the page itself does not), and every link is still reachable; at a desk they sit in the bar."""
    page = new_context().new_page()
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/units")
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 740})
        page.evaluate("window.scrollTo(0, 0)")
        links = page.locator("header.top nav a")
        assert links.count() >= 9
        tops = {round(b["y"]) for b in (links.nth(i).bounding_box() for i in range(links.count()))}
        header = page.locator("header.top").bounding_box()
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways page
        if width == 360:
            assert len(tops) == 1, tops  # one row
            assert header["height"] < 160, header
            last = links.nth(links.count() - 1)
            last.scroll_into_view_if_needed()
            assert last.is_visible()
        else:
            assert header["height"] < 110, header
        shot(page, f"page-header-{width}")
        axe_check(page, f"page header at {width} px")
