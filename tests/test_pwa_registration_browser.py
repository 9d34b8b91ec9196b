"""A phone whose device registration was saved on the server but whose answer was lost registers again
with the same Idempotency-Key and gets the same device: one phone, one device (Chromium)."""

from __future__ import annotations

import pytest

from tests.browser_fixtures import browser, live_server, login, new_context, playwright_instance, wait_synced  # noqa: F401

pytestmark = pytest.mark.browser

USER = "xa.tumorong"


def test_a_registration_whose_answer_was_lost_gets_the_same_device(new_context, live_server):
    api = live_server.client(USER)
    before = {d["device_id"] for d in api.get("/api/devices").json()["devices"]}
    page = new_context().new_page()
    keys: list[str] = []

    def lose_first_answer(route):
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers.get("idempotency-key", ""))
        if len(keys) == 1:
            route.fetch()  # the server registers the device...
            route.abort("connectionreset")  # ...and the answer never reaches the phone
        else:
            route.continue_()

    page.route("**/api/devices", lose_first_answer)
    login(page, USER)
    wait_synced(page, timeout=40000)
    after = {d["device_id"] for d in api.get("/api/devices").json()["devices"]}
    assert len(keys) >= 2 and keys[0] and len(set(keys)) == 1, keys
    assert len(after - before) == 1, after - before
    assert page.evaluate("window.__eiso.store.kvGet('device_id')") in after - before
