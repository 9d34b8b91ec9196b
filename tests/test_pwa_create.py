"""Two phones start the same checklist offline in real Chromium and converge to one (sync/create.py).

Each phone picks the template and the period from lists, fills in a different item offline, then goes
online: both end with ONE checklist holding both answers, under the id the server kept. The create screen
is screenshotted at 360 px (tests/screenshots/create-*.png) and checked with axe-core.
"""

from __future__ import annotations

import json

import pytest

from tests.browser_fixtures import (  # noqa: F401 - fixtures
    SECOND_OFFICIAL,
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

TEMPLATE = "annual_report"

SUMMARY = """async (code) => {
    const s = window.__eiso.store;
    const list = (await s.checklists()).filter((c) => c.template_code === code && c.period === window.__period);
    const out = [];
    for (const c of list) {
        const a = await s.answers(c.id);
        out.push({id: c.id, tthc: a.get('tthc_published')?.value ?? null, staff: a.get('staff_trained')?.value ?? null});
    }
    return out;
}"""


def start_offline(page, period_index: int) -> str:
    """Pick the annual report and the period from the lists, press "Tạo phiếu"; returns the period."""
    page.locator("#new-template").scroll_into_view_if_needed()
    title = page.locator("#new-template option", has_text="năm").first.inner_text()
    page.select_option("#new-template", label=title)
    options = page.locator("#new-period option")
    period = options.nth(period_index).get_attribute("value")
    page.select_option("#new-period", value=period)
    page.click("form button[type=submit]:has-text('Tạo phiếu')")
    page.wait_for_selector("#submit-btn")
    page.evaluate("(p) => { window.__period = p; }", period)
    return period


def answer_number(page, key: str, value: str) -> None:
    page.fill(f"#i-{key}-input", value)
    page.locator(f"#i-{key}-input").blur()
    page.wait_for_timeout(300)


def test_two_phones_create_the_same_checklist_offline_and_converge_to_one(new_context, live_server):
    a_ctx, b_ctx = new_context(), new_context()
    a, b = a_ctx.new_page(), b_ctx.new_page()
    login(a, "xa.iatoi")
    login(b, SECOND_OFFICIAL)
    wait_synced(a)
    wait_synced(b)
    a_ctx.set_offline(True)
    b_ctx.set_offline(True)

    # The create screen, offline: the template and the period are lists, the period's words the catalogue's.
    a.reload()
    a.wait_for_selector("#new-period")
    a.locator("#h-new").scroll_into_view_if_needed()
    labels = a.locator("#new-period option").all_inner_texts()
    assert labels[0].startswith("Năm ") and len(labels) == 2, labels
    assert a.locator("#new-period").evaluate("(el) => el.tagName") == "SELECT"
    shot(a, "create-offline")
    axe_check(a, "create-offline")

    period = start_offline(a, 1)  # last year's report, started late
    assert start_offline(b, 1) == period
    answer_number(a, "tthc_published", "41")
    answer_number(b, "staff_trained", "12")
    mine = a.evaluate(SUMMARY, TEMPLATE)
    theirs = b.evaluate(SUMMARY, TEMPLATE)
    assert len(mine) == len(theirs) == 1 and mine[0]["id"] != theirs[0]["id"]  # made offline, each its own id
    assert mine[0]["tthc"] == 41 and theirs[0]["staff"] == 12
    shot(a, "create-filled-offline")

    a_ctx.set_offline(False)
    sync_now(a)
    wait_synced(a)
    b_ctx.set_offline(False)
    sync_now(b)
    wait_synced(b)
    sync_now(a)
    wait_synced(a)
    want = [{"id": mine[0]["id"], "tthc": 41, "staff": 12}]
    same = f"async (want) => JSON.stringify(await ({SUMMARY})('{TEMPLATE}')) === want"
    poll(a, same, json.dumps(want, separators=(",", ":")))
    assert b.evaluate(SUMMARY, TEMPLATE) == want
    # b's old address leads to the one checklist
    b.evaluate("(id) => { location.hash = '#/c/' + id; }", theirs[0]["id"])
    b.wait_for_function("(id) => location.hash === '#/c/' + id", arg=mine[0]["id"])
    b.wait_for_selector("#submit-btn")

    server = live_server.client("xa.iatoi").get("/api/checklists").json()["checklists"]
    made = [c for c in server if c["template"]["code"] == TEMPLATE and c["period"] == period]
    assert [c["id"] for c in made] == [mine[0]["id"]]


def test_the_form_opens_the_phones_checklist_of_the_period_made_on_an_older_template_version(new_context, live_server):
    """One checklist per unit, template CODE and period: the phone holds its report of the period on an
    older version (another template id, the same code); "Tạo phiếu" on the version offered now opens it
    and queues no create."""
    ctx = new_context()
    page = ctx.new_page()
    login(page, "xa.iatoi")
    wait_synced(page)
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("#new-period")
    old = page.evaluate(
        """async () => {
        const c = window.__eiso;
        const offered = (await c.store.kvGet("template_list")).find((t) => t.period_kind === "year");
        // pick the template and last year in one synchronous step each time: a sync's re-render of the
        // home screen in between would reset the form
        const pick = () => {
            const select = document.querySelector("#new-template");
            select.value = String(offered.id);
            select.dispatchEvent(new Event("change"));
            const periods = document.querySelector("#new-period");
            periods.value = periods.options[1].value;
            return periods.value;
        };
        const period = pick();
        for (const x of await c.store.checklists()) {  // another test's checklist of the period: not here
            if (x.template_code === offered.code && x.period === period) await c.store.db.delete("checklists", x.id);
        }
        const id = crypto.randomUUID();
        await c.store.db.put("checklists", {
            id, unit_id: c.user.unit.id, template_id: offered.id + 100000, template_code: offered.code, period,
            status: "submitted", version: 3, status_comment: "", status_by: "", status_ms: null,
            approved_version: null, updated_ms: Date.now(), local_ms: null });
        pick();
        document.querySelector("#new-template").form.requestSubmit();
        return id;
    }"""
    )
    page.wait_for_function("(id) => location.hash === '#/c/' + id", arg=old, polling=100)
    creates = page.evaluate(
        "async () => (await window.__eiso.store.outbox()).filter((e) => e.kind === 'create').length"
    )
    assert creates == 0
