"""Benchmark (b) and (c): the deadline storm through a running HTTP server, and bytes on the wire.

147 units × 3 devices × 300 offline edits each (the three phones of a unit edit the same monthly report,
so there are conflicts), then every device pushes at once through uvicorn. Prints the total time, p50
and p99 per push, whether all devices converged and whether anything was lost, and the bytes sent per
edit with gzip (and without, for comparison). `DATABASE_URL=postgres://…/x` runs it on PostgreSQL.

    python bench/bench_storm.py [--units 147] [--devices 3] [--edits 300] [--workers 1] [--spread 0]

`--workers 2` runs two server processes (uvicorn workers; PostgreSQL is where that pays: SQLite has one
writer). `--spread 60` starts the pushes at random moments over 60 s, as a real deadline evening spreads
them, instead of all at once; p99 per push is then the figure to read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BENCH_PASSWORD,
    analyze,
    free_port,
    fresh_database,
    init_schema,
    load_units_and_templates,
    make_user,
    uvicorn_command,
)


async def wait_ready(url: str, proc: subprocess.Popen) -> None:
    import httpx

    async with httpx.AsyncClient() as c:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError("server exited")
            try:
                await c.get(url + "/api/session")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children alive now (uvicorn's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


async def main(n_units: int, per_unit: int, n_edits: int, workers: int = 1, spread: float = 0) -> dict:
    import httpx
    from tortoise import Tortoise

    from client.sync_client import SyncClient
    from server.auth import hash_password, scope_unit_ids
    from server.models import TemplateItem, User
    from server.services.checklists import create_checklist
    from sync.models import Edit
    from sync.state import server_replica

    url, cleanup = await fresh_database()
    workdir = Path(tempfile.mkdtemp(prefix="eiso-storm-"))
    proc = None
    clients: list[SyncClient] = []
    try:
        await init_schema(url)
        seed = await load_units_and_templates()
        template = seed["templates"]["monthly_report"]
        keys = [i.key for i in await TemplateItem.filter(template_id=template.id) if i.type == "choice"]
        pw = hash_password(BENCH_PASSWORD)
        units = [c for c in sorted(seed["units"]) if c.startswith("KT-")][:n_units]
        checklist_of: dict[str, str] = {}
        for code in units:
            await make_user(f"storm.{code}", "official", seed["units"][code], pw)
            checklist_of[code] = (await create_checklist(seed["units"][code], template.id, "2026-11", "bench")).id
        await analyze()
        await Tortoise.close_connections()

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DATABASE_URL": url, "EISO_SECRET": "bench"}
        cmd = uvicorn_command(port, workers=workers, keep_alive_s=60)
        proc = subprocess.Popen(cmd, env=env)
        await wait_ready(base, proc)
        limits = httpx.Limits(max_connections=1000)
        sem = asyncio.Semaphore(16)

        async def setup(code: str, i: int) -> SyncClient:
            c = SyncClient(
                workdir / f"{code}-{i}.sqlite3",
                base_url=base,
                batch_size=500,
                transport=httpx.AsyncHTTPTransport(limits=limits),
            )
            async with sem:
                await c.login(f"storm.{code}", BENCH_PASSWORD)
                await c.register(f"phone {i}")
                await c.pull()
            return c

        t0 = time.perf_counter()
        clients = list(await asyncio.gather(*(setup(code, i) for code in units for i in range(per_unit))))
        setup_s = time.perf_counter() - t0
        rnd = random.Random(5)
        for c in clients:  # offline work: 300 edits each, saved in the local outbox
            code = c.username.split(".", 1)[1]
            for _ in range(n_edits):
                c.edit_answer(checklist_of[code], rnd.choice(keys), rnd.choice(["yes", "no", "partial", "na"]))
        plain_bytes = sum(
            len(
                json.dumps(
                    {"protocol": 1, "device_id": c.device_id, "client_ms": 0, "edits": c.outbox()},
                    ensure_ascii=False,
                    separators=(",", ":"),
                ).encode()
            )
            for c in clients
        )
        latencies: list[float] = []

        retries = 0

        starts = {id(c): rnd.uniform(0, spread) if spread else 0.0 for c in clients}

        async def push(c: SyncClient) -> None:
            nonlocal retries
            if starts[id(c)]:
                await asyncio.sleep(starts[id(c)])
            s = time.perf_counter()
            for _attempt in range(5):  # a phone retries; the server answers a resent batch from its records
                try:
                    await c.push()
                    break
                except httpx.TransportError:
                    retries += 1
            latencies.append(time.perf_counter() - s)

        t0, server_cpu0, client_cpu0 = time.perf_counter(), cpu_seconds(proc.pid), time.process_time()
        await asyncio.gather(*(push(c) for c in clients))
        storm_s = time.perf_counter() - t0
        # Who was busy: the server's processes, and this process (the phones' client side).
        server_cpu, client_cpu = cpu_seconds(proc.pid) - server_cpu0, time.process_time() - client_cpu0
        # Then every phone pulls what the others sent (its unit's, a district's official its communes').
        t0, server_cpu0 = time.perf_counter(), cpu_seconds(proc.pid)
        await asyncio.gather(*(c.pull() for c in clients))
        pull_s, pull_server_cpu = time.perf_counter() - t0, cpu_seconds(proc.pid) - server_cpu0

        await Tortoise.init(
            config=__import__("server.db", fromlist=["x"]).tortoise_config(
                __import__("server.config", fromlist=["x"]).normalise_db_url(url)
            )
        )
        total = len(clients) * n_edits
        recorded = await Edit.all().count()
        outcomes: dict[str, int] = {}
        for o in await Edit.all().values_list("outcome", flat=True):
            outcomes[o] = outcomes.get(o, 0) + 1
        lost = total - recorded + sum(c.pending() for c in clients)
        converged = True
        for c in clients:
            code = c.username.split(".", 1)[1]
            user = await User.get(username=c.username)  # a district's official sees its communes too
            mine, theirs = c.replica(), await server_replica(await scope_unit_ids(user))
            if mine != theirs:
                if converged and os.environ.get("BENCH_DEBUG"):
                    for part in mine:
                        for k in set(mine[part]) | set(theirs[part]):
                            if mine[part].get(k) != theirs[part].get(k):
                                print("DIFF", part, k, mine[part].get(k), theirs[part].get(k))
                                break
                converged = False
        await Tortoise.close_connections()
        gz_bytes = sum(c.bytes_sent for c in clients)
        return {
            "backend": "postgres" if url.startswith("postgres") else "sqlite",
            "workers": workers,
            "spread_s": spread,
            "devices": len(clients),
            "edits": total,
            "setup_s": round(setup_s, 1),
            "storm_s": round(storm_s, 2),
            "edits_per_s": round(total / storm_s),
            "p50_push_s": round(pct(latencies, 50), 3),
            "p99_push_s": round(pct(latencies, 99), 3),
            "converged": converged,
            "lost": lost,
            "outcomes": outcomes,
            "retries": retries,
            "server_cpu_s": round(server_cpu, 1),
            "client_cpu_s": round(client_cpu, 1),
            "pull_after_s": round(pull_s, 2),
            "pull_server_cpu_s": round(pull_server_cpu, 1),
            "bytes_per_edit_gzip": round(gz_bytes / total, 1),
            "bytes_per_edit_plain": round(plain_bytes / total, 1),
        }
    finally:
        for c in clients:
            await c.close()
        if proc is not None:
            proc.send_signal(signal.SIGINT)  # uvicorn stops cleanly (and a profiler writes its report)
            proc.wait(timeout=60)
        await cleanup()
        for p in workdir.glob("*"):
            p.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=147)
    ap.add_argument("--devices", type=int, default=3)
    ap.add_argument("--edits", type=int, default=300)
    ap.add_argument("--workers", type=int, default=1, help="server processes")
    ap.add_argument("--spread", type=float, default=0, help="seconds over which the pushes start (0: all at once)")
    a = ap.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f}")
    r = asyncio.run(main(a.units, a.devices, a.edits, a.workers, a.spread))
    when = f"spread over {r['spread_s']:g} s" if r["spread_s"] else "at once"
    print(
        f"backend {r['backend']}, {r['workers']} server process(es): {r['devices']} devices, {r['edits']} offline "
        f"edits pushed {when} through uvicorn"
    )
    print(
        f"storm: {r['storm_s']} s total ({r['edits_per_s']} edits/s), per push p50 {r['p50_push_s']} s, "
        f"p99 {r['p99_push_s']} s"
    )
    print(f"CPU during the storm: server {r['server_cpu_s']} s, phones' client (this process) {r['client_cpu_s']} s")
    print(f"then every device pulled at once: {r['pull_after_s']} s (server CPU {r['pull_server_cpu_s']} s)")
    print(f"converged: {r['converged']}, lost: {r['lost']}, outcomes: {r['outcomes']}, push retries: {r['retries']}")
    print(f"bytes on the wire per edit: {r['bytes_per_edit_gzip']} with gzip, {r['bytes_per_edit_plain']} without")
    print(f"(set-up: logins, registration and first pull of all devices took {r['setup_s']} s)")
    print(f"load after: {os.getloadavg()[0]:.2f}")
