"""/healthz of a real `eiso serve` on PostgreSQL when the database goes away and comes back: 503 naming
the database while it is gone (what a load balancer needs to stop sending requests), 200 once it is back,
without restarting the server."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import BACKEND, _pg_admin, run_async
from tests.ops_fixtures import eiso, eiso_env, fresh_database, serving

pytestmark = pytest.mark.postgres


def wait_for(url: str, status: int, seconds: float = 20) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        r = httpx.get(url + "/healthz", timeout=10)
        if r.status_code == status or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def close_database(name: str) -> None:
    """No new connection may reach the database, then the ones it has are cut (waiting until they end)."""
    run_async(_pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
    run_async(_pg_admin(f"SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = '{name}'"))


def test_healthz_says_503_while_the_database_is_away_and_200_when_it_is_back(tmp_path):
    if BACKEND != "postgres":
        pytest.skip("runs with EISO_TEST_DB=postgres (the suite's PostgreSQL pass)")
    with fresh_database(tmp_path, "postgres") as pg:
        name = pg.rsplit("/", 1)[1]
        env = eiso_env(pg, tmp_path / "evidence")
        eiso("migrate", env=env, cwd=tmp_path)
        with serving(env, tmp_path, tmp_path / "server.log") as base:
            assert httpx.get(base + "/healthz").json()["checks"] == {
                "database": "ok",
                "migrations": "ok",
                "evidence_store": "ok",
            }
            # the database goes away
            close_database(name)
            try:
                r = wait_for(base, 503)
                assert r.status_code == 503, r.text
                assert r.json()["checks"]["database"] == "unreachable"
                assert r.headers["retry-after"]
            finally:
                run_async(_pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            r = wait_for(base, 200)
            assert r.status_code == 200, r.text
