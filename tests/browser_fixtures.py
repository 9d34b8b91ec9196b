"""Browser test fixtures: a real server in a subprocess, and Debian's Chromium driven by Playwright.

Use from a test module with `pytest_plugins = ["tests.browser_fixtures"]`… or, since pytest only allows
that in the rootdir conftest, by importing the fixtures: `from tests.browser_fixtures import *`.

- `live_server`: seeds a fresh database (`python -m server.cli seed --demo`), adds a second
  official to xa.iatoi's commune (`createuser`), and runs `python -m server.cli serve` on a free
  127.0.0.1 port (a secure context for service workers), on the suite's backend (EISO_TEST_DB).
- `serve(db_url, evidence, port, log, extra_env)`: the server again on an existing database and port
  (a restart, e.g. with `EISO_APP_VERSION_SUFFIX` for a new app version).
- `browser`: Chromium at /usr/bin/chromium with the flags from STACK-NOTES. Without it the tests skip
  saying why, except under CI=true, where they fail. Never `playwright install`.
- `shot(page, name)`: a 360×740 screenshot under tests/screenshots/.
- `axe_check(page, name)`: axe-core (tests/vendor/axe.min.js, injected with evaluate, never served)
  with the WCAG 2.1 A/AA tags; fails on any serious or critical violation.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("EISO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PASSWORD = "demo-pass-2026"
SECOND_OFFICIAL = "xa.iatoi.2"
SCREENSHOTS = ROOT / "tests" / "screenshots"
AXE = ROOT / "tests" / "vendor" / "axe.min.js"
VIEWPORT = {"width": 360, "height": 740}


def need_chromium() -> None:
    reason = None
    if not Path(CHROMIUM).exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            reason = "playwright for Python is not installed (pip install -e .[test])"
    if reason:
        if IN_CI:
            pytest.fail(reason + "; CI must have it")
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, base_url: str, db_url: str, evidence_dir: Path, proc: subprocess.Popen, log: Path):
        self.base_url, self.db_url, self.evidence_dir, self.proc, self.log = base_url, db_url, evidence_dir, proc, log
        self.password = PASSWORD

    def client(self, username: str | None = None) -> httpx.Client:
        c = httpx.Client(base_url=self.base_url, timeout=30)
        if username:
            r = c.post("/api/session", json={"username": username, "password": self.password})
            assert r.status_code == 201, r.text
        return c

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        """Run SQL on the server's database (`?` placeholders, on SQLite or PostgreSQL)."""
        if self.db_url.startswith("sqlite://"):
            with sqlite3.connect(self.db_url[len("sqlite://") :]) as conn:
                return conn.execute(query, params).fetchall()
        import itertools

        import asyncpg

        from tests.conftest import run_async

        n = itertools.count(1)
        pg_query = "".join(f"${next(n)}" if ch == "?" else ch for ch in query)

        async def run():
            conn = await asyncpg.connect(self.db_url)
            try:
                return [tuple(r) for r in await conn.fetch(pg_query, *params)]
            finally:
                await conn.close()

        return run_async(run())


def _env(db_url: str, evidence: Path) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": db_url,
            "EISO_DEMO_PASSWORD": PASSWORD,
            "EISO_SECRET": "browser-tests",
            "EISO_EVIDENCE_DIR": str(evidence),
            "EISO_EXPORT_DIR": str(evidence.parent / "exports"),
            "EISO_NEW_PASSWORD": PASSWORD,
            "PYTHONUNBUFFERED": "1",
            # Tests log in many times from one address.
            "EISO_LOGIN_MAX_FAILURES": "50",
        }
    )
    return env


def fresh_database_url(tmp: Path) -> str:
    """The suite's backend (EISO_TEST_DB): a new SQLite file, or a new throwaway PostgreSQL database."""
    from tests.conftest import BACKEND, PG_ADMIN_URL, _pg_admin, need_postgres, run_async

    if BACKEND != "postgres":
        return f"sqlite://{tmp / 'eiso.sqlite3'}"
    import secrets

    need_postgres()
    name = "eiso_browser_" + secrets.token_hex(4)
    run_async(_pg_admin(f'CREATE DATABASE "{name}"'))
    return f"{PG_ADMIN_URL}/{name}"


