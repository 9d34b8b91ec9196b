"""The administration pages in real Chromium, at 360 px and at a desk: each passes axe-core with no CSP
violation and no sideways scroll on a phone; a new list of units is previewed (not applied: the live
server is shared by the other browser tests) and a bad file is refused with its rows named."""

from __future__ import annotations

import json

import pytest

from tests.browser_fixtures import (  # noqa: F401
    PASSWORD,
    SCREENSHOTS,
    axe_check,
    browser,
    live_server,
    playwright_instance,
)

pytestmark = pytest.mark.browser
SHOTS = SCREENSHOTS / "admin"  # kept in the checkout (ignored by git), to be looked at


def snap(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def units_csv(live_server, change: dict[str, str]) -> bytes:
    rows = live_server.sql(
        "SELECT u.code, u.name, u.kind, COALESCE(p.code, '') FROM unit u LEFT JOIN unit p ON p.id = u.parent_id "
        "WHERE u.active ORDER BY u.level, u.id"
    )
    lines = ["code,name,kind,parent_code"]
    for code, name, kind, parent in rows:
        lines.append(",".join([code, f'"{change.get(code, name)}"', kind, parent]))
    return ("\n".join(lines) + "\n").encode()


def check(page, name: str, width: int) -> None:
    snap(page, f"{name}-{width}")
    axe_check(page, f"{name}-{width}")
    if width == 360:
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, name


@pytest.mark.parametrize("width", [360, 1280])
def test_every_administration_page_is_accessible_on_a_phone_and_at_a_desk(browser, live_server, width):
    phone = width == 360
    ctx = browser.new_context(
        viewport={"width": width, "height": 800},
        device_scale_factor=1,
        is_mobile=phone,
        has_touch=phone,
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
        base_url=live_server.base_url,
    )
    ctx.set_default_timeout(15000)
    try:
        _walk(ctx.new_page(), live_server, width)
    finally:
        ctx.close()


def _walk(page, live_server, width: int) -> None:
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/login?next=/admin")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/admin")
    check(page, "admin-hub", width)

    page.click("a[href='/admin/units']")
    page.fill("#q", "ia toi")
    page.click("form.search button")
    page.wait_for_selector("ul.link-list a")
    check(page, "admin-units", width)
    page.click("ul.link-list a")
    page.wait_for_selector("#h-merge")
    assert "Xã Ia Tơi" in page.inner_text("h1")
    check(page, "admin-unit", width)

    # A new list: one commune renamed, previewed with every change named, nothing applied.
    page.goto("/admin/units")
    page.set_input_files(
        "#file",
        {"name": "don-vi.csv", "mimeType": "text/csv", "buffer": units_csv(live_server, {"KT-146": "Xã Ia Đal mới"})},
    )
    page.click("#h-import ~ form button")
    page.wait_for_selector("#h-rename")
    assert "Xã Ia Đal mới" in page.inner_text("#h-rename + ul")
    check(page, "admin-import-preview", width)
    assert live_server.sql("SELECT name FROM unit WHERE code = 'KT-146'")[0][0] == "Xã Ia Đal"

    # A bad file: each bad row named, in Vietnamese.
    page.goto("/admin/units")
    bad = b"code,name,kind,parent_code\nKT,T\xe1\xbb\x89nh Kon Tum,province,\nKT-999,,commune,KT-404\n"
    page.set_input_files("#file", {"name": "sai.csv", "mimeType": "text/csv", "buffer": bad})
    page.click("#h-import ~ form button")
    page.wait_for_selector(".error ul.row-errors")
    assert "Dòng 3" in page.inner_text(".error")
    check(page, "admin-import-errors", width)

    page.goto("/admin/templates")
    bad_template = json.dumps({"code": "monthly_report", "title": "", "items": []}).encode()
    page.set_input_files("#file", {"name": "mau.json", "mimeType": "application/json", "buffer": bad_template})
    page.click("#h-publish ~ form button")
    page.wait_for_selector(".error ul.row-errors")
    check(page, "admin-templates", width)

    page.goto("/users")
    page.click("a[href='/users/new']")
    page.wait_for_selector("#username")
    check(page, "admin-user-new", width)
    (uid,) = live_server.sql("SELECT id FROM \"user\" WHERE username = 'xa.iatoi'")[0]
    page.goto(f"/users/{uid}")
    page.wait_for_selector("#h-devices")
    check(page, "admin-user", width)
    page.goto("/users")
    check(page, "users-list", width)
    assert not csp_errors, csp_errors
