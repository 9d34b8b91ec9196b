"""The review round trip on phones, in real Chromium against a real server (issue 14).

A commune fills in and submits a checklist offline, syncs; the district's reviewer (another browser
context) finds it in the queue, comments on an item and returns it with a reason; the commune's phone
shows the reason and the comment beside its item after its sync, is fixed and resubmitted; the reviewer
sees only what changed and approves. An approval made offline and overtaken by the commune's later edit
is refused by the server and said on the checklist and in the outbox. axe-core and screenshots at 360 px
on every new screen (tests/screenshots/review-*.png).
"""

from __future__ import annotations

import time

import pytest

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

COMMUNE, REVIEWER = "xa.iatoi", "huyen.iahdrai"
TEMPLATE = "monthly_report"


# ---- set-up through the real API ---------------------------------------------------------------------
def new_checklist(live_server, period: str) -> str:
    """A monthly report of the commune for a period no other test uses (POST /api/checklists)."""
    c = live_server.client(COMMUNE)
    try:
        unit_id = c.get("/api/session").json()["user"]["unit"]["id"]
        template_id = next(t["id"] for t in c.get("/api/templates").json()["templates"] if t["code"] == TEMPLATE)
        r = c.post("/api/checklists", json={"unit_id": unit_id, "template_id": template_id, "period": period})
        assert r.status_code == 201, r.text
        return r.json()["id"]
    finally:
        c.close()


class ApiPhone:
    """A user's device speaking the sync protocol over HTTP (for the other side of a scenario)."""

    def __init__(self, live_server, username: str):
        self.http = live_server.client(username)
        r = self.http.post("/api/devices", json={"name": "API " + username})
        assert r.status_code == 201, r.text
        self.device, self.seq = r.json()["device_id"], 0

    def push(self, *edits: dict) -> list[dict]:
        out = []
        for e in edits:
            self.seq += 1
            out.append({"seq": self.seq, "device_ms": int(time.time() * 1000), **e})
        body = {"protocol": 1, "device_id": self.device, "client_ms": int(time.time() * 1000), "edits": out}
        r = self.http.post("/api/sync/push", json=body)
        assert r.status_code == 200, r.text
        return r.json()["results"]


def status_of(live_server, cid: str) -> tuple:
    return live_server.sql("SELECT status, version, approved_version FROM checklist WHERE id = ?", (cid,))[0]


# ---- driving the phone -----------------------------------------------------------------------------
def open_checklist(page, cid: str, selector: str) -> None:
    page.evaluate("(id) => { location.hash = '#/c/' + id; window.__eiso.refresh(); }", cid)
    page.wait_for_selector(selector)


def fill_required(page, cid: str) -> None:
    """Every required item through the screen: choices "Có", numbers 3."""
    items = page.evaluate(
        """async (id) => {
        const s = window.__eiso.store; const c = await s.checklist(id);
        return (await s.template(c.template_id)).items.filter(i => i.required).map(i => [i.key, i.type]);
    }""",
        cid,
    )
    for key, kind in items:
        if kind == "choice":
            page.click(f"label[for='i-{key}-yes']")
        elif kind == "number":
            page.fill(f"#i-{key}-input", "3")
            page.locator(f"#i-{key}-input").blur()


def submit(page) -> None:
    page.click("#submit-btn")
    page.click("dialog button.primary")  # "Nộp phiếu" in the confirmation
    page.wait_for_selector("#checklist-status")


def resync(page) -> None:
    """A whole sync that started after this call: pushed, pulled and recorded (a sync already running
    when asked may have pulled before the news)."""
    wait_synced(page)  # whatever runs now ends first; any sync after this mark pulls fresh
    before = page.evaluate("() => Date.now()")
    sync_now(page)
    poll(page, "async (t) => ((await window.__eiso.store.kvGet('last_sync_ms')) || 0) > t", before)
    wait_synced(page)


