"""The phone's side of reminders in Chromium: the service worker shows a pushed reminder (delivered over
the DevTools protocol, as a push service would) with the checklist it links to; the notifications card
comes after the first sync, never on first load; the inbox reads offline from IndexedDB."""

from __future__ import annotations

import json
import time

import pytest

from tests.browser_fixtures import *

pytestmark = pytest.mark.browser


def _registration_id(page, cdp) -> str:
    found: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: found.extend(r["registrationId"] for r in e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    end = time.time() + 10
    while not found and time.time() < end:
        page.wait_for_timeout(100)  # sync Playwright dispatches CDP events only while it works
    assert found, "no service worker registration reported"
    return found[-1]


NOTIFICATIONS = """async () => {
    const reg = await navigator.serviceWorker.ready;
    return (await reg.getNotifications()).map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url}));
}"""


def test_the_service_worker_shows_a_pushed_reminder_that_opens_its_checklist(new_context, live_server):
    context = new_context()
    context.grant_permissions(["notifications"], origin=live_server.base_url)
    page = context.new_page()
    login(page, "xa.iatoi")
    wait_synced(page)
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    cdp = context.new_cdp_session(page)
    reg = _registration_id(page, cdp)

    def deliver(payload: dict) -> None:
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": live_server.base_url, "registrationId": reg, "data": json.dumps(payload, ensure_ascii=False)},
        )

    deliver(
        {
            "title": "Sắp đến hạn: Báo cáo tháng",
            "body": "Xã Ia Tơi chưa nộp.",
            "url": "/app/#/c/abc-123",
            "tag": "7/2026-12",
        }
    )
    shown = poll(page, NOTIFICATIONS)
    assert shown == [
        {
            "title": "Sắp đến hạn: Báo cáo tháng",
            "body": "Xã Ia Tơi chưa nộp.",
            "tag": "7/2026-12",
            "url": live_server.base_url + "/app/#/c/abc-123",
        }
    ]
    # A newer reminder of the same deadline and period replaces the one on screen.
    deliver(
        {"title": "Quá hạn: Báo cáo tháng", "body": "Đã quá 1 ngày.", "url": "/app/#/c/abc-123", "tag": "7/2026-12"}
    )
    poll(
        page,
        NOTIFICATIONS.replace("return (", "const l = (").replace(
            ");\n}", "); return l.length === 1 && l[0].title.startsWith('Quá hạn') && l;\n}"
        ),
    )

    # Where a click goes: the app's checklist; a link to another site in a message is never followed.
    worker = context.service_workers[0]
    assert (
        worker.evaluate("self.notificationTarget({url: '/app/#/c/abc-123'})")
        == live_server.base_url + "/app/#/c/abc-123"
    )
    assert (
        worker.evaluate("self.notificationTarget({url: 'https://evil.example/app/'})")
        == live_server.base_url + "/app/#/"
    )
    assert worker.evaluate("self.notificationTarget({})") == live_server.base_url + "/app/#/"


def test_notifications_are_offered_after_the_first_sync_never_on_first_load(new_context):
    page = new_context().new_page()
    page.goto("/app/")
    page.wait_for_selector("#username")
    assert page.locator("#notify-offer").count() == 0  # first load: the login screen, no question
    permission = page.evaluate("Notification.permission")
    login(page, "xa.iatoi")
    wait_synced(page)
    if permission != "default":
        pytest.skip(f"this Chromium answers Notification.permission={permission!r} without asking")
    page.evaluate("() => window.__eiso.refresh()")
    page.wait_for_selector("#notify-offer")
    page.click("#notify-later")
    assert page.locator("#notify-offer").count() == 0
    page.reload()
    page.wait_for_selector("#h-unit")
    time.sleep(0.5)
    assert page.locator("#notify-offer").count() == 0  # put off for a week


def test_the_inbox_opens_offline_from_the_phone(new_context, live_server):
    (uid,) = live_server.sql('SELECT id FROM "user" WHERE username = ?', ("xa.iatoi",))[0]
    live_server.sql(
        "INSERT INTO inbox_message (user_id, key, title, body, url, created_at) VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP)",
        (uid, "t/2026-12/before-3", "Sắp đến hạn: <Báo cáo> & thử", "Xã Ia Tơi chưa nộp.", "/app/#/"),
    )
    context = new_context()
    page = context.new_page()
    login(page, "xa.iatoi")
    wait_synced(page)
    page.goto("/app/#/inbox")
    page.wait_for_selector("#inbox-list")
    # Shown as text, not HTML (the server's own scheduler may have added reminders of the seed around it).
    titles = page.locator("#inbox-list h3").all_text_contents()
    assert "Sắp đến hạn: <Báo cáo> & thử" in titles
    assert page.locator("#notify-prefs").count() == 1
    axe_check(page, "inbox")
    shot(page, "reminders-inbox")
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("#inbox-list")
    assert "Sắp đến hạn" in page.locator("#inbox-list").text_content()
    assert page.locator("text=Đang xem bản lưu trên máy").count() == 1
    context.set_offline(False)
