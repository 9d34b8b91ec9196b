"""End-to-end in real Chromium against the real server (tests/browser_fixtures.py).

Every screen is screenshotted at 360×740 under tests/screenshots/ and checked with axe-core.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib

import pytest

from tests.browser_fixtures import (  # noqa: F401 - fixtures
    CHROMIUM,
    CHROMIUM_ARGS,
    SECOND_OFFICIAL,
    VIEWPORT,
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


def photo_png(w=1800, h=1200) -> bytes:
    """A large 'photo' (gradient) so the phone-side downscale has work to do."""
    row = bytes((x * 255 // w) for x in range(w))
    raw = b"".join(
        b"\0" + bytes(b for px in zip(row, bytes([y * 255 // h]) * w, row[::-1]) for b in px) for y in range(0, h)
    )

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )


def checklist_id(page, template_code: str) -> str:
    return page.evaluate(
        """async (code) => {
        const list = await window.__eiso.store.checklists();
        const c = list.find(x => x.template_code === code);
        return c && c.id;
    }""",
        template_code,
    )


def wait_controlled(page) -> None:
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")


def open_checklist(page, cid: str) -> None:
    page.evaluate("(id) => { location.hash = '#/c/' + id; }", cid)
    try:
        page.wait_for_selector("#submit-btn")
    except Exception:
        shot(page, "debug-open-checklist")
        raise


def test_offline_fill_photo_close_reopen_sync(new_context, live_server):
    ctx = new_context()
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/app/")
    page.wait_for_selector("#username")
    shot(page, "01-login")
    axe_check(page, "login")
    login(page, "xa.iatoi")
    wait_synced(page)
    wait_controlled(page)
    assert page.evaluate("navigator.storage.persisted()") in (True, False)
    cid = checklist_id(page, "rollout")
    assert cid, "the demo seed has a rollout checklist for Ia Tơi"

    # No network from here on: the reload is served by the service worker, data by IndexedDB.
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("#h-unit")
    assert "Ngoại tuyến" in page.inner_text("#sync-chip")
    shot(page, "02-home-offline")
    axe_check(page, "home")

    open_checklist(page, cid)
    page.click("label[for='i-s01_training_done-yes']")
    page.fill("#i-s01_training_date-input", "2026-11-20")
    page.fill("#i-s03_plan_number-input", "Kế hoạch số 12/KH-UBND")
    page.locator("#i-s03_plan_number-input").blur()
    page.set_input_files(
        "#i-s02_gap_report-file", files=[{"name": "bien-ban.png", "mimeType": "image/png", "buffer": photo_png()}]
    )
    page.wait_for_selector("#i-s02_gap_report .file-name")
    page.click("body")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__eiso.store.outboxCount()") >= 4
    local = page.evaluate(
        """async (id) => {
        const a = await window.__eiso.store.answers(id);
        return a.get('s02_gap_report').value;
    }""",
        cid,
    )
    assert len(local) == 1 and local[0]["mime"] == "image/jpeg" and local[0]["size"] < 400_000
    shot(page, "03-checklist-filled")
    axe_check(page, "checklist")

    # Close the page; reopen it, still offline: everything is still there.
    page.close()
    page = ctx.new_page()
    page.goto("/app/")
    page.wait_for_selector("#h-unit")
    assert page.evaluate("window.__eiso.store.outboxCount()") >= 4
    page.evaluate("location.hash = '#/outbox'")
    page.wait_for_selector("#waiting-count")
    assert int(page.inner_text("#waiting-count")) >= 4
    shot(page, "04-outbox-waiting")
    axe_check(page, "outbox")

    # Back online: the app sends by itself (the online event), the answers first, then the photo.
    ctx.set_offline(False)
    wait_synced(page, timeout=30000)
    page.wait_for_function("() => document.getElementById('sync-chip').textContent === 'Đã đồng bộ'")
    api = live_server.client("xa.iatoi")
    data = api.get(f"/api/checklists/{cid}").json()
    answers = {a["item_key"]: a for a in data["answers"]}
    assert answers["s01_training_done"]["value"] == "yes"
    assert answers["s01_training_date"]["value"] == "2026-11-20"
    assert answers["s03_plan_number"]["value"] == "Kế hoạch số 12/KH-UBND"
    ref = answers["s02_gap_report"]["value"][0]
    file = api.get(f"/api/evidence/{ref['sha256']}")
    assert file.status_code == 200 and hashlib.sha256(file.content).hexdigest() == ref["sha256"]
    assert file.content[:3] == b"\xff\xd8\xff" and len(file.content) == ref["size"]  # downscaled JPEG
    page.evaluate("location.hash = '#/outbox'")
    page.wait_for_timeout(400)
    shot(page, "05-outbox-synced")
    assert not errors, errors


def test_conflict_same_winner_and_resolve(new_context, live_server):
    a_ctx, b_ctx = new_context(), new_context()
    a, b = a_ctx.new_page(), b_ctx.new_page()
    login(a, "xa.iatoi")
    login(b, SECOND_OFFICIAL)
    wait_synced(a)
    wait_synced(b)
    cid = checklist_id(a, "monthly_report")
    assert cid and cid == checklist_id(b, "monthly_report")
    a_ctx.set_offline(True)
    b_ctx.set_offline(True)
    for page, choice in ((a, "yes"), (b, "no")):
        open_checklist(page, cid)
        page.click(f"label[for='i-plan_issued-{choice}']")
        page.wait_for_timeout(200)
    a_ctx.set_offline(False)
    wait_synced(a)
    b_ctx.set_offline(False)
    wait_synced(b)
    sync_now(a)
    wait_synced(a)
    page_values = []
    for page in (a, b):
        page.wait_for_selector("#i-plan_issued .conflict")
        page_values.append(
            page.evaluate(
                """async (id) => {
            const a = await window.__eiso.store.answers(id);
            return a.get('plan_issued').value;
        }""",
                cid,
            )
        )
    assert page_values[0] == page_values[1] and page_values[0] in ("yes", "no")
    server = live_server.client("xa.iatoi").get(f"/api/checklists/{cid}").json()
    assert {x["item_key"] for x in server["conflicts"]} == {"plan_issued"}
    assert next(x for x in server["answers"] if x["item_key"] == "plan_issued")["value"] == page_values[0]
    # (A re-render after the last sync may replace the element: scroll to whichever is there now.)
    b.evaluate("document.querySelector('#i-plan_issued .conflict').scrollIntoView({block: 'center'})")
    shot(b, "06-conflict")
    axe_check(b, "conflict")
    # B chooses the value that lost; both phones end with it and no open conflict.
    loser = "no" if page_values[0] == "yes" else "yes"
    b.click("#i-plan_issued .conflict li:nth-child(2) button")
    poll(b, "async (id) => (await window.__eiso.store.conflicts(id)).length === 0", cid)
    wait_synced(b)
    sync_now(a)
    wait_synced(a)
    server = live_server.client("xa.iatoi").get(f"/api/checklists/{cid}").json()
    assert server["conflicts"] == []
    assert next(x for x in server["answers"] if x["item_key"] == "plan_issued")["value"] == loser
    for page in (a, b):
        poll(
            page,
            """async (id) => {
            const c = await window.__eiso.store.conflicts(id);
            const a = await window.__eiso.store.answers(id);
            return c.length === 0 && a.get('plan_issued').value === %s;
        }"""
            % json.dumps(loser),
            cid,
        )


def test_rejected_edit_shows_reason(new_context, live_server):
    ctx = new_context()
    page = ctx.new_page()
    login(page, "xa.iatoi")
    wait_synced(page)
    # Create the annual report from the home screen, and let it reach the server.
    page.select_option("#new-template", label=page.locator("#new-template option", has_text="năm").first.inner_text())
    page.click("form button[type=submit]:has-text('Tạo phiếu')")
    page.wait_for_selector("#submit-btn")
    cid = checklist_id(page, "annual_report")
    assert cid and page.url.endswith("#/c/" + cid)
    sync_now(page)
    wait_synced(page)
    ctx.set_offline(True)
    page.fill("#i-tthc_published-input", "41")
    page.locator("#i-tthc_published-input").blur()
    page.wait_for_timeout(200)
    # Meanwhile a colleague submits the checklist from another phone: the edit will reach a locked checklist.
    other = live_server.client(SECOND_OFFICIAL)
    device = other.post("/api/devices", json={"name": "test"}).json()["device_id"]
    version = other.get(f"/api/checklists/{cid}").json()["version"]
    r = other.post(
        "/api/sync/push",
        json={
            "protocol": 1,
            "device_id": device,
            "client_ms": 0,
            "edits": [
                {
                    "seq": 1,
                    "kind": "status",
                    "checklist_id": cid,
                    "action": "submit",
                    "seen_version": version,
                    "device_ms": 0,
                }
            ],
        },
    )
    assert r.json()["results"][0]["outcome"] in ("applied", "merged"), r.text
    ctx.set_offline(False)
    wait_synced(page)
    page.evaluate("location.hash = '#/outbox'")
    page.wait_for_selector(".rejected .reason")
    reason = page.inner_text(".rejected .reason")
    assert reason.startswith("Lý do: ") and len(reason) > 12
    shot(page, "07-outbox-rejected")
    axe_check(page, "outbox-rejected")
    open_checklist(page, cid)
    assert page.locator("#i-tthc_published-input").is_disabled()
    shot(page, "08-checklist-submitted")


def test_installable(playwright_instance, live_server, tmp_path):
    ctx = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        viewport=VIEWPORT,
        base_url=live_server.base_url,
    )
    try:
        page = ctx.new_page()
        page.goto("/app/")
        page.wait_for_selector("#username")
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        cdp = ctx.new_cdp_session(page)
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == [], errors
        manifest = cdp.send("Page.getAppManifest")
        assert not manifest.get("errors"), manifest
    finally:
        ctx.close()


def push_status(client, cid: str, action: str, comment: str = "") -> dict:
    device = client.post("/api/devices", json={"name": "test"}).json()["device_id"]
    version = client.get(f"/api/checklists/{cid}").json()["version"]
    r = client.post(
        "/api/sync/push",
        json={
            "protocol": 1,
            "device_id": device,
            "client_ms": 0,
            "edits": [
                {
                    "seq": 1,
                    "kind": "status",
                    "checklist_id": cid,
                    "action": action,
                    "seen_version": version,
                    "comment": comment,
                    "device_ms": 0,
                }
            ],
        },
    )
    return r.json()["results"][0]


def test_returned_checklist_expired_session_and_logout(new_context, live_server):
    ctx = new_context()
    page = ctx.new_page()
    login(page, "xa.iatoi")
    wait_synced(page)
    cid = checklist_id(page, "self_assessment")
    official, reviewer = live_server.client(SECOND_OFFICIAL), live_server.client("huyen.iahdrai")
    assert push_status(official, cid, "submit")["outcome"] in ("applied", "merged")
    result = push_status(reviewer, cid, "return", "Bổ sung minh chứng cho mục 4.1.")
    assert result["outcome"] in ("applied", "merged"), result
    # The reviewer's comment on one item, written in the database as the review screens write it.
    (unit_id,) = live_server.sql("SELECT unit_id FROM checklist WHERE id = ?", (cid,))[0]
    live_server.sql(
        "INSERT INTO answer (checklist_id, item_key, value, note, version, value_ms, value_by, value_device,"
        " value_seq, note_ms, note_by, note_device, note_seq, review_comment, updated_ms, value_version,"
        " note_version) VALUES (?, 'c4_1_context', NULL, '', 1, 0, '', '', 0, 0, '', '', 0, ?, 0, 0, 0)",
        (cid, "Chưa có văn bản xác định bối cảnh; đề nghị bổ sung."),
    )
    live_server.sql(
        'INSERT INTO "change" (unit_id, checklist_id, entity, entity_key, op) VALUES (?, ?, ?, ?, ?)',
        (unit_id, cid, "answer", "c4_1_context", "upsert"),
    )
    sync_now(page)
    wait_synced(page)
    open_checklist(page, cid)
    page.wait_for_selector("#i-c4_1_context .review")
    assert "bổ sung" in page.inner_text("#i-c4_1_context .review")
    assert "Bổ sung minh chứng" in page.inner_text("main")
    shot(page, "09-checklist-returned")
    axe_check(page, "checklist-returned")

    # The session ends on the server (expired or revoked) while the phone edits: the edit stays, the app
    # asks to log in again, and after logging in it goes.
    live_server.sql(
        "UPDATE session SET revoked_at = CURRENT_TIMESTAMP WHERE user_id = "
        "(SELECT id FROM \"user\" WHERE username = 'xa.iatoi')"
    )
    page.click("label[for='i-c4_1_context-yes']")
    page.wait_for_selector("#auth-banner", timeout=20000)
    assert page.evaluate("window.__eiso.store.outboxCount()") == 1
    shot(page, "10-session-expired")
    page.click("#auth-banner button")
    page.wait_for_selector("#password")
    assert page.input_value("#username") == "xa.iatoi"
    shot(page, "11-login-again")
    page.fill("#password", live_server.password)
    page.click("button[type=submit]")
    page.wait_for_selector("#h-unit")
    wait_synced(page)
    answers = {a["item_key"]: a for a in live_server.client("xa.iatoi").get(f"/api/checklists/{cid}").json()["answers"]}
    assert answers["c4_1_context"]["value"] == "yes"

    # Logging out with unsent edits warns first and keeps them.
    ctx.set_offline(True)
    open_checklist(page, cid)
    page.click("label[for='i-c4_2_interested_parties-yes']")
    poll(page, "async () => (await window.__eiso.store.outboxCount()) === 1")
    page.evaluate("location.hash = '#/'")
    page.click("button:has-text('Đăng xuất')")
    page.wait_for_selector("dialog[open]")
    shot(page, "12-logout-warning")
    axe_check(page, "logout-warning")
    page.click("dialog button:has-text('Vẫn đăng xuất')")
    page.wait_for_selector("#username")
    count = page.evaluate("""async () => {
        const {openUserDb} = await import('/app/js/db.js');
        const s = await openUserDb('xa.iatoi'); const n = await s.outboxCount(); s.close(); return n; }""")
    assert count == 1
