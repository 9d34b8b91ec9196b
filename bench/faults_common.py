"""What the fault scripts and tests share: a real uvicorn server process that can be killed and started
again, a transport that counts what the clients saw, pushes and pulls that retry like a phone, and the
final check (nothing acknowledged lost, every device equal to the server).

A phone retries a push after a network error (the server answers a resent batch from its records) and
after a 503 (the server saved nothing; Retry-After says when). A 500 is never retried: it is a bug, and
the scripts count it as one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.common import free_port, uvicorn_command

ROOT = Path(__file__).resolve().parent.parent


class ServerProcess:
    """`uvicorn server.app:create_app` on a fixed port, on `database_url`; stderr goes to `log_path`."""

    def __init__(self, database_url: str, log_path: Path, port: int | None = None) -> None:
        self.database_url, self.log_path = database_url, log_path
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.ready_s: list[float] = []  # from start to the first answer, per start

    def start(self) -> None:
        env = {**os.environ, "DATABASE_URL": self.database_url, "EISO_SECRET": "faults"}
        cmd = uvicorn_command(self.port)
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        self.starts += 1

    async def wait_ready(self, timeout: float = 60) -> None:
        t0 = time.perf_counter()
        async with httpx.AsyncClient() as c:
            while time.perf_counter() - t0 < timeout:
                if self.proc is None or self.proc.poll() is not None:
                    raise RuntimeError(f"server exited; log:\n{self.log_tail()}")
                try:
                    await c.get(self.base_url + "/api/session", timeout=2)
                    self.ready_s.append(time.perf_counter() - t0)
                    return
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        raise RuntimeError(f"server did not start; log:\n{self.log_tail()}")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


class CountingTransport(httpx.AsyncBaseTransport):
    """The real HTTP transport, counting answers by status and 503s without a Retry-After header."""

    def __init__(self, counts: Counter, limits: httpx.Limits | None = None) -> None:
        self.inner = httpx.AsyncHTTPTransport(limits=limits or httpx.Limits(max_connections=1000))
        self.counts = counts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TransportError:
            self.counts["network_error"] += 1
            raise
        self.counts[f"http_{response.status_code}"] += 1
        if response.status_code == 503:
            await response.aread()
            if not response.headers.get("retry-after", "").isdigit():
                self.counts["503_without_retry_after"] += 1
            if not response.headers.get("content-type", "").startswith("application/json"):
                self.counts["503_not_json"] += 1
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def retrying(what, counts: Counter, *, give_up_s: float = 120) -> None:
    """Run `what()` (a push or a pull) until it succeeds, as a phone does: again after a network error
    or a 503 (waiting Retry-After, capped), never after another refusal."""
    from client.sync_client import SyncFailed

    deadline = time.monotonic() + give_up_s
    while True:
        try:
            await what()
            return
        except httpx.TransportError:
            counts["retry_network"] += 1
            wait = 0.1
        except SyncFailed as e:
            if e.status != 503:
                raise
            counts["retry_503"] += 1
            wait = min(float(e.body.get("retry_after", 1)), 0.5)  # capped: the test should not sleep long
        if time.monotonic() > deadline:
            raise TimeoutError("the server did not come back")
        await asyncio.sleep(wait)


async def check_nothing_lost(clients) -> dict:
    """Compare every device with the database (Tortoise must be initialised on it):
    acknowledged edits missing from the server, outcomes that differ, devices whose replica differs."""
    from server.auth import scope_unit_ids
    from server.models import User
    from sync.models import Edit
    from sync.state import server_replica

    stored = {(d, s): o for d, s, o in await Edit.all().values_list("device_id", "seq", "outcome")}
    acknowledged = lost = outcome_differs = 0
    diverged: list[str] = []
    scopes: dict[str, set[int]] = {}
    for c in clients:
        for seq, res in c.outcomes().items():
            acknowledged += 1
            outcome = stored.get((c.device_id, seq))
            if outcome is None:
                lost += 1
            elif outcome != res["outcome"]:
                outcome_differs += 1
        if c.username not in scopes:
            scopes[c.username] = await scope_unit_ids(await User.get(username=c.username))
        if c.replica() != await server_replica(scopes[c.username]):
            diverged.append(f"{c.username}/{c.device_id}")
    return {
        "acknowledged": acknowledged,
        "stored": len(stored),
        "lost": lost,
        "outcome_differs": outcome_differs,
        "pending": sum(c.pending() for c in clients),
        "converged": not diverged,
        "diverged": diverged[:5],
    }
