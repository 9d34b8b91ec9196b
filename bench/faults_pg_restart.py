"""Fault (b): PostgreSQL stopped and started again while devices push, the app server left running.

Runs a PRIVATE PostgreSQL (initdb in a temporary folder as the `postgres` user, on a free port, its
socket in that folder), never the machine's shared one. Devices push waves of offline edits in a loop
through a real uvicorn server; meanwhile PostgreSQL is stopped (`pg_ctl stop -m fast`: open
transactions are cut), kept down a moment, and started again, `--restarts` times. While it is down the
server must answer 503 JSON with Retry-After (never 500); the devices retry; once it is back the same
server process carries on (the pool opens new connections) with no restart of its own.

At the end: nothing acknowledged lost, no outbox holds anything, every device's pull equals the server's
state, no 500, every 503 had Retry-After and a JSON body. Prints the figures (`--json`: one JSON line).

    python bench/faults_pg_restart.py [--restarts 3] [--down 2] [--units 4] [--devices 2]

Needs PostgreSQL's programs (/usr/lib/postgresql/*/bin/initdb, or --pg-bin) and root (for runuser) or
running as a user that may run initdb itself.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_PASSWORD, load_units_and_templates, make_user  # noqa: E402
from bench.faults_common import CountingTransport, ServerProcess, check_nothing_lost, free_port, retrying  # noqa: E402


def find_pg_bin() -> str | None:
    """The newest installed PostgreSQL's bin folder that has initdb and pg_ctl, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name or 0))
    for initdb in reversed(found):
        if Path(initdb).with_name("pg_ctl").exists():
            return str(Path(initdb).parent)
    return None