def comment_on(page, item_key: str, text: str) -> None:
    box = page.locator(f"#r-{item_key} .comment-box")
    box.locator("summary").click()
    page.fill(f"#cm-{item_key}", text)
    box.locator("button[type=submit]").click()
    page.wait_for_selector(f"#r-{item_key} .comment-text:has-text('{text}')")


def scroll_to(page, selector: str) -> None:
    """Scroll in one step in the page (a re-render after sync news may replace the element meanwhile)."""
    page.wait_for_selector(selector)
    page.evaluate("(s) => document.querySelector(s).scrollIntoView()", selector)


# ---- the round trip ----------------------------------------------------------------------------------
def test_commune_and_reviewer_go_round_the_review_on_two_phones(new_context, live_server):
    cid = new_checklist(live_server, "2025-01")
    commune_ctx, reviewer_ctx = new_context(), new_context()
    commune, reviewer = commune_ctx.new_page(), reviewer_ctx.new_page()

    # The commune fills in and submits offline; nothing is lost, it goes when the network is back.
    login(commune, COMMUNE)
    wait_synced(commune)
    commune_ctx.set_offline(True)
    open_checklist(commune, cid, "#submit-btn")
    fill_required(commune, cid)
    submit(commune)
    assert status_of(live_server, cid)[0] == "draft"
    commune_ctx.set_offline(False)
    resync(commune)
    status, submitted_version, _ = status_of(live_server, cid)
    assert status == "submitted"

    # The reviewer's home is the queue: the submitted checklist of the commune below, with counts.
    login(reviewer, REVIEWER)
    wait_synced(reviewer)
    reviewer.evaluate("() => window.__eiso.refresh()")
    row = reviewer.locator(f"#review-queue li[data-checklist-id='{cid}']")
    row.wait_for()
    assert "Đã nộp" in row.inner_text()
    assert "chờ duyệt" in reviewer.inner_text("#queue-counts")
    axe_check(reviewer, "review queue")
    shot(reviewer, "review-queue")

    # It opens to the answers; an item comment and a return with a reason, both through the outbox.
    row.locator("a").click()
    reviewer.wait_for_selector("#h-decide")
    assert reviewer.locator("#r-plan_issued .answer-value").inner_text() == "Có"
    # A reviewer reads answers and never changes them: no answer control on the screen.
    assert reviewer.locator("main input, main select").count() == 0
    axe_check(reviewer, "review checklist")
    shot(reviewer, "review-checklist")
    comment_on(reviewer, "plan_issued", "Chưa thấy số quyết định ban hành kế hoạch.")
    reviewer.fill("#cm-all", "Nhìn chung đầy đủ, chỉ cần bổ sung một mục.")
    reviewer.locator("#cm-all").locator("xpath=..").locator("button[type=submit]").click()
    reviewer.wait_for_selector(".comment-text:has-text('Nhìn chung đầy đủ')")
    reviewer.fill("#decision-reason", "Bổ sung số và ngày của quyết định ban hành kế hoạch.")
    reviewer.click("#return-btn")
    reviewer.wait_for_selector("#review-status:has-text('trả lại')")
    resync(reviewer)
    assert status_of(live_server, cid)[0] == "returned"
    assert sorted(live_server.sql("SELECT item_key, author FROM review_comment WHERE checklist_id = ?", (cid,))) == [
        ("", REVIEWER),
        ("plan_issued", REVIEWER),
    ]

    # The commune's phone, after its sync: an editable returned draft, the reason on top, the comment
    # beside its item.
    resync(commune)
    open_checklist(commune, cid, "#returned-notice")
    assert "Bị trả lại" in commune.inner_text("#checklist-status")
    assert "Bổ sung số và ngày" in commune.inner_text("#returned-notice")
    assert "Chưa thấy số quyết định" in commune.inner_text("#i-plan_issued .item-comments")
    assert "Nhìn chung đầy đủ" in commune.inner_text("#checklist-comments")  # the whole-checklist one, on top
    assert commune.locator("#submit-btn").is_enabled()
    axe_check(commune, "returned checklist")
    scroll_to(commune, "#i-plan_issued")
    shot(commune, "review-returned-commune")

    # Fixed, answered beside the comment (an official may reply), and resubmitted.
    commune.click("label[for='i-plan_issued-partial']")
    commune.wait_for_function("() => document.querySelector('#i-plan_issued-partial').checked")
    commune.locator("#i-plan_issued .comment-box summary").click()
    commune.fill("#cm-plan_issued", "Đã ghi số 12/QĐ-UBND vào ghi chú.")
    commune.locator("#i-plan_issued .comment-form button[type=submit]").click()
    commune.wait_for_selector("#i-plan_issued .comment-text:has-text('12/QĐ-UBND')")
    submit(commune)
    resync(commune)
    status, version, _ = status_of(live_server, cid)
    assert status == "submitted" and version > submitted_version

    # The reviewer sees only what changed since the return, then approves the version on screen.
    resync(reviewer)
    open_checklist(reviewer, cid, "#review-changes")
    assert "12/QĐ-UBND" in reviewer.inner_text("#r-plan_issued .comments")  # the commune's reply
    changes = reviewer.locator("#review-changes li.change")
    assert changes.count() == 1
    assert changes.first.get_attribute("data-item-key") == "plan_issued"
    assert "Có → Một phần" in changes.first.inner_text()
    axe_check(reviewer, "review changes")
    scroll_to(reviewer, "#h-changes")
    shot(reviewer, "review-changes")
    reviewer.click("#approve-btn")
    reviewer.click("dialog button.primary")
    resync(reviewer)
    status, _, approved = status_of(live_server, cid)
    assert (status, approved) == ("approved", version)  # the version the reviewer saw

    # The commune sees it approved.
    resync(commune)
    open_checklist(commune, cid, "#checklist-status")
    assert "Đã duyệt" in commune.inner_text("#checklist-status")

    # The province reopens it with a reason: the commune's phone says "Mở lại", why, and lets it edit.
    admin = ApiPhone(live_server, "admin")
    r = admin.push({"kind": "status", "checklist_id": cid, "action": "reopen", "seen_version": 0,
                    "comment": "Cập nhật theo văn bản mới của tỉnh."})  # fmt: skip
    assert r[0]["outcome"] == "applied", r
    resync(commune)
    open_checklist(commune, cid, "#returned-notice")
    assert commune.inner_text("#checklist-status") == "Mở lại"
    assert "Cập nhật theo văn bản mới" in commune.inner_text("#returned-notice")
    assert commune.locator("#submit-btn").is_enabled()