def drop_database(db_url: str) -> None:
    from tests.conftest import PG_ADMIN_URL, _pg_admin, run_async

    if db_url.startswith(PG_ADMIN_URL + "/eiso_browser_"):
        run_async(_pg_admin(f'DROP DATABASE IF EXISTS "{db_url.rsplit("/", 1)[1]}" WITH (FORCE)'))


def start_live_server(tmp: Path) -> LiveServer:
    """Seed a fresh database (the suite's backend) and run the server on a free port (stop with .stop())."""
    db_url, evidence = fresh_database_url(tmp), tmp / "evidence"
    env = _env(db_url, evidence)

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )

    r = run("seed", "--demo")
    if r.returncode:
        raise RuntimeError("seed failed:\n" + r.stdout + r.stderr)
    code = "KT-147"  # xã Ia Tơi, xa.iatoi's commune: unit codes are stable across seeding
    r = run("createuser", SECOND_OFFICIAL, "--role", "official", "--unit", code, "--full-name", "Trần Thị Lan")
    if r.returncode:
        raise RuntimeError("createuser failed:\n" + r.stdout + r.stderr)
    return serve(db_url, evidence, free_port(), tmp / "server.log")


def serve(db_url: str, evidence: Path, port: int, log: Path, extra_env: dict | None = None) -> LiveServer:
    """Run the server on an existing database and port (e.g. a restart with a new app version)."""
    env = {**_env(db_url, evidence), **(extra_env or {})}
    with open(log, "a") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                "--port",
                str(port),
                "--host",
                "127.0.0.1",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            if httpx.get(base + "/app/", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError("server did not start:\n" + log.read_text())
        time.sleep(0.2)
    return LiveServer(base, db_url, evidence, proc, log)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    need_chromium()
    try:
        server = start_live_server(tmp_path_factory.mktemp("live"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()
    drop_database(server.db_url)


# Module scope: sync Playwright runs its own event loop in this thread, which pytest-asyncio's session
# loop must not meet in later (async) test modules.
@pytest.fixture(scope="module")
def playwright_instance():
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright_instance):
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def new_context(browser, live_server):
    """new_context() -> a fresh phone-sized context (its own storage), closed after the test."""
    made = []

    def _make(**kw):
        ctx = browser.new_context(
            viewport=VIEWPORT,
            device_scale_factor=1,
            is_mobile=True,
            has_touch=True,
            locale="vi-VN",
            timezone_id="Asia/Ho_Chi_Minh",
            base_url=live_server.base_url,
            **kw,
        )
        ctx.set_default_timeout(15000)
        made.append(ctx)
        return ctx

    yield _make
    for c in made:
        try:
            c.close()
        except Exception:  # noqa: BLE001 - already closed by the test
            pass


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-full.png"), full_page=True)
    return path


def axe_check(page, name: str) -> list[dict]:
    """Run axe-core on the page; fail on serious/critical WCAG 2.1 A/AA violations. Returns all violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"axe on {name}: " + json.dumps(bad, ensure_ascii=False, indent=1)
    return result


def login(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/app/")
    page.wait_for_selector("#username")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#h-unit")


def poll(page, js: str, arg=None, timeout: float = 15000, interval: float = 0.1):
    """Until the (possibly async) function `js` returns something truthy. Playwright's wait_for_function
    does not await a returned promise (a promise is truthy), so this polls with evaluate."""
    end = time.time() + timeout / 1000
    while True:
        value = page.evaluate(js, arg)
        if value:
            return value
        if time.time() > end:
            raise AssertionError(f"timed out after {timeout} ms waiting for: {js}")
        time.sleep(interval)


def wait_synced(page, timeout: float = 15000) -> None:
    """Until nothing waits in the outbox, no upload is pending and no sync runs."""
    poll(
        page,
        """async () => {
        const c = window.__eiso;
        if (!c || !c.store || !c.syncer) return false;
        const n = await c.store.outboxCount();
        const up = (await c.store.pendingUploads()).length;
        const last = await c.store.kvGet('last_sync_ms');
        return n === 0 && up === 0 && !c.syncer.running && !!last;
    }""",
        timeout=timeout,
    )


def sync_now(page) -> None:
    page.evaluate("() => window.__eiso.syncer.syncNow('test')")
