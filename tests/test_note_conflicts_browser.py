"""Every field of every item of a checklist in conflict at once, seen in real Chromium: the phone's
checklist screen shows one conflict box per field with both sides, and the server's checklist page shows
them too (tests/browser_fixtures.py; the API and the pull are in tests/test_note_conflicts.py)."""

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
    wait_synced,
)
from tests.test_note_conflicts import _two_values

pytestmark = pytest.mark.browser


def _push(client, device_id: str, edits: list[dict]) -> list[dict]:
    now = int(time.time() * 1000)
    r = client.post("/api/sync/push", json={"protocol": 1, "device_id": device_id, "client_ms": now, "edits": edits})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def test_every_field_of_every_item_in_conflict_on_the_phone_and_the_server_page(new_context, live_server):
    official = live_server.client("xa.iatoi")
    cid = next(
        c["id"]
        for c in official.get("/api/checklists").json()["checklists"]
        if c["template"]["code"] == "monthly_report"
    )
    template = official.get(f"/api/templates/{official.get(f'/api/checklists/{cid}').json()['template_id']}").json()
    items = template["items"]
    phones = []
    for name in ("Điện thoại", "Máy tính bảng"):
        c = live_server.client("xa.iatoi")
        phones.append((c, c.post("/api/devices", json={"name": name}).json()["device_id"]))
    for side, (client, device_id) in enumerate(phones):
        now = int(time.time() * 1000)
        edits = [
            {
                "seq": n + 1,
                "kind": "answer",
                "checklist_id": cid,
                "item_key": item["key"],
                "value": _two_values(item["type"])[side],
                "note": f"Ghi chú {'AB'[side]} <i>{item['key']}</i>",
                "base_version": 0,
                "device_ms": now,
            }
            for n, item in enumerate(items)
        ]
        outcomes = {r["outcome"] for r in _push(client, device_id, edits)}
        assert outcomes <= ({"applied", "merged"} if side == 0 else {"conflict"}), outcomes
    expected = 2 * len(items)
    assert len(official.get(f"/api/checklists/{cid}").json()["conflicts"]) == expected

    ctx = new_context()
    page = ctx.new_page()
    login(page, "xa.iatoi")
    wait_synced(page)
    page.evaluate("(id) => { location.hash = '#/c/' + id; }", cid)
    page.wait_for_selector("#submit-btn")
    poll(page, "(n) => document.querySelectorAll('.item .conflict').length === n", expected)
    note_boxes = page.locator(".conflict", has_text="Xung đột ghi chú")
    assert note_boxes.count() == len(items)
    first = items[0]["key"]
    box = page.locator(f"#i-{first} .conflict", has_text="Xung đột ghi chú")
    texts = box.locator(".cv-value").all_inner_texts()
    assert sorted(texts) == [f"Ghi chú A <i>{first}</i>", f"Ghi chú B <i>{first}</i>"]  # text, not markup
    page.evaluate("(k) => document.querySelector('#i-' + k + ' .conflict').scrollIntoView({block: 'start'})", first)
    shot(page, "note-conflicts-phone")
    axe_check(page, "note-conflicts-phone")

    page.goto(f"/checklists/{cid}")
    assert page.locator("dd .conflict").count() == expected
    assert page.locator("dd .conflict", has_text="Xung đột ghi chú").count() == len(items)
    page.locator("dd .conflict").first.scroll_into_view_if_needed()
    shot(page, "note-conflicts-server-page")
    axe_check(page, "note-conflicts-server-page")
