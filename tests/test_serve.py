"""The README's first command, as a user runs it: seed with demo accounts, make an account, serve, log in."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time

import httpx

from .conftest import BACKEND, PG_ADMIN_URL, _pg_admin


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_seed_then_serve_answers_logins_and_units(tmp_path, database_url):
    if BACKEND == "postgres":  # a fresh database of its own: the CLI migrates it from nothing
        name = "eiso_serve_" + str(os.getpid())
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        url = f"{PG_ADMIN_URL}/{name}"
    else:
        url = f"sqlite://{tmp_path / 'serve.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "EISO_DEMO_PASSWORD": "mat-khau-demo", "EISO_PORT": str(free_port())}
    seed = subprocess.run(
        [sys.executable, "-m", "server.cli", "seed", "--demo"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert seed.returncode == 0, seed.stderr
    assert "xa.iatoi" in seed.stdout and "mat-khau-demo" in seed.stdout
    # `eiso simulate` in-process: devices edit offline, sync, and the summary says nothing was lost.
    sim = subprocess.run(
        [sys.executable, "-m", "server.cli", "simulate", "--devices", "3", "--units", "2", "--edits", "10"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert sim.returncode == 0, sim.stderr
    assert '"lost": 0' in sim.stdout and '"converged": true' in sim.stdout
    # `eiso createuser` without a terminal takes the password from EISO_NEW_PASSWORD.
    made = subprocess.run(
        [sys.executable, "-m", "server.cli", "createuser", "xa.iatoi.2", "--role", "official", "--unit", "KT-147"],
        env={**env, "EISO_NEW_PASSWORD": "mat-khau-moi-2026"},
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--log-level", "warning"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{env['EISO_PORT']}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        with httpx.Client(base_url=base) as c:
            r = c.post("/api/session", json={"username": "huyen.iahdrai", "password": "mat-khau-demo"})
            assert r.status_code == 201, r.text
            units = c.get("/api/units").json()
            assert units["count"] == 4
            assert c.get("/units").status_code == 200
        with httpx.Client(base_url=base) as c:
            r = c.post("/api/session", json={"username": "xa.iatoi.2", "password": "mat-khau-moi-2026"})
            assert r.status_code == 201, r.text
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=10)
        if BACKEND == "postgres":
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    assert "Traceback" not in out, out
