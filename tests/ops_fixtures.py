"""Real `eiso` installations for the operations tests: a fresh database (a SQLite file, or a throwaway
PostgreSQL database dropped after), migrated and seeded by the `eiso` command itself, and `eiso serve`
processes on free ports, stopped after."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import BACKEND, DEMO_PASSWORD, PG_ADMIN_URL, _pg_admin, need_postgres, run_async

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def fresh_database(tmp: Path, backend: str = BACKEND) -> Iterator[str]:
    """An empty database URL of `backend`; a PostgreSQL one is dropped on the way out."""
    if backend == "postgres":
        need_postgres()
        name = "eiso_ops_" + secrets.token_hex(4)
        run_async(_pg_admin(f'CREATE DATABASE "{name}"'))
        try:
            yield f"{PG_ADMIN_URL}/{name}"
        finally:
            run_async(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        yield f"sqlite://{tmp / 'eiso.sqlite3'}"


def eiso_env(database_url: str, evidence: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EISO_", "DATABASE_URL"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "EISO_SECRET": "test-secret",
            "EISO_EVIDENCE_DIR": str(evidence),
            "EISO_EXPORT_DIR": str(evidence.parent / "exports"),
            "EISO_DEMO_PASSWORD": DEMO_PASSWORD,
            "EISO_REMIND_INTERVAL": "0",
        }
    )
    env.update(extra)
    return env


def eiso(*args: str, env: dict[str, str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run the `eiso` command as an operator would, in `cwd`."""
    proc = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"eiso {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@contextlib.contextmanager
def serving(env: dict[str, str], cwd: Path, log: Path, port: int | None = None) -> Iterator[str]:
    """`eiso serve` on a free port until the block ends; yields its base URL once /healthz answers 200."""
    port = port or free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--log-level", "info"],
            env={**env, "PYTHONPATH": str(ROOT)},
            cwd=cwd,
            stdout=out,
            stderr=out,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"eiso serve exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("eiso serve did not become healthy:\n" + log.read_text()[-3000:])
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def login_cookie(url: str, username: str = "admin", password: str = DEMO_PASSWORD) -> str:
    r = httpx.post(url + "/api/session", json={"username": username, "password": password}, timeout=10)
    assert r.status_code == 201, r.text
    return r.cookies["eiso_session"]
