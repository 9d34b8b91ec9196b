"""The phone honours Retry-After, in real Chromium against the real server (tests/browser_fixtures.py).

- `pwa/js/retry.js` reads the header: delay-seconds, the three HTTP-date forms (measured against the
  response's Date, not the phone's clock), garbage ignored, at most 10 minutes; jitter only adds.
- After a 503 with Retry-After no automatic push or pull leaves the phone before the time is up (not the
  retry timer, not an edit, not `online`, not the 60 s timer); the badge and the outbox say when it
  retries, in Vietnam's time; afterwards the outbox drains with every edit applied once.
- A "Gửi ngay" pressed by the person goes at once, even when the server asked for ten minutes.
- The real path on SQLite: a write lock held past busy_timeout gives the real 503 database_unavailable.
The busy server is Playwright's route (a fake of the network, the server behind it is real) except in
the last test.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

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
    wait_synced,
)
from tests.conftest import BACKEND

pytestmark = pytest.mark.browser

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SYNC_PATHS = ("/api/sync/push", "/api/sync/pull")


def sentence(name: str, **values) -> str:
    text = PHONE_MESSAGES[name]
    for k, v in values.items():
        text = text.replace("{" + k + "}", str(v))
    return text


def clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, VN).strftime("%H:%M")


def monthly_id(page) -> str:
    return page.evaluate("""async () => {
        const c = (await window.__eiso.store.checklists()).find(x => x.template_code === 'monthly_report');
        return c && c.id;
    }""")


def tap(page, cid: str, key: str, choice: str = "") -> str:
    """Tap a choice of an item (by default the other of yes/no than the phone has: a tap on the choice
    already made is no edit, and the tests share one checklist)."""
    if not choice:
        now = page.evaluate(
            "async ([id, key]) => ((await window.__eiso.store.answers(id)).get(key) || {}).value", [cid, key]
        )
        choice = "no" if now == "yes" else "yes"
    if page.evaluate("location.hash") != f"#/c/{cid}":
        page.evaluate("(id) => { location.hash = '#/c/' + id; }", cid)
        page.wait_for_selector("#submit-btn")
    page.click(f"label[for='i-{key}-{choice}']")
    return choice


def server_edits(live_server, device: str) -> int:
    return live_server.sql("SELECT COUNT(*) FROM edit WHERE device_id = ?", (device,))[0][0]


def last_error(page) -> dict:
    return page.evaluate("() => window.__eiso.store.kvGet('last_error')")


def busy_reported(page) -> dict:
    return poll(
        page,
        "async () => { const e = await window.__eiso.store.kvGet('last_error'); return e && e.kind === 'busy' && e; }",
    )


class SyncRequests:
    """Every push and pull the page sends, timed by the browser itself (Resource Timing: when the fetch
    started and when its answer ended, ms since the epoch), so a slow test process cannot blur them."""

    def __init__(self, page) -> None:
        self.page = page
        page.evaluate("() => performance.setResourceTimingBufferSize(100000)")

    def all(self) -> list[dict]:
        return self.page.evaluate("""() => performance.getEntriesByType('resource')
            .filter(e => /\\/api\\/sync\\/(push|pull)/.test(e.name))
            .map(e => ({path: new URL(e.name).pathname, start: performance.timeOrigin + e.startTime,
                        end: performance.timeOrigin + e.responseEnd, status: e.responseStatus || 0}))""")

    def busy(self, timeout: float = 15000) -> dict:
        """The first request answered 503 (a push, or on the real path any request that met the lock)."""
        return poll(
            self.page,
            timeout=timeout,
            js="""() => performance.getEntriesByType('resource')
            .filter(e => e.name.includes('/api/') && e.responseStatus === 503)
            .map(e => ({start: performance.timeOrigin + e.startTime, end: performance.timeOrigin + e.responseEnd}))[0]""",
        )

    def after(self, t_ms: float) -> list[dict]:
        return [x for x in self.all() if x["start"] > t_ms]


def busy_route(state: dict, retry_after: str):
    """The first `state['left']` pushes are answered 503 database_unavailable with `retry_after`."""

    def handler(route):
        if state["left"] > 0:
            state["left"] -= 1
            body = {"error": "database_unavailable", "message": "busy", "retry_after": 3}
            route.fulfill(
                status=503, headers={"Retry-After": retry_after}, content_type="application/json", body=json.dumps(body)
            )
        else:
            route.continue_()

    return handler


def test_the_retry_after_parser_reads_seconds_dates_and_garbage_and_caps_the_wait(new_context, live_server):
    page = new_context().new_page()
    page.goto("/app/")
    page.wait_for_selector("#username")
    got = page.evaluate("""async () => {
        const r = await import('/app/js/retry.js');
        const now = Date.UTC(2026, 11, 3, 7, 30, 0);  // 14:30 in Vietnam
        const p = (v, o = {}) => r.parseRetryAfter(v, { now, ...o });
        return {
            seconds: p('3'), zero: p('0'), spaced: p(' 120 '), capped: p('86400'), huge: p('99999999999999999999'),
            negative: p('-5'), fraction: p('1.5'), word: p('soon'), empty: p(''), missing: p(null), mixed: p('3s'),
            imf: p('Thu, 03 Dec 2026 07:30:30 GMT'),
            rfc850: p('Thursday, 03-Dec-26 07:31:00 GMT'),
            asctime: p('Thu Dec  3 07:32:00 2026'),
            past: p('Thu, 03 Dec 2026 07:00:00 GMT'),
            far: p('Fri, 04 Dec 2026 07:30:00 GMT'),
            not_a_day: p('Mon, 31 Feb 2026 07:30:30 GMT'),
            lowercase_gmt: p('Thu, 03 Dec 2026 07:30:30 gmt'),
            // The phone's clock is an hour fast: the date is measured against the server's Date header.
            server_clock: r.parseRetryAfter('Thu, 03 Dec 2026 07:30:20 GMT',
                { now: now + 3600000, serverDate: 'Thu, 03 Dec 2026 07:30:00 GMT' }),
            bad_server_clock: p('Thu, 03 Dec 2026 07:30:20 GMT', { serverDate: 'yesterday' }),
            max: r.MAX_RETRY_AFTER_MS,
            jitter_low: r.withJitter(3000, () => 0),
            jitter_high: r.withJitter(3000, () => 0.9999),
            jitter_capped: r.withJitter(600000, () => 0.9999),
            jitter_zero: r.withJitter(0, () => 0.5),
            gate: (() => {
                // The gate: scopes, and an answer already on its way when the server closed it.
                const t = Date.now();
                const out = {};
                r.noteBusy('evidence', t + 60000, t);
                out.evidence_only = [r.busyUntil('server'), r.busyUntil('evidence') === t + 60000];
                r.noteBusy('server', t + 30000, t);
                out.server_holds_all = [r.busyUntil('server') === t + 30000, r.busyUntil('login') === t + 30000];
                r.clearBusy('server', t - 1);  // sent before the server said wait: stays closed
                out.stale_answer = r.busyUntil('server') === t + 30000;
                r.clearBusy('server', t + 1);
                out.reopened = [r.busyUntil('server'), r.busyUntil('evidence') === t + 60000];
                r.clearBusy('evidence', t + 1);
                out.all_open = r.busyUntil('evidence');
                out.past = (r.noteBusy('server', t - 1, t - 2), r.busyUntil('server'));
                r.clearBusy('server', t);
                return out;
            })(),
        };
    }""")
    assert got["max"] == 600_000
    assert got["seconds"] == 3000 and got["zero"] == 0 and got["spaced"] == 120_000
    assert got["capped"] == 600_000 and got["huge"] == 600_000
    for garbage in ("negative", "fraction", "word", "empty", "missing", "mixed", "not_a_day", "lowercase_gmt"):
        assert got[garbage] is None, (garbage, got[garbage])
    assert got["imf"] == 30_000 and got["rfc850"] == 60_000 and got["asctime"] == 120_000
    assert got["past"] == 0 and got["far"] == 600_000
    assert got["server_clock"] == 20_000
    assert got["bad_server_clock"] == 20_000  # an unreadable Date: the phone's clock
    assert got["jitter_low"] == 3000 and 3000 < got["jitter_high"] < 4000  # at least 1 s of spread
    assert 600_000 < got["jitter_capped"] <= 630_000  # 10%, at most 30 s
    assert 0 <= got["jitter_zero"] <= 1000
    gate = got["gate"]
    assert gate["evidence_only"] == [0, True]  # a full evidence store holds back files, not answers
    assert gate["server_holds_all"] == [True, True]
    assert gate["stale_answer"] is True
    assert gate["reopened"] == [0, True] and gate["all_open"] == 0 and gate["past"] == 0


def test_after_a_503_with_retry_after_the_phone_waits_says_when_and_then_sends_everything_once(
    new_context, live_server
):
    ctx = new_context()
    page = ctx.new_page()
    login(page, "xa.iatoi")
    wait_synced(page)
    cid = monthly_id(page)
    device = page.evaluate("() => window.__eiso.store.kvGet('device_id')")
    base = server_edits(live_server, device)
    requests = SyncRequests(page)
    state = {"left": 1}
    page.route("**/api/sync/push", busy_route(state, "3"))

    first = tap(page, cid, "audit_programme_issued")  # the sync after the edit meets the busy server
    failure = busy_reported(page)
    answered = requests.busy()["end"]
    now_ms = page.evaluate("Date.now()")
    # Retry-After: 3 plus at most 1 s of jitter, counted from when the phone read it.
    assert 1500 <= failure["retry_ms"] - now_ms <= 4200, failure
    assert failure["scope"] == "server"

    # Everything that would send on its own waits: another edit, the network coming back, the timer.
    second = tap(page, cid, "steering_committee_updated")
    page.evaluate("() => { window.dispatchEvent(new Event('online')); window.__eiso.syncer.syncNow('timer'); }")
    retry_at = failure["retry_ms"]
    chip = sentence("chip_busy_at", time=clock(retry_at))
    poll(page, "(want) => document.getElementById('sync-chip').textContent === want", chip)
    page.evaluate("window.__eiso.go('#/outbox')")
    page.wait_for_selector("#last-failure")
    status = page.inner_text("section.card")
    assert sentence("failed_busy", time=clock(retry_at)) in status, status
    assert sentence("waiting_edits", count=2) in status
    shot(page, "retry-after-01-outbox-busy")
    axe_check(page, "outbox while the server is busy")
    assert not requests.after(answered), requests.all()  # nothing before the time

    # After the wait the phone sends by itself: both edits, each applied once.
    poll(page, "async () => (await window.__eiso.store.outboxCount()) === 0", timeout=20000)
    wait_synced(page)
    next_sync = requests.after(answered)[0]
    assert next_sync["start"] - answered >= 3000, (next_sync, answered)
    assert server_edits(live_server, device) == base + 2
    server = live_server.client("xa.iatoi").get(f"/api/checklists/{cid}").json()
    values = {a["item_key"]: a["value"] for a in server["answers"]}
    assert values["audit_programme_issued"] == first and values["steering_committee_updated"] == second
    poll(page, "(want) => document.getElementById('sync-chip').textContent === want", PHONE_MESSAGES["chip_synced"])
    assert page.evaluate("() => localStorage.getItem('eiso-retry-after')") in ("{}", None)
    page.unroute("**/api/sync/push")


def test_a_long_retry_after_is_capped_and_a_press_of_send_now_still_goes_at_once(new_context, live_server):
    ctx = new_context()
    page = ctx.new_page()
    login(page, "xa.iatoi.2")
    wait_synced(page)
    cid = monthly_id(page)
    device = page.evaluate("() => window.__eiso.store.kvGet('device_id')")
    base = server_edits(live_server, device)
    requests = SyncRequests(page)
    state = {"left": 1}
    page.route("**/api/sync/push", busy_route(state, "86400"))  # a day: the phone waits 10 minutes at most

    tap(page, cid, "audit_programme_issued")
    failure = busy_reported(page)
    now_ms = page.evaluate("Date.now()")
    assert 590_000 <= failure["retry_ms"] - now_ms <= 631_000, failure
    chip = sentence("chip_busy_at", time=clock(failure["retry_ms"]))
    poll(page, "(want) => document.getElementById('sync-chip').textContent === want", chip)
    shot(page, "retry-after-02-badge-ten-minutes")
    answered = requests.busy()["end"]
    page.evaluate("() => window.__eiso.syncer.syncNow('visible')")
    page.wait_for_timeout(300)
    assert not requests.after(answered)

    # The person presses "Gửi ngay": it goes now, the edit is applied once, the gate is open again.
    page.evaluate("window.__eiso.go('#/outbox')")
    page.wait_for_selector("#last-failure")
    page.click("text=Gửi ngay")
    wait_synced(page)
    assert requests.after(answered)
    assert server_edits(live_server, device) == base + 1
    poll(page, "(want) => document.getElementById('sync-chip').textContent === want", PHONE_MESSAGES["chip_synced"])
    assert page.evaluate("() => localStorage.getItem('eiso-retry-after')") in ("{}", None)
    page.unroute("**/api/sync/push")


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's file lock gives the real 503")
def test_the_real_503_of_a_locked_database_is_honoured(new_context, live_server):
    """A second connection holds SQLite's write lock past the server's busy_timeout (10 s): the first
    request that needs it (the push, or a screen's fetch before it) is answered the real 503
    database_unavailable, Retry-After: 3 (server/unavailable.py); nothing syncs before the 3 s are up."""
    ctx = new_context()
    page = ctx.new_page()
    login(page, "xa.iatoi")
    wait_synced(page)
    cid = monthly_id(page)
    device = page.evaluate("() => window.__eiso.store.kvGet('device_id')")
    base = server_edits(live_server, device)
    requests = SyncRequests(page)
    conn = sqlite3.connect(live_server.db_url[len("sqlite://") :], timeout=5, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        tap(page, cid, "audit_programme_issued")
        busy = requests.busy(timeout=60000)  # after the server's busy_timeout (10 s)
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    failure = busy_reported(page)
    assert failure["scope"] == "server" and failure["status"] == 503
    wait_synced(page, timeout=30000)
    later = requests.after(busy["end"])
    assert later and later[0]["start"] - busy["end"] >= 3000, (later, busy)
    assert server_edits(live_server, device) == base + 1
