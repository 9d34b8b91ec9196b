"""The phone tells the truth, in real Chromium against the real server (tests/browser_fixtures.py).

- One action is one edit: for every item type and the note, whether the official leaves the field, taps
  away, switches screens or closes the app mid-word (the draft is recorded once on return).
- The badge, the outbox and the server agree through a lost answer (the server saved the push, the
  phone never heard), a 503 and a dead server. The network faults are Playwright route interception;
  the server behind them is real.
- A screen opens at its top; a conflict between two phones of one person names the phones; the login
  screen has no stray "null". Screenshots at 360 px under tests/screenshots/, axe-core on each screen.
"""

from __future__ import annotations

import re

import pytest

from server.catalogue import PHONE_MESSAGES
from tests.browser_fixtures import (  # noqa: F401 - fixtures
    axe_check,
    browser,
    live_server,
    login,
    new_context,
    playwright_instance,
    poll,
    shot,
    sync_now,
    wait_synced,
)

pytestmark = pytest.mark.browser

COUNT = "() => window.__eiso.store.outboxCount()"


def monthly_id(page) -> str:
    return page.evaluate("""async () => {
        const c = (await window.__eiso.store.checklists()).find(x => x.template_code === 'monthly_report');
        return c && c.id;
    }""")


def open_checklist(page, cid: str) -> None:
    page.evaluate("(id) => { location.hash = '#/c/' + id; }", cid)
    page.wait_for_selector("#submit-btn")


def answer(page, cid: str, key: str, field: str = "value"):
    return page.evaluate(
        "async ([id, key, field]) => ((await window.__eiso.store.answers(id)).get(key) || {})[field]",
        [cid, key, field],
    )


def device_id(page) -> str:
    return page.evaluate("() => window.__eiso.store.kvGet('device_id')")


def server_edits(live_server, device: str) -> int:
    return live_server.sql("SELECT COUNT(*) FROM edit WHERE device_id = ?", (device,))[0][0]


