"""A new app version while edits wait: the service worker updates and nothing waiting is lost.

The server computes the app version when it starts; `EISO_APP_VERSION_SUFFIX` changes it without
touching a file. The test runs its own server (the shared `live_server` is not restarted under other
tests), restarts it on the same port and database with a new version, and drives Chromium through the
"Có phiên bản mới, tải lại" banner.
"""

from __future__ import annotations

import pytest

from tests.browser_fixtures import (  # noqa: F401 - fixtures
    VIEWPORT,
    axe_check,
    browser,
    drop_database,
    login,
    need_chromium,
    playwright_instance,
    poll,
    serve,
    shot,
    start_live_server,
    sync_now,
    wait_synced,
)

pytestmark = pytest.mark.browser


class Restartable:
    """A live server of its own that the test can restart with a new app version."""

    def __init__(self, tmp):
        self.server = start_live_server(tmp)

    def restart(self, version_suffix: str) -> None:
        old = self.server
        old.stop()
        port = int(old.base_url.rsplit(":", 1)[1])
        self.server = serve(
            old.db_url, old.evidence_dir, port, old.log, extra_env={"EISO_APP_VERSION_SUFFIX": version_suffix}
        )

    def stop(self) -> None:
        self.server.stop()
        drop_database(self.server.db_url)


@pytest.fixture
def restartable_server(tmp_path):
    need_chromium()
    try:
        srv = Restartable(tmp_path)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield srv
    srv.stop()


def sw_version(page) -> str:
    return page.evaluate("""() => new Promise((resolve) => {
        const ch = new MessageChannel();
        ch.port1.onmessage = (e) => resolve(e.data);
        navigator.serviceWorker.controller.postMessage({type: 'version'}, [ch.port2]);
    })""")


def test_update_keeps_waiting_edit_and_offers_reload(browser, restartable_server):
    base = restartable_server.server.base_url
    ctx = browser.new_context(
        viewport=VIEWPORT,
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
        base_url=base,
    )
    ctx.set_default_timeout(15000)
    try:
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        login(page, "xa.iatoi")
        wait_synced(page)
        page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
        old_version = sw_version(page)
        cid = page.evaluate("""async () => (await window.__eiso.store.checklists())
                                .find(x => x.template_code === 'rollout').id""")

        # Offline, one edit: it waits in the outbox.
        ctx.set_offline(True)
        page.evaluate("(id) => { location.hash = '#/c/' + id; }", cid)
        page.wait_for_selector("#submit-btn")
        page.click("label[for='i-s01_training_done-yes']")
        poll(page, "async () => (await window.__eiso.store.outboxCount()) === 1")

        # Meanwhile a new version is deployed: same port, same database, a new app version.
        restartable_server.restart("update-test")
        new_version = restartable_server.server.client().get("/app/version.json").json()["version"]
        assert new_version != old_version and new_version.endswith("-update-test")

        # Pushes fail until the update is done, so the edit is still waiting when the new version starts.
        ctx.route("**/api/sync/push", lambda route: route.abort())
        ctx.set_offline(False)  # the `online` event looks for a new worker
        page.wait_for_selector("#update-banner button", timeout=30000)
        assert page.inner_text("#update-banner button") == "Có phiên bản mới, tải lại"
        assert page.evaluate("window.__eiso.store.outboxCount()") == 1
        page.evaluate("window.scrollTo(0, 0)")  # the banner sits under the header, above the checklist
        shot(page, "13-update-available")
        axe_check(page, "update-banner")

        # The click activates the new worker and reloads under it.
        with page.expect_navigation():
            page.click("#update-banner button")
        page.wait_for_selector("#h-unit, #submit-btn")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        assert sw_version(page) == new_version
        assert page.locator("#update-banner").count() == 0
        assert page.evaluate("window.__eiso.store.outboxCount()") == 1  # nothing waiting was lost
        waiting = page.evaluate("async () => (await window.__eiso.store.outbox()).map(e => [e.item_key, e.value])")
        assert waiting == [["s01_training_done", "yes"]], waiting

        # The push goes through again: the edit reaches the server.
        ctx.unroute("**/api/sync/push")
        sync_now(page)
        wait_synced(page, timeout=30000)
        answers = {
            a["item_key"]: a
            for a in restartable_server.server.client("xa.iatoi").get(f"/api/checklists/{cid}").json()["answers"]
        }
        assert answers["s01_training_done"]["value"] == "yes"
        assert not errors, errors
    finally:
        ctx.close()
