"""PostgreSQL stopped and started again under load: clear 503s with Retry-After (never 500), the devices
retry, nothing acknowledged is lost, and the same app server process recovers (its pool reconnects).

Runs bench/faults_pg_restart.py in its own process against a PRIVATE PostgreSQL cluster it makes with
initdb in a temporary folder on a free port (never the shared server other tests use), in the
PostgreSQL pass of the suite. Without PostgreSQL's programs it skips, saying why; under CI it fails.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.faults_pg_restart import find_pg_bin
from tests.conftest import BACKEND, IN_CI

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.postgres


def pg_programs() -> str:
    pg_bin = find_pg_bin()
    reason = ""
    if not pg_bin:
        reason = "PostgreSQL's initdb and pg_ctl are not installed (/usr/lib/postgresql/*/bin)"
    elif shutil.which("runuser") is None:
        reason = "runuser is missing: a private cluster must run as the postgres user"
    if reason:
        if IN_CI:
            pytest.fail(reason + "; CI must be able to run a private PostgreSQL")
        pytest.skip(reason)
    return pg_bin


def test_postgres_restarted_under_load_gives_503_then_recovers_and_loses_nothing():
    if BACKEND != "postgres":
        pytest.skip("PostgreSQL-only fault: runs in the PostgreSQL pass (EISO_TEST_DB=postgres)")
    pg_bin = pg_programs()
    done = subprocess.run(
        [sys.executable, "bench/faults_pg_restart.py", "--json", "--pg-bin", pg_bin, "--restarts", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.stdout.strip(), done.stderr[-4000:]
    r = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(n > 0 for n in r["http_503_while_down"]), r  # the outage was seen, each time, as 503
    assert r["counts"].get("http_500", 0) == 0, r
    assert r["counts"].get("503_without_retry_after", 0) == 0, r
    assert r["counts"].get("503_not_json", 0) == 0, r
    assert r["server_never_restarted"], r
    assert len(r["recovered_s"]) == 2, r
    assert r["lost"] == 0 and r["pending"] == 0 and r["outcome_differs"] == 0, r
    assert r["acknowledged"] == r["stored"] == r["edits"] > 0, r
    assert r["converged"], r["diverged"]
    assert r["ok"]