def test_an_offline_approval_overtaken_by_a_later_edit_is_refused_and_shown(new_context, live_server):
    cid = new_checklist(live_server, "2025-02")
    official = ApiPhone(live_server, COMMUNE)
    items = official.http.get(f"/api/checklists/{cid}").json()
    template = official.http.get(f"/api/templates/{items['template_id']}").json()
    answers = [
        {"kind": "answer", "checklist_id": cid, "item_key": i["key"], "base_version": 0,
         "value": "yes" if i["type"] == "choice" else 2}
        for i in template["items"] if i["required"]
    ]  # fmt: skip
    results = official.push(*answers, {"kind": "status", "checklist_id": cid, "action": "submit", "seen_version": 0})
    assert all(r["outcome"] == "applied" for r in results), results
    seen = status_of(live_server, cid)[1]

    # The reviewer's phone has the submitted version, goes offline and approves it there.
    ctx = new_context()
    page = ctx.new_page()
    login(page, REVIEWER)
    wait_synced(page)
    open_checklist(page, cid, "#approve-btn")
    ctx.set_offline(True)
    page.click("#approve-btn")
    page.click("dialog button.primary")
    poll(page, "async () => (await window.__eiso.store.outboxCount()) === 1")

    # Meanwhile the province reopens it, the commune edits and resubmits: a later version.
    admin = ApiPhone(live_server, "admin")
    r = admin.push({"kind": "status", "checklist_id": cid, "action": "reopen", "seen_version": seen,
                    "comment": "Mở lại để xã cập nhật số thủ tục mới."})  # fmt: skip
    assert r[0]["outcome"] == "applied", r
    r = official.push(
        {"kind": "answer", "checklist_id": cid, "item_key": "new_tthc_count", "value": 5, "base_version": 0},
        {"kind": "status", "checklist_id": cid, "action": "submit", "seen_version": 0},
    )
    assert [x["outcome"] for x in r] == ["applied", "applied"], r
    later = status_of(live_server, cid)[1]
    assert later > seen

    # Back online: the approval is refused (version_changed), said on the checklist and in the outbox.
    ctx.set_offline(False)
    resync(page)
    assert status_of(live_server, cid)[:2] == ("submitted", later)
    open_checklist(page, cid, ".refused-decision")
    text = page.inner_text(".refused-decision")
    assert "Phiếu đã thay đổi kể từ khi bạn xem" in text and f"phiên bản {later}" in text
    assert "Đã nộp" in page.inner_text("#review-status")
    axe_check(page, "refused approval")
    scroll_to(page, ".refused-decision")
    shot(page, "review-refused")
    page.evaluate("() => { location.hash = '#/outbox'; }")
    page.wait_for_selector("#h-rej")
    rejected = page.inner_text("li.rejected")
    assert "Quyết định “duyệt”" in rejected and "Phiếu đã thay đổi" in rejected
    axe_check(page, "outbox with a refused approval")
    shot(page, "review-refused-outbox")