def test_one_action_is_one_outbox_entry_for_every_item_type_and_the_note(new_context, live_server):
    ctx = new_context()
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, "xa.iatoi")
    wait_synced(page)
    cid = monthly_id(page)
    device = device_id(page)
    edits_before = server_edits(live_server, device)
    ctx.set_offline(True)  # the outbox keeps what each action recorded
    open_checklist(page, cid)
    count = page.evaluate(COUNT)

    def one_more(what: str) -> None:
        nonlocal count
        # The first write may be slow on a loaded machine: wait for it (or time out, leaving 0 to report),
        # then give a second write time to land.
        try:
            poll(page, f"async () => (await window.__eiso.store.outboxCount()) > {count}", timeout=5000)
        except AssertionError:
            pass
        page.wait_for_timeout(300)
        now = page.evaluate(COUNT)
        assert now == count + 1, f"{what}: {now - count} outbox entries"
        count = now

    page.click("label[for='i-objectives_issued-yes']")
    one_more("a choice tapped")
    page.fill("#i-internal_audit_date-input", "2026-11-20")
    page.locator("#i-internal_audit_date-input").blur()
    one_more("a date")
    page.click("#i-internal_procedures_count-input")
    page.keyboard.type("12")
    page.click("h1")  # tapping away
    one_more("a number")
    assert answer(page, cid, "internal_procedures_count") == 12
    page.click("#i-difficulties-input")
    page.keyboard.type("Thiếu cán bộ")
    page.wait_for_timeout(1800)  # a pause while typing is not an edit of its own
    page.keyboard.type(" chuyên trách")
    page.keyboard.press("Tab")
    one_more("a text typed with a pause")
    assert answer(page, cid, "difficulties") == "Thiếu cán bộ chuyên trách"
    page.set_input_files(
        "#i-reannounce_photo-file",
        files=[{"name": "quyet-dinh.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}],
    )
    page.wait_for_selector("#i-reannounce_photo .file-name")
    one_more("a file attached")

    # The note: typed, then left at once (change and blur both used to record it: two entries).
    page.click("#i-new_tthc_count summary")
    page.click("#i-new_tthc_count-note")
    page.keyboard.type("Ghi chú một")
    page.click("h1")
    one_more("a note left at once")
    assert answer(page, cid, "new_tthc_count", "note") == "Ghi chú một"

    # Switching screens while the field still has the focus (no blur): recorded once, before the outbox.
    page.click("#i-proposals-input")
    page.keyboard.type("Đề xuất tập huấn")
    page.evaluate("location.hash = '#/outbox'")
    page.wait_for_selector("#waiting-line")
    one_more("a text left by switching screens")
    assert answer(page, cid, "proposals") == "Đề xuất tập huấn"

    # Closing the app mid-word: the draft is recorded once when it opens again.
    open_checklist(page, cid)
    page.click("#i-communes_reported_count summary")
    page.click("#i-communes_reported_count-note")
    page.keyboard.type("Đang soạn dở")
    page.close()
    page = ctx.new_page()
    page.goto("/app/")
    page.wait_for_selector("#h-unit")
    page.wait_for_timeout(500)
    one_more("a note typed when the app was closed")
    assert answer(page, cid, "communes_reported_count", "note") == "Đang soạn dở"
    page.reload()  # and never again
    page.wait_for_selector("#h-unit")
    page.wait_for_timeout(500)
    assert page.evaluate(COUNT) == count

    open_checklist(page, cid)
    shot(page, "truth-01-checklist-offline")
    axe_check(page, "checklist")
    # The server gets exactly as many edits as there were actions.
    ctx.set_offline(False)
    wait_synced(page, timeout=30000)
    assert server_edits(live_server, device) - edits_before == 8
    assert not errors, errors


def chip(page) -> str:
    return page.inner_text("#sync-chip")


def chip_says(page, text: str) -> None:
    """Until the badge says `text` (a retry or the sync after an edit may be running: it says so first)."""
    poll(page, "(want) => document.getElementById('sync-chip').textContent === want", text)


def outbox_status(page) -> str:
    page.evaluate("window.__eiso.go('#/outbox')")  # renders again when it is already the screen
    page.wait_for_selector("#waiting-line")
    page.wait_for_timeout(400)
    return page.inner_text("section.card")


def tap_and_sync(page, cid: str, key: str, choice: str) -> None:
    open_checklist(page, cid)
    page.click(f"label[for='i-{key}-{choice}']")
    page.wait_for_timeout(200)
    sync_now(page)
    poll(page, "() => !window.__eiso.syncer.running")


def sentence(name: str, **values) -> str:
    text = PHONE_MESSAGES[name]
    for k, v in values.items():
        text = text.replace("{" + k + "}", str(v))
    return text


def test_badge_outbox_and_server_agree_through_a_lost_answer_a_503_and_a_dead_server(new_context, live_server):
    ctx = new_context()
    page = ctx.new_page()
    login(page, "xa.iatoi")
    wait_synced(page)
    cid = monthly_id(page)
    device = device_id(page)
    base = server_edits(live_server, device)

    # 1. Lost answer: the push reaches the server, which applies it; the answer never reaches the phone.
    def lose_answer(route):
        route.fetch()
        route.abort("connectionreset")

    page.route("**/api/sync/push", lose_answer)
    tap_and_sync(page, cid, "audit_programme_issued", "yes")
    assert server_edits(live_server, device) == base + 1  # saved on the server
    assert page.evaluate(COUNT) == 1  # not confirmed on the phone: still waits, will be re-sent
    chip_says(page, sentence("chip_failed", waiting=1))
    status = outbox_status(page)
    assert sentence("waiting_edits", count=1) in status
    assert sentence("failed_unconfirmed", count=1) in status
    assert sentence("failed_unreachable") not in status
    assert re.search(r"Sẽ thử lại sau \d+ giây\.", status), status
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "truth-02-outbox-lost-answer")
    axe_check(page, "outbox after a lost answer")
    page.unroute("**/api/sync/push")
    sync_now(page)
    wait_synced(page)
    assert server_edits(live_server, device) == base + 1  # re-sent, not applied twice
    chip_says(page, PHONE_MESSAGES["chip_synced"])
    status = outbox_status(page)
    assert PHONE_MESSAGES["waiting_none"] in status and "thử lại" not in status

    # 2. The server answers 503.
    page.route(
        "**/api/sync/push",
        lambda route: route.fulfill(status=503, content_type="text/plain", body="Service Unavailable"),
    )
    tap_and_sync(page, cid, "audit_programme_issued", "no")
    assert server_edits(live_server, device) == base + 1
    chip_says(page, sentence("chip_failed", waiting=1))
    status = outbox_status(page)
    assert sentence("failed_server", status=503) in status
    assert re.search(r"Sẽ thử lại sau \d+ giây\.", status), status
    shot(page, "truth-03-outbox-503")

    # 3. The server is dead: nothing under /api/ answers. Routed before the 503 is lifted, so a retry
    # the phone makes in between cannot slip through to the live server.
    page.route("**/api/**", lambda route: route.abort("connectionrefused"))
    page.unroute("**/api/sync/push")
    tap_and_sync(page, cid, "steering_committee_updated", "yes")
    assert page.evaluate(COUNT) == 2
    chip_says(page, sentence("chip_failed", waiting=2))
    status = outbox_status(page)
    assert sentence("waiting_edits", count=2) in status
    assert sentence("failed_unreachable") in status and sentence("failed_unconfirmed", count=2) not in status
    page.evaluate("location.hash = '#/'")
    page.wait_for_selector("#h-sync")
    page.wait_for_timeout(200)
    assert sentence("waiting_edits", count=2) in page.inner_text("section[aria-labelledby=h-sync]")
    page.evaluate("location.hash = '#/outbox'")
    page.wait_for_selector("#waiting-line")
    shot(page, "truth-04-outbox-dead-server")
    page.unroute("**/api/**")
    sync_now(page)
    wait_synced(page)
    assert server_edits(live_server, device) == base + 3
    chip_says(page, PHONE_MESSAGES["chip_synced"])
    server = live_server.client("xa.iatoi").get(f"/api/checklists/{cid}").json()
    values = {a["item_key"]: a["value"] for a in server["answers"]}
    assert values["audit_programme_issued"] == "no" and values["steering_committee_updated"] == "yes"


def test_a_screen_opens_at_its_top(new_context, live_server):
    ctx = new_context()
    page = ctx.new_page()
    login(page, "xa.iatoi")
    wait_synced(page)
    open_checklist(page, monthly_id(page))
    page.wait_for_timeout(1000)  # the re-render after the first sync keeps the place it found: let it pass
    poll(page, "() => { window.scrollTo(0, document.body.scrollHeight); return window.scrollY > 500; }")
    page.click("#sync-chip")
    page.wait_for_selector("#waiting-line")
    assert page.evaluate("window.scrollY") == 0
    shot(page, "truth-05-outbox-from-scrolled-checklist")


def test_a_conflict_between_two_phones_of_one_person_names_the_phones(new_context, live_server):
    a_ctx, b_ctx = new_context(), new_context()
    a, b = a_ctx.new_page(), b_ctx.new_page()
    login(a, "xa.iatoi")
    wait_synced(a)
    login(b, "xa.iatoi")
    wait_synced(b)
    cid = monthly_id(a)
    a_ctx.set_offline(True)
    b_ctx.set_offline(True)
    for page, choice in ((a, "yes"), (b, "no")):
        open_checklist(page, cid)
        page.click(f"label[for='i-legal_changes-{choice}']")
        page.wait_for_timeout(200)
    a_ctx.set_offline(False)
    wait_synced(a)
    b_ctx.set_offline(False)
    wait_synced(b)
    sync_now(a)
    wait_synced(a)
    names = {}
    for page in (a, b):
        names[device_id(page)] = live_server.sql("SELECT name FROM device WHERE id = ?", (device_id(page),))[0][0]
    for page in (a, b):
        page.wait_for_selector("#i-legal_changes .conflict-who")
        who = page.inner_text("#i-legal_changes .conflict-who")
        assert "hai người" not in who and "xa.iatoi" in who, who
        for name in names.values():
            assert name in who, who
    b.evaluate("document.querySelector('#i-legal_changes .conflict').scrollIntoView({block: 'center'})")
    shot(b, "truth-06-conflict-two-phones")
    axe_check(b, "conflict between two phones")
    b.evaluate("location.hash = '#/outbox'")
    b.wait_for_selector("#h-conf")
    assert all(name in b.inner_text("#h-conf + ul") for name in names.values())
    # Resolve it, so later tests meet no open conflict.
    b.evaluate(f"location.hash = '#/c/{cid}'")
    b.wait_for_selector("#i-legal_changes .conflict")
    b.click("#i-legal_changes .conflict li:nth-child(1) button")
    poll(b, "async (id) => (await window.__eiso.store.conflicts(id)).length === 0", cid)
    wait_synced(b)


def test_the_login_screen_has_no_stray_null(new_context, live_server):
    ctx = new_context()
    page = ctx.new_page()
    page.goto("/app/")
    page.wait_for_selector("#username")
    assert "null" not in page.inner_text("main")
    login(page, "xa.iatoi")
    page.evaluate("location.hash = '#/login'")
    page.wait_for_selector("#username")
    assert "null" not in page.inner_text("main")
    shot(page, "truth-07-login-again")
    axe_check(page, "login again")


def test_the_units_page_at_360_px_shows_districts_of_same_name_units(new_context, live_server):
    ctx = new_context()
    page = ctx.new_page()
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", live_server.password)
    page.click("button[type=submit]")
    page.goto("/units?q=dak+long")
    assert page.locator(".parent-name").count() == 3
    shot(page, "truth-08-units-same-name")
    axe_check(page, "units search")
    page.goto("/units")
    assert "147 đơn vị" in page.inner_text("main")
    shot(page, "truth-09-units")


def test_a_push_result_gives_the_answer_its_version_only_when_applied(new_context, live_server):
    ctx = new_context()
    page = ctx.new_page()
    login(page, "xa.iatoi")
    wait_synced(page)
    cid = monthly_id(page)
    ctx.set_offline(True)  # the results below are the only ones these edits get
    versions = page.evaluate(
        """async (id) => {
        const s = window.__eiso.store;
        const device = await s.kvGet('device_id');
        const version = async () => (await s.answers(id)).get('reannounced').version;
        const merged = await s.recordEdit({kind: 'answer', checklist_id: id, item_key: 'reannounced', value: 'yes'});
        await s.applyResults(device, [{seq: merged, outcome: 'conflict', version: 99, won: false}]);
        const afterConflict = await version();
        const applied = await s.recordEdit({kind: 'answer', checklist_id: id, item_key: 'reannounced', value: 'no'});
        await s.applyResults(device, [{seq: applied, outcome: 'applied', version: 7}]);
        return [afterConflict, await version()];
    }""",
        cid,
    )
    assert versions[0] != 99  # a merged or conflicting edit's version is not the answer's
    assert versions[1] == 7
