"""kill -9 of the server in the middle of a (small) deadline storm, twice: nothing acknowledged is lost and
every device converges. The short run of bench/faults_kill9.py (the full one kills it 10 times), in its
own process, against a real uvicorn server, on the suite's database backend (EISO_TEST_DB).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import BACKEND, PG_ADMIN_URL, need_postgres

ROOT = Path(__file__).resolve().parent.parent


def run_script(*args: str) -> dict:
    env = {**os.environ, "DATABASE_URL": ""}  # "" = a throwaway SQLite file, made and removed by the script
    if BACKEND == "postgres":
        need_postgres()
        env["DATABASE_URL"] = PG_ADMIN_URL + "/postgres"  # the script makes its own database there, drops it
    done = subprocess.run(
        [sys.executable, "bench/faults_kill9.py", "--json", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.stdout.strip(), done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_kill9_mid_storm_loses_nothing_acknowledged_and_every_device_converges():
    r = run_script("--kills", "2", "--units", "3", "--devices", "2", "--edits", "60", "--batch", "5")
    assert r["kills"] == 2
    assert r["kills_mid_storm"] == 2, r  # each kill came while pushes were still in flight
    assert r["counts"]["network_error"] > 0, r  # the kills were felt by the devices
    assert r["lost"] == 0 and r["outcome_differs"] == 0, r
    assert r["acknowledged"] == r["stored"] == r["edits"] == 3 * 2 * 60, r
    assert r["pending"] == 0, r
    assert r["converged"], r["diverged"]
    assert r["counts"].get("http_500", 0) == 0, r
    assert r["ok"]