def test_a_reviewer_queue_filters_and_counts_offline(new_context, live_server):
    cid = new_checklist(live_server, "2025-03")
    ctx = new_context()
    page = ctx.new_page()
    login(page, REVIEWER)
    wait_synced(page)
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("#h-queue")
    # Offline, the filters work from the synced data: drafts of the period of this test.
    page.select_option("#q-status", value="draft")
    page.wait_for_selector("#q-status option[value='draft'][selected]", state="attached")
    page.select_option("#q-period", value="2025-03")
    page.wait_for_selector("#q-period option[value='2025-03'][selected]", state="attached")
    row = page.locator(f"#review-queue li[data-checklist-id='{cid}']")
    row.wait_for()
    assert page.locator("#review-queue li").count() == 1
    assert "1 trên" in page.inner_text("#queue-shown")
    axe_check(page, "queue filtered offline")
    shot(page, "review-queue-filtered")


# ---- the local database: step 3 adds the comments without stranding anything -------------------------
UPGRADE_EDITS = [
    {"item_key": "s06_tthc_total", "value": 41},
    {"item_key": "s06_tthc_in_system", "note": "Đã đưa 38 thủ tục vào hệ thống."},
]

TO_VERSION_2 = """async (name) => new Promise((resolve, reject) => {
  // Step 2 as it shipped: the outbox indexed by checklist.
  const r = indexedDB.open(name, 2);
  r.onupgradeneeded = () => r.transaction.objectStore("outbox").createIndex("checklist", "checklist_id");
  r.onsuccess = () => { r.result.close(); resolve(true); };
  r.onerror = () => reject(r.error);
})"""


