"""Two server processes (uvicorn) sharing one PostgreSQL database: concurrent pushes and pulls.

A pull must never miss a change that a concurrent transaction in the other process committed late: the
pullers page incrementally while the writers push, and at the end every replica must equal the database.
Runs with EISO_TEST_DB=postgres (the suite's throwaway PostgreSQL database).
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import time

import httpx
import pytest

from client.sync_client import SyncClient
from server.auth import scope_unit_ids
from server.models import User
from sync.models import Edit
from sync.state import server_replica
from tests.conftest import BACKEND, DEMO_PASSWORD
from tests.sync_fixtures import make_checklist

pytestmark = pytest.mark.postgres


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database_url: str, port: int, log) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "EISO_SECRET": "test-secret"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "server.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


async def wait_ready(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient() as c:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server on port {port} exited")
            try:
                await c.get(f"http://127.0.0.1:{port}/api/session")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


async def test_two_processes_concurrent_push_and_pull(seeded, settings, tmp_path):
    if BACKEND != "postgres":
        pytest.skip("needs EISO_TEST_DB=postgres (two server processes on one PostgreSQL database)")
    # (the session's database fixture already called need_postgres(); it cannot run inside this event loop)
    cids = {
        "KT-147": [await make_checklist("KT-147"), await make_checklist("KT-147", "monthly_report")],
        "KT-097": [await make_checklist("KT-097"), await make_checklist("KT-097", "monthly_report")],
    }
    keys = {
        0: ["c4_1_context", "c4_2_interested_parties", "c4_3_scope", "c4_4_processes"],
        1: ["plan_issued", "objectives_issued", "audit_programme_issued", "internal_audit_done"],
    }
    ports = [free_port(), free_port()]
    logs = [open(tmp_path / f"server-{p}.log", "w") for p in ports]
    procs = [start_server(settings.database_url, p, log) for p, log in zip(ports, logs)]
    clients: list[SyncClient] = []
    try:
        await asyncio.gather(*(wait_ready(p, pr) for p, pr in zip(ports, procs)))
        await _run(ports, clients, cids, keys, tmp_path)
    except BaseException:
        for p in ports:
            print((tmp_path / f"server-{p}.log").read_text()[-4000:])
        raise
    finally:
        for c in clients:
            await c.close()
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)
        for log in logs:
            log.close()


async def _run(ports, clients, cids, keys, tmp_path) -> None:
    if True:

        async def client(username: str, i: int) -> SyncClient:
            c = SyncClient(tmp_path / f"{username}-{i}.sqlite3", base_url=f"http://127.0.0.1:{ports[i % 2]}")
            await c.login(username, DEMO_PASSWORD)
            await c.register()
            clients.append(c)
            return c

        writers = [await client(u, i) for i, u in enumerate(["xa.iatoi"] * 3 + ["xa.tumorong"] * 3)]
        pullers = [await client(u, i) for i, u in enumerate(["admin", "admin", "huyen.iahdrai", "xa.tumorong"])]
        for c in writers + pullers:
            await c.pull()
        done = asyncio.Event()

        async def write(c: SyncClient, seed: int) -> None:
            rnd = random.Random(seed)
            unit = "KT-147" if c.username == "xa.iatoi" else "KT-097"
            for _round in range(6):
                for _ in range(15):
                    t = rnd.randrange(2)
                    c.edit_answer(cids[unit][t], rnd.choice(keys[t]), rnd.choice(["yes", "no", "partial"]))
                await c.push()
                await asyncio.sleep(rnd.random() * 0.02)

        async def pull_loop(c: SyncClient) -> int:
            pulls = 0
            while not done.is_set():
                await c.pull(limit=7)  # small pages: many cursors in flight while writers commit
                pulls += 1
            return pulls

        pull_tasks = [asyncio.create_task(pull_loop(c)) for c in pullers]
        await asyncio.gather(*(write(c, i) for i, c in enumerate(writers)))
        done.set()
        assert all(n > 0 for n in await asyncio.gather(*pull_tasks))
        # the pullers' cursors carried on from where they were: a skipped change would show up here
        for c in pullers + writers:
            await c.pull()
            user = await User.get(username=c.username)
            assert c.replica() == await server_replica(await scope_unit_ids(user)), c.username
        assert await Edit.all().count() == 6 * 6 * 15
