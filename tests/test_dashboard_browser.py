"""The dashboard in real Chromium, on a server of its own (so its data touches no other browser test):
axe-core passes (WCAG 2.1 AA, nothing serious) at 360 px and at desk width, no CSP violation, nothing
wider than the phone but the tables that scroll inside their own box, and it reads without JavaScript.
Screenshots go to tests/screenshots/dashboard/ to be looked at."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import pytest

from client.sync_client import SyncClient
from sync.periods import VN
from tests.browser_fixtures import (  # noqa: F401
    PASSWORD,
    SCREENSHOTS,
    axe_check,
    browser,
    drop_database,
    need_chromium,
    playwright_instance,
    start_live_server,
)
from tests.conftest import run_async

pytestmark = pytest.mark.browser
SHOTS = SCREENSHOTS / "dashboard"
DESK = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


class Clock:
    def __init__(self) -> None:
        self.fixed: int | None = None

    def __call__(self) -> int:
        return self.fixed if self.fixed is not None else int(time.time() * 1000)

    def at(self, day: date) -> None:
        self.fixed = int(datetime(day.year, day.month, day.day, 10, tzinfo=VN).timestamp() * 1000)


async def _populate(server, tmp: Path) -> None:
    """A binding monthly rule and a few reports: on time, late, missing, one announcement approved."""
    ids = dict(server.sql("SELECT code, id FROM unit WHERE code IN ('KT', 'KT-145', 'KT-146', 'KT-147')"))
    tpl = dict(server.sql("SELECT code, id FROM template"))
    server.sql(
        "INSERT INTO deadline (code, title, template_id, unit_id, recurrence, reference, source_number,"
        " source_issuer, source_quote, period_kind, period_offset, binding) VALUES (?, ?, ?, ?, ?, '', '', '', '',"
        " 'month', 0, ?)",
        ("DASH-MONTHLY", "Báo cáo tháng (trước ngày 22)", tpl["monthly_report"], ids["KT"], "monthly:21", True),
    )
    clock = Clock()
    admin = SyncClient(tmp / "admin.sqlite3", base_url=server.base_url, clock=clock)
    rev = SyncClient(tmp / "rev.sqlite3", base_url=server.base_url)
    try:
        await admin.login("admin", PASSWORD)
        await admin.register("admin phone")
        await rev.login("huyen.iahdrai", PASSWORD)
        await rev.register("reviewer desk")
        sent = [
            ("KT-145", "2026-08", date(2026, 8, 20)),
            ("KT-145", "2026-09", date(2026, 9, 18)),
            ("KT-146", "2026-08", date(2026, 8, 27)),
            ("KT-146", "2026-10", date(2026, 10, 2)),
        ]
        for code, period, day in sent:
            clock.at(day)
            cid = admin.create_checklist(ids[code], tpl["monthly_report"], period)
            admin.set_status(cid, "submit")
        clock.at(date(2026, 6, 1))
        rollout = admin.create_checklist(ids["KT-146"], tpl["rollout"], "once")
        admin.edit_answer(rollout, "s12_announced", "yes")
        admin.edit_answer(rollout, "s12_announcement_date", "2026-05-30")
        admin.set_status(rollout, "submit")
        clock.fixed = None
        await admin.push()
        ((version,),) = server.sql("SELECT version FROM checklist WHERE id = ?", (rollout,))
        rev.set_status(rollout, "approve", seen_version=version)
        assert (await rev.push())[0]["outcome"] == "applied"
    finally:
        await admin.close()
        await rev.close()


@pytest.fixture(scope="module")
def dash_server(tmp_path_factory):
    need_chromium()
    tmp = tmp_path_factory.mktemp("dash")
    server = start_live_server(tmp)
    try:
        run_async(_populate(server, tmp))
        yield server
    finally:
        server.stop()
        drop_database(server.db_url)


def _page(browser, server, viewport, username, **kw):  # noqa: F811
    ctx = browser.new_context(
        viewport=viewport, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", base_url=server.base_url, **kw
    )
    page = ctx.new_page()
    page.goto("/login?next=/dashboard")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/dashboard")
    return ctx, page


def _shot(page, name: str) -> None:
    """The first screen, the whole page, and each section on its own (a long page is easier to look at)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    page.screenshot(path=str(SHOTS / f"{name}-full.png"), full_page=True)
    for i, section in enumerate(page.locator("section.card").all()):
        section.screenshot(path=str(SHOTS / f"{name}-s{i}.png"))


@pytest.mark.parametrize("viewport,tag", [(PHONE, "360"), (DESK, "1280")])
def test_the_dashboard_passes_axe_and_fits_the_screen(browser, dash_server, viewport, tag):  # noqa: F811
    ctx, page = _page(browser, dash_server, viewport, "admin")
    try:
        csp: list[str] = []
        page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto("/dashboard?until=2026-11")
        assert page.locator("svg.bar[role=img]").count() >= 3
        assert "Hạn 31/12/2030" in page.inner_text("#main")
        _shot(page, f"dashboard-province-{tag}")
        axe_check(page, f"dashboard-province-{tag}")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        # drill down: the district, then its communes' grid with words in every cell
        page.click('table.figures a:has-text("Ia H\'Drai")')
        page.wait_for_url("**/dashboard?unit=*")
        grid = page.locator("table.grid")
        assert "Đúng hạn, nộp ngày 20/08/2026" in grid.inner_text() or "Đúng hạn" in grid.text_content()
        assert "Trễ hạn, nộp ngày 27/08/2026, hạn 21/08/2026" in grid.text_content()
        assert "Chưa nộp, quá hạn" in grid.text_content()
        assert "Đã công bố ISO điện tử · 30/05/2026" in grid.text_content()
        _shot(page, f"dashboard-district-{tag}")
        axe_check(page, f"dashboard-district-{tag}")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        # a unit: its page shows the derived status and the checklist that set it
        page.click("table.grid a:has-text('Xã Ia Đal')")
        page.wait_for_url("**/units/*")
        facts = page.inner_text("dl.facts")
        assert "Đã công bố ISO điện tử từ 30/05/2026" in facts and "theo phiếu đã duyệt" in facts
        _shot(page, f"unit-derived-{tag}")
        axe_check(page, f"unit-derived-{tag}")
        page.click("dl.facts a[href^='/checklists/']")
        page.wait_for_url("**/checklists/*")
        assert "Triển khai áp dụng" in page.inner_text("h1")
        page.goto("/units")
        _shot(page, f"units-derived-{tag}")
        axe_check(page, f"units-derived-{tag}")
        assert not csp, csp
    finally:
        ctx.close()


def test_the_dashboard_reads_without_javascript(browser, dash_server):  # noqa: F811
    ctx, page = _page(browser, dash_server, PHONE, "huyen.iahdrai", java_script_enabled=False)
    try:
        assert page.locator("h1").inner_text() == "Tiến độ: UBND huyện Ia H'Drai"
        assert page.locator("table.grid tbody tr").count() == 4
        _shot(page, "dashboard-reviewer-nojs-360")
    finally:
        ctx.close()