class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temporary folder, on a free port; removed by `destroy()`."""

    def __init__(self, pg_bin: str) -> None:
        self.pg_bin = pg_bin
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="eiso-pg-"))
        self.data = self.dir / "data"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        subprocess.run([*self.as_postgres, *args], check=True, capture_output=True, timeout=timeout, cwd="/")

    def init(self) -> None:
        self._run(f"{self.pg_bin}/initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:  # durable (fsync on), as the server demands
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n")
            conf.write(f"unix_socket_directories = '{self.dir}'\nmax_connections = 50\n")

    def start(self) -> None:
        self._run(f"{self.pg_bin}/pg_ctl", "-D", str(self.data), "-l", str(self.dir / "pg.log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(f"{self.pg_bin}/pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        except subprocess.SubprocessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


async def main(
    pg_bin: str, restarts: int, down_s: float, n_units: int, per_unit: int, seed: int = 3, server_log: str = ""
) -> dict:
    import asyncpg
    from tortoise import Tortoise

    from client.sync_client import SyncClient
    from server.auth import hash_password
    from server.db import tortoise_config
    from server.models import TemplateItem
    from server.services.checklists import create_checklist

    pg = PrivatePostgres(pg_bin)
    workdir = Path(tempfile.mkdtemp(prefix="eiso-pgfault-"))
    counts: Counter = Counter()
    clients: list[SyncClient] = []
    server: ServerProcess | None = None
    devices: list[asyncio.Task] = []
    rnd = random.Random(seed)
    try:
        pg.init()
        pg.start()
        admin = await asyncpg.connect(pg.url + "/postgres")
        await admin.execute('CREATE DATABASE "eiso"')
        await admin.close()
        url = pg.url + "/eiso"
        await Tortoise.init(config=tortoise_config(url))
        await Tortoise.generate_schemas(safe=True)
        world = await load_units_and_templates()
        template = world["templates"]["monthly_report"]
        keys = [i.key for i in await TemplateItem.filter(template_id=template.id) if i.type == "choice"]
        pw = hash_password(BENCH_PASSWORD)
        units = [c for c in sorted(world["units"]) if c.startswith("KT-")][:n_units]
        checklist_of = {}
        for code in units:
            await make_user(f"storm.{code}", "official", world["units"][code], pw)
            checklist_of[code] = (await create_checklist(world["units"][code], template.id, "2026-11", "bench")).id
        await Tortoise.close_connections()

        server = ServerProcess(url, workdir / "server.log")
        server.start()
        await server.wait_ready()
        pid = server.proc.pid

        async def setup(code: str, i: int) -> SyncClient:
            c = SyncClient(
                workdir / f"{code}-{i}.sqlite3",
                base_url=server.base_url,
                batch_size=10,
                transport=CountingTransport(counts),
            )
            await c.login(f"storm.{code}", BENCH_PASSWORD)
            await c.register(f"phone {i}")
            await retrying(c.pull, counts)
            return c

        clients = [await setup(code, i) for code in units for i in range(per_unit)]
        stop = asyncio.Event()
        rounds = Counter()

        async def device(c: SyncClient) -> None:
            code = c.username.split(".", 1)[1]
            while not stop.is_set():
                for _ in range(20):  # offline work, then a push that retries until answered
                    c.edit_answer(checklist_of[code], rnd.choice(keys), rnd.choice(["yes", "no", "partial", "na"]))
                await retrying(c.push, counts, give_up_s=60)
                rounds[c.device_id] += 1
                await asyncio.sleep(0.02)

        devices = [asyncio.create_task(device(c)) for c in clients]
        down_503: list[int] = []
        recovered_s: list[float] = []
        t0 = time.perf_counter()
        for _ in range(restarts):
            await asyncio.sleep(1.0)  # under load
            before = counts["http_503"]
            pg.stop("fast")  # open transactions are cut, new connections refused
            await asyncio.sleep(down_s)
            pg.start()
            down_503.append(counts["http_503"] - before)
            # recovered: the next round of every device got through after the start
            started = time.perf_counter()
            mark = dict(rounds)
            while any(rounds[c.device_id] <= mark.get(c.device_id, 0) for c in clients):
                for t in devices:  # a device that gave up (a 500, a refusal) says why, not a timeout later
                    if t.done() and t.exception() is not None:
                        raise t.exception()
                if time.perf_counter() - started > 60:
                    raise TimeoutError("the server did not recover after PostgreSQL came back")
                await asyncio.sleep(0.02)
            recovered_s.append(time.perf_counter() - started)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*devices)
        load_s = time.perf_counter() - t0
        for c in clients:
            await retrying(c.pull, counts)
        same_process = server.proc.poll() is None and server.proc.pid == pid and server.starts == 1

        await Tortoise.init(config=tortoise_config(url))
        try:
            check = await check_nothing_lost(clients)
        finally:
            await Tortoise.close_connections()
        edits = sum(c.db.execute("SELECT COUNT(*) FROM outcome").fetchone()[0] for c in clients)
        return {
            "restarts": restarts,
            "down_s": down_s,
            "devices": len(clients),
            "edits": edits,
            "load_s": round(load_s, 2),
            "http_503_while_down": down_503,
            "recovered_s": [round(s, 2) for s in recovered_s],
            "server_never_restarted": same_process,
            "counts": dict(sorted(counts.items())),
            **check,
            "ok": check["lost"] == 0
            and check["outcome_differs"] == 0
            and check["pending"] == 0
            and check["converged"]
            and check["acknowledged"] == check["stored"]
            and same_process
            and counts["http_500"] == 0
            and counts["http_503"] > 0
            and counts["503_without_retry_after"] == 0
            and counts["503_not_json"] == 0,
        }
    except BaseException:
        if server is not None:
            print(server.log_tail(), file=sys.stderr)
            if server_log:
                shutil.copy(server.log_path, server_log)
        raise
    finally:
        for t in devices:
            t.cancel()
        await asyncio.gather(*devices, return_exceptions=True)
        for c in clients:
            await c.close()
        if server is not None:
            server.stop()
        pg.destroy()
        shutil.rmtree(workdir, ignore_errors=True)


def report(r: dict) -> None:
    print(
        f"private PostgreSQL stopped {r['restarts']} times for {r['down_s']} s under load from {r['devices']} "
        f"devices ({r['edits']} edits in {r['load_s']} s)"
    )
    print(f"503 answers while it was down, per restart: {r['http_503_while_down']}")
    print(f"every device got through again after the start in (s): {r['recovered_s']}")
    print(f"client side: {r['counts']}")
    print(
        f"app server never restarted: {r['server_never_restarted']}; acknowledged {r['acknowledged']}, "
        f"stored {r['stored']}, lost {r['lost']}, still in an outbox {r['pending']}, converged: {r['converged']}"
    )
    print("OK: clear 503s, clients retried, nothing lost, recovered without a restart" if r["ok"] else "FAILED")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--restarts", type=int, default=3)
    ap.add_argument("--down", type=float, default=2.0, help="seconds PostgreSQL stays down each time")
    ap.add_argument("--units", type=int, default=4)
    ap.add_argument("--devices", type=int, default=2)
    ap.add_argument("--pg-bin", default=None, help="folder of initdb and pg_ctl (default: the newest installed)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--server-log", default="", help="copy the app server's log here when the run fails")
    a = ap.parse_args()
    pg_bin = a.pg_bin or find_pg_bin()
    if not pg_bin:
        sys.exit("no PostgreSQL programs (initdb, pg_ctl) found under /usr/lib/postgresql/*/bin; pass --pg-bin")
    r = asyncio.run(main(pg_bin, a.restarts, a.down, a.units, a.devices, server_log=a.server_log))
    print(json.dumps(r)) if a.json else report(r)
    sys.exit(0 if r["ok"] else 1)
