"""The admin's /users page in real Chromium at 360 px: a lost phone's device revoked there locks the phone
out at its next sync; the page passes axe-core with no CSP violation. The phone registered its device
once, sending an Idempotency-Key."""

from __future__ import annotations

import pytest

from tests.browser_fixtures import (  # noqa: F401
    PASSWORD,
    SECOND_OFFICIAL,
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


def test_an_admin_revokes_a_lost_phone_on_the_users_page_and_the_phone_is_locked_out(new_context, live_server):
    phone_ctx = new_context()
    phone = phone_ctx.new_page()
    registrations: list[dict] = []
    phone.on(
        "request",
        lambda r: registrations.append(r.headers) if r.method == "POST" and r.url.endswith("/api/devices") else None,
    )
    login(phone, "xa.iatoi")
    wait_synced(phone)
    device_id = phone.evaluate("window.__eiso.store.kvGet('device_id')")
    assert device_id and len(registrations) == 1 and registrations[0].get("idempotency-key")
    # The key is dropped once the answer arrived: a later registration is a new one.
    assert phone.evaluate("window.__eiso.store.kvGet('device_registration_key')") is None

    admin_ctx = new_context()
    page = admin_ctx.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/login?next=/users")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/users")
    page.get_by_role("link", name="Tài khoản").is_visible()
    page.fill("#q", "xa.iatoi")
    page.click("form.search button")
    page.wait_for_url("**/users?q=xa.iatoi")
    shot(page, "page-users")
    axe_check(page, "page-users")
    revoke = page.locator(f"form[action='/users/devices/{device_id}/revoke'] button")
    revoke.scroll_into_view_if_needed()
    shot(page, "page-users-device")
    revoke.click()
    page.wait_for_selector("p.done")
    assert "Đã thu hồi thiết bị" in page.inner_text("p.done")
    page.locator("p.done").scroll_into_view_if_needed()
    shot(page, "page-users-revoked")
    axe_check(page, "page-users-revoked")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not csp_errors, csp_errors

    # The finder's phone: its next sync meets an ended session, and the app asks for a login.
    sync_now(phone)
    phone.wait_for_selector("#auth-banner", timeout=20000)
    status = phone.evaluate("async () => (await fetch('/api/checklists')).status")
    assert status == 401


def test_a_locked_account_is_told_so_on_the_phones_login_screen(new_context, live_server):
    admin = new_context().new_page()
    admin.goto("/login?next=/users")
    admin.fill("#username", "admin")
    admin.fill("#password", PASSWORD)
    admin.click("button.primary")
    admin.wait_for_url("**/users")
    card = admin.locator(".card.account", has_text=SECOND_OFFICIAL)
    try:
        card.get_by_role("button", name="Khoá tài khoản").click()
        admin.wait_for_selector("p.done")
        assert "Đã khoá tài khoản " + SECOND_OFFICIAL in admin.inner_text("p.done")
        assert "Đã khoá" in admin.locator(".card.account", has_text=SECOND_OFFICIAL).inner_text()

        phone = new_context().new_page()
        phone.goto("/app/")
        phone.wait_for_selector("#username")
        phone.fill("#username", SECOND_OFFICIAL)
        phone.fill("#password", PASSWORD)
        phone.click("button[type=submit]")
        alert = phone.get_by_text("Tài khoản này đã bị khoá")
        alert.wait_for()
        shot(phone, "app-login-locked")
        axe_check(phone, "app-login-locked")
    finally:
        admin.goto("/users")
        admin.locator(".card.account", has_text=SECOND_OFFICIAL).get_by_role("button", name="Mở khoá tài khoản").click()
        admin.wait_for_selector("p.done")
