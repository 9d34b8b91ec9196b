"""PWA size and speed in real Chromium against the real server (seeded SQLite), printed as figures.

    python bench/bench_pwa.py

1. First load: every byte transferred (compressed, as on the wire) from opening /app/ on an empty
   phone, through logging in as xa.iatoi, until the home screen is usable and the first sync is done;
   plus what the service worker downloads to precache the shell. Budget: 150 KB.
2. The same under Chrome's Slow 3G emulation (CDP Network.emulateNetworkConditions: 400 ms RTT,
   400 kbit/s): time until the login form is usable, and from pressing "Đăng nhập" until home is usable.
   Budget: home usable in 6 s (load of the shell + login until home).
3. Repeat load with no network (served by the service worker and IndexedDB): until home is usable.
   Budget: 1 s.
Exit status 1 if a budget is exceeded.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from server.pages import pwa  # noqa: E402
from tests.browser_fixtures import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    VIEWPORT,
    poll,
    start_live_server,
)

SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1000 / 8, "uploadThroughput": 400 * 1000 / 8}


def synced(page):
    poll(
        page,
        """async () => { const c = window.__eiso; return c && c.store && !c.syncer.running
        && !!(await c.store.kvGet('last_sync_ms')); }""",
        timeout=60000,
        interval=0.05,
    )


def login(page):
    page.fill("#username", "xa.iatoi")
    page.fill("#password", PASSWORD)
    t = time.perf_counter()
    page.click("button[type=submit]")
    page.wait_for_selector("#h-unit", timeout=60000)
    synced(page)
    return time.perf_counter() - t


def main() -> int:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM}")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench_pwa_"))
    server = start_live_server(tmp)
    ok = True
    try:
        # What the service worker precaches (fetched by the worker, outside the page's network log).
        _, urls = pwa.shell()
        precache = 0
        with httpx.Client(base_url=server.base_url) as c:
            for url in urls:
                r = c.get(url, headers={"Accept-Encoding": "gzip"})
                precache += int(r.headers.get("content-length") or len(r.content))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

            # 1. First load bytes.
            ctx = browser.new_context(viewport=VIEWPORT, base_url=server.base_url)
            page = ctx.new_page()
            cdp = ctx.new_cdp_session(page)
            cdp.send("Network.enable")
            sizes: dict[str, float] = {}
            cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
            page.goto("/app/")
            page.wait_for_selector("#username")
            login(page)
            page_bytes = sum(sizes.values())
            total = page_bytes + precache
            print(
                f"first load: page {page_bytes / 1024:.1f} KB in {len(sizes)} requests + service-worker precache "
                f"{precache / 1024:.1f} KB ({len(urls)} files) = {total / 1024:.1f} KB compressed (budget 150 KB)"
            )
            ok &= total <= 150 * 1024

            # 3. Repeat load offline (same context: the worker and IndexedDB are there).
            page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            ctx.set_offline(True)
            times = []
            for _ in range(3):
                t = time.perf_counter()
                page.reload()
                page.wait_for_selector("#h-unit")
                times.append(time.perf_counter() - t)
            best, worst = min(times), max(times)
            print(
                f"repeat load offline: home usable in {worst * 1000:.0f} ms (best {best * 1000:.0f} ms; budget 1000 ms)"
            )
            ok &= worst <= 1.0
            ctx.close()

            # 2. Slow 3G, empty phone.
            ctx = browser.new_context(viewport=VIEWPORT, base_url=server.base_url)
            page = ctx.new_page()
            cdp = ctx.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", SLOW_3G)
            t = time.perf_counter()
            page.goto("/app/")
            page.wait_for_selector("#username")
            shell_s = time.perf_counter() - t
            login_s = login(page)
            print(
                f"Slow 3G (400 ms RTT, 400 kbit/s): login screen usable in {shell_s:.2f} s, home usable "
                f"{login_s:.2f} s after pressing Đăng nhập; total {shell_s + login_s:.2f} s (budget 6 s)"
            )
            ok &= shell_s + login_s <= 6.0
            ctx.close()
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("within budget" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