def test_an_older_phone_upgrades_to_comments_keeps_its_edits_and_gets_earlier_comments(new_context, live_server):
    from tests.browser_fixtures import SECOND_OFFICIAL
    from tests.test_pwa_db_upgrade import MAKE_V1_PHONE, NO_APP_PAGE, RAW_SCHEMA

    # The reviewer comments on the commune's roll-out checklist before the old phone's last pull.
    with_reviewer = ApiPhone(live_server, REVIEWER)
    rollout = live_server.sql(
        "SELECT c.id FROM checklist c JOIN template t ON t.id = c.template_id JOIN unit u ON u.id = c.unit_id "
        "WHERE t.code = 'rollout' AND u.code = 'KT-147'"
    )[0][0]
    comment_id = "5d6c1a2b-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
    r = with_reviewer.push({"kind": "comment", "comment_id": comment_id, "checklist_id": rollout,
                            "item_key": "s06_tthc_total", "text": "Ghi rõ tổng số thủ tục của xã."})  # fmt: skip
    assert r[0]["outcome"] == "applied", r

    # A phone of the version-2 app: its pull saw the comment and dropped it; two edits wait unsent.
    ctx = new_context()
    page = ctx.new_page()
    page.goto(NO_APP_PAGE)
    made = page.evaluate(MAKE_V1_PHONE, {"username": SECOND_OFFICIAL, "password": live_server.password,
                                         "edits": UPGRADE_EDITS})  # fmt: skip
    name = "eiso-u-" + SECOND_OFFICIAL
    page.evaluate(TO_VERSION_2, name)
    assert page.evaluate(RAW_SCHEMA, name)["version"] == 2

    # The current app: database at version 3 with comments, both edits sent once, the comment beside its item.
    page.goto("/app/")
    page.wait_for_selector("#h-unit")
    wait_synced(page, timeout=30000)
    after = page.evaluate(RAW_SCHEMA, name)
    assert after["version"] == 4 and "comments" in after["stores"]
    rows = live_server.sql("SELECT seq, item_key FROM edit WHERE device_id = ? ORDER BY seq", (made["device_id"],))
    assert rows == [(s, e["item_key"]) for s, e in zip(made["seqs"], UPGRADE_EDITS, strict=True)]
    answers = page.evaluate(
        "async (id) => Object.fromEntries([...(await window.__eiso.store.answers(id))].map(([k, a]) => [k, a]))",
        rollout,
    )
    assert answers["s06_tthc_total"]["value"] == 41
    assert answers["s06_tthc_in_system"]["note"] == UPGRADE_EDITS[1]["note"]
    open_checklist(page, rollout, "#i-s06_tthc_total .item-comments")
    assert "Ghi rõ tổng số thủ tục" in page.inner_text("#i-s06_tthc_total .item-comments")


def test_a_reviewer_settles_a_conflict_only_with_a_value_that_was_entered(new_context, live_server):
    from tests.browser_fixtures import SECOND_OFFICIAL

    cid = new_checklist(live_server, "2025-04")
    first, second = ApiPhone(live_server, COMMUNE), ApiPhone(live_server, SECOND_OFFICIAL)
    answer = {"kind": "answer", "checklist_id": cid, "item_key": "plan_issued", "base_version": 0}
    assert first.push({**answer, "value": "yes"})[0]["outcome"] == "applied"
    assert second.push({**answer, "value": "no"})[0]["outcome"] == "conflict"

    ctx = new_context()
    page = ctx.new_page()
    login(page, REVIEWER)
    wait_synced(page)
    open_checklist(page, cid, "#h-conf")
    box = page.locator("li.conflict")
    # The two values entered, each with its button; nothing to type a third one with.
    assert box.locator("button").count() == 2
    assert box.locator("input, textarea, select").count() == 0
    axe_check(page, "review conflict")
    scroll_to(page, "#h-conf")
    shot(page, "review-conflict")
    loser = live_server.sql("SELECT loser_value FROM conflict WHERE checklist_id = ?", (cid,))[0][0]
    box.locator("button").nth(1).click()
    resync(page)
    status, value = live_server.sql("SELECT status, resolved_value FROM conflict WHERE checklist_id = ?", (cid,))[0]
    assert (status, value) == ("resolved", loser)


def test_an_admin_reviews_a_commune_checklist_and_can_still_answer_it(new_context, live_server):
    cid = new_checklist(live_server, "2025-05")
    ctx = new_context()
    page = ctx.new_page()
    login(page, "admin")
    wait_synced(page)
    page.wait_for_selector("#h-queue")  # a decider's home starts with the queue
    open_checklist(page, cid, "#h-decide")
    assert page.locator("main input[type=radio]").count() == 0
    page.click(f"a[href='#/c/{cid}/edit']")
    page.wait_for_selector("#submit-btn")
    page.click("label[for='i-plan_issued-na']")
    resync(page)
    value = live_server.sql("SELECT value FROM answer WHERE checklist_id = ? AND item_key = 'plan_issued'", (cid,))
    assert value == [('"na"',)]
