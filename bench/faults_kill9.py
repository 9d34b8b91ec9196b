"""Fault (a): kill -9 the server in the middle of the deadline storm and start it again, N times.

The storm of bench/bench_storm.py (units × devices, the devices of a unit editing the same monthly
report offline, then pushing at once through uvicorn) is cut into N waves. In each wave every device
saves its share of edits offline and all push at once; when a random share (20–60 %) of the wave's edits
has been acknowledged, the server gets SIGKILL, mid-transaction for some, and is started again at once.
The devices retry as a phone does (network error or 503: send again) until their outbox is empty.

At the end it checks, against the database: every edit a device got an answer for is stored with the
same outcome (nothing acknowledged lost), no outbox holds anything, and every device's pull equals the
server's state for its scope. It prints the figures, and one JSON line (`--json`) for the tests.
`DATABASE_URL=postgres://…/x` runs it on PostgreSQL (a throwaway database is made there and dropped).

    python bench/faults_kill9.py [--kills 10] [--units 20] [--devices 3] [--edits 300] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_PASSWORD, analyze, fresh_database, init_schema, load_units_and_templates, make_user  # noqa: E402
from bench.faults_common import CountingTransport, ServerProcess, check_nothing_lost, retrying  # noqa: E402


async def main(kills: int, n_units: int, per_unit: int, n_edits: int, batch_size: int = 10, seed: int = 9) -> dict:
    from tortoise import Tortoise

    from client.sync_client import SyncClient
    from server.auth import hash_password
    from server.config import normalise_db_url
    from server.db import tortoise_config
    from server.models import TemplateItem
    from server.services.checklists import create_checklist

    url, cleanup = await fresh_database()
    workdir = Path(tempfile.mkdtemp(prefix="eiso-faults-"))
    server = ServerProcess(url, workdir / "server.log")
    counts: Counter = Counter()
    clients: list[SyncClient] = []
    rnd = random.Random(seed)
    try:
        await init_schema(url)
        world = await load_units_and_templates()
        template = world["templates"]["monthly_report"]
        keys = [i.key for i in await TemplateItem.filter(template_id=template.id) if i.type == "choice"]
        pw = hash_password(BENCH_PASSWORD)
        units = [c for c in sorted(world["units"]) if c.startswith("KT-")][:n_units]
        checklist_of: dict[str, str] = {}
        for code in units:
            await make_user(f"storm.{code}", "official", world["units"][code], pw)
            checklist_of[code] = (await create_checklist(world["units"][code], template.id, "2026-11", "bench")).id
        await analyze()
        await Tortoise.close_connections()

        server.start()
        await server.wait_ready()

        async def setup(code: str, i: int) -> SyncClient:
            c = SyncClient(
                workdir / f"{code}-{i}.sqlite3",
                base_url=server.base_url,
                batch_size=batch_size,
                transport=CountingTransport(counts),
            )
            await c.login(f"storm.{code}", BENCH_PASSWORD)
            await c.register(f"phone {i}")
            await retrying(c.pull, counts)
            return c

        clients = [await setup(code, i) for code in units for i in range(per_unit)]
        per_wave = [n_edits // kills + (1 if w < n_edits % kills else 0) for w in range(kills)]
        kills_mid_storm = 0
        acked_at_kill: list[float] = []
        t0 = time.perf_counter()
        for wave in range(kills):
            for c in clients:  # offline work, saved in the outbox before anything is sent
                code = c.username.split(".", 1)[1]
                for _ in range(per_wave[wave]):
                    c.edit_answer(checklist_of[code], rnd.choice(keys), rnd.choice(["yes", "no", "partial", "na"]))
            wave_total = sum(c.pending() for c in clients)
            target = rnd.uniform(0.2, 0.6)
            pushes = [asyncio.create_task(retrying(c.push, counts)) for c in clients]
            while not all(p.done() for p in pushes):
                left = sum(c.pending() for c in clients)
                if wave_total - left >= target * wave_total:
                    break
                await asyncio.sleep(0.005)
            left = sum(c.pending() for c in clients)
            if left:
                kills_mid_storm += 1
            acked_at_kill.append((wave_total - left) / wave_total)
            server.kill9()  # SIGKILL: no shutdown, no rollback but the database's own
            server.start()
            await server.wait_ready()
            await asyncio.gather(*pushes)
        storm_s = time.perf_counter() - t0
        for c in clients:
            await retrying(c.pull, counts)

        await Tortoise.init(config=tortoise_config(normalise_db_url(url)))
        try:
            check = await check_nothing_lost(clients)
        finally:
            await Tortoise.close_connections()
        total = len(clients) * n_edits
        return {
            "backend": "postgres" if url.startswith("postgres") else "sqlite",
            "kills": kills,
            "kills_mid_storm": kills_mid_storm,
            "acked_share_at_kill": [round(a, 2) for a in acked_at_kill],
            "devices": len(clients),
            "edits": total,
            "storm_s": round(storm_s, 2),
            "restart_ready_s_max": round(max(server.ready_s[1:]), 2),
            "restart_ready_s_mean": round(sum(server.ready_s[1:]) / kills, 2),
            "counts": dict(sorted(counts.items())),
            **check,
            "ok": check["lost"] == 0
            and check["outcome_differs"] == 0
            and check["pending"] == 0
            and check["converged"]
            and check["acknowledged"] == total
            and check["stored"] == total
            and counts["http_500"] == 0,
        }
    except BaseException:
        print(server.log_tail(), file=sys.stderr)
        raise
    finally:
        for c in clients:
            await c.close()
        server.stop()
        await cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


def report(r: dict) -> None:
    print(
        f"backend {r['backend']}: {r['devices']} devices, {r['edits']} offline edits, "
        f"{r['kills']} × kill -9 of the server mid-storm ({r['kills_mid_storm']} with pushes in flight)"
    )
    print(f"share of the wave acknowledged at each kill: {r['acked_share_at_kill']}")
    print(
        f"storm with kills: {r['storm_s']} s; server back after a kill in {r['restart_ready_s_mean']} s "
        f"(mean), {r['restart_ready_s_max']} s (max)"
    )
    print(f"client side: {r['counts']}")
    print(
        f"acknowledged {r['acknowledged']}, stored {r['stored']}, lost {r['lost']}, outcome differs "
        f"{r['outcome_differs']}, still in an outbox {r['pending']}, every device converged: {r['converged']}"
    )
    print("OK: nothing acknowledged lost, every device converged" if r["ok"] else "FAILED")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--units", type=int, default=20)
    ap.add_argument("--devices", type=int, default=3)
    ap.add_argument("--edits", type=int, default=300)
    ap.add_argument("--batch", type=int, default=10, help="edits per push request")
    ap.add_argument("--json", action="store_true", help="print one JSON line (for the tests)")
    a = ap.parse_args()
    r = asyncio.run(main(a.kills, a.units, a.devices, a.edits, a.batch))
    if a.json:
        print(json.dumps(r))
    else:
        report(r)
    sys.exit(0 if r["ok"] else 1)
