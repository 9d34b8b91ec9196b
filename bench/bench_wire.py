"""Benchmark: the push path over the wire against the engine in-process, storage per value, flat as it grows.

Starts the real server (uvicorn, the server's durable settings: SQLite WAL + synchronous=FULL, or
PostgreSQL with `DATABASE_URL=postgres://…/x`), drives it over HTTP with gzip'd batches of answer edits
as a phone sends them, and prints, in one run:

1. **wire**: edits/s from one device, then from eight devices at once (eight units, each its own official),
   the in-process engine rate of the very same edits (`sync.engine.apply_push` on a fresh database, the
   requests validated beforehand) and the ratio wire/engine;
2. **bytes on disk per stored value** after a bulk ingest (every edit sets a different item; the database
   and its WAL, checkpointed, before and after, divided by the number of values);
3. **flat as it grows**: the wire rate of one device with `--small` values stored, then again after filling
   the same database up to `--volume` values (filled in-process through `apply_push`, the same rows the
   server writes), and their ratio.

    python bench/bench_wire.py [--edits 40000] [--batch 2000] [--devices 8] [--small 100000] [--volume 1000000]
    python bench/bench_wire.py --only wire        # or: disk, volume

The client is in the same process as the benchmark (bodies are built and gzip'd before the clock starts);
the server is its own process. The machine is shared: the figures to compare are the ratios of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_push import make_edits  # noqa: E402
from bench.bench_storm import wait_ready  # noqa: E402
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

# ---------------------------------------------------------------------------------------------- set-up


async def prepare(url: str, n_units: int, months: int) -> dict:
    """Schema, units, templates; per unit an official and `months` monthly reports plus the other templates'
    checklists. Returns {"users": [(username, unit_id, items)], "password_hash": …} where items are
    (checklist_id, item_key, type) of every non-evidence item."""
    from server.auth import hash_password
    from server.models import TemplateItem
    from sync.models import Checklist

    await init_schema(url)
    seed = await load_units_and_templates()
    pw = hash_password(BENCH_PASSWORD)
    codes = [c for c in sorted(seed["units"]) if c.startswith("KT-")][:n_units]
    keys = {}
    for t in seed["templates"].values():
        keys[t.id] = [(i.key, i.type) for i in await TemplateItem.filter(template_id=t.id) if i.type != "evidence"]
    ms = int(time.time() * 1000)
    users, rows = [], []
    for code in codes:
        unit = seed["units"][code]
        await make_user(f"wire.{code}", "official", unit, pw)
        items = []
        for t in seed["templates"].values():
            if t.period_kind == "month":
                periods = [f"{2026 - m // 12}-{12 - m % 12:02d}" for m in range(months)]
            else:
                periods = {"year": ["2026"], "once": ["once"]}[t.period_kind]
            for p in periods:
                cid = str(uuid.uuid4())
                rows.append(
                    Checklist(
                        id=cid, unit_id=unit, template_id=t.id, period=p, status="draft", version=1,
                        created_by="bench", created_ms=ms, updated_ms=ms,
                    )
                )  # fmt: skip
                items.extend((cid, k, typ) for k, typ in keys[t.id])
        users.append((f"wire.{code}", unit, items))
    await Checklist.bulk_create(rows, batch_size=2000)
    await analyze()
    return {"users": users}


def distinct_edits(items: list[tuple[str, str, str]], start: int, n: int, first_seq: int) -> list[dict]:
    """n answer edits, each setting a different item (items[start:start+n], cycling if there are fewer)."""
    values = {"choice": "yes", "number": 7, "text": "Đã thực hiện", "date": "2026-11-22"}
    now = int(time.time() * 1000)
    out = []
    for i in range(n):
        cid, key, typ = items[(start + i) % len(items)]
        out.append(
            {"seq": first_seq + i, "kind": "answer", "checklist_id": cid, "item_key": key,
             "value": values[typ], "base_version": 0, "device_ms": now}
        )  # fmt: skip
    return out


def bodies(device_id: str, edits: list[dict], batch: int) -> list[bytes]:
    out = []
    for i in range(0, len(edits), batch):
        doc = {
            "protocol": 1,
            "device_id": device_id,
            "client_ms": int(time.time() * 1000),
            "edits": edits[i : i + batch],
        }
        out.append(gzip.compress(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode(), 6))
    return out


class Server:
    """uvicorn with the server's own settings, one process (or `workers`), on a free port."""

    def __init__(self, url: str, workers: int = 1) -> None:
        self.url, self.workers = url, workers
        self.proc: subprocess.Popen | None = None
        self.base = ""

    async def __aenter__(self) -> Server:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DATABASE_URL": self.url, "EISO_SECRET": "bench"}
        cmd = uvicorn_command(port, workers=self.workers, keep_alive_s=60)
        self.proc = subprocess.Popen(cmd, env=env)
        await wait_ready(self.base, self.proc)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn stops cleanly (and a profiler writes its report)
            self.proc.wait(timeout=60)


async def phone(base: str, username: str):
    """A logged-in httpx client with a registered device: (client, device_id)."""
    import httpx

    c = httpx.AsyncClient(base_url=base, timeout=120)
    r = await c.post("/api/session", json={"username": username, "password": BENCH_PASSWORD})
    assert r.status_code == 201, r.text
    r = await c.post("/api/devices", json={"name": "bench"})
    assert r.status_code == 201, r.text
    return c, r.json()["device_id"]


async def send(c, payloads: list[bytes], outcomes: dict[str, int], latencies: list[float] | None = None) -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    for body in payloads:
        s = time.perf_counter()
        r = await c.post("/api/sync/push", content=body, headers=headers)
        if latencies is not None:
            latencies.append(time.perf_counter() - s)
        assert r.status_code == 200, r.text[:300]
        for res in r.json()["results"]:
            outcomes[res["outcome"]] = outcomes.get(res["outcome"], 0) + 1


# ---------------------------------------------------------------------------------------------- 1. wire


async def wire(n: int, batch: int, n_devices: int) -> dict:
    from tortoise import Tortoise

    out: dict = {}
    # The engine in-process: the same edits of one device, validated before the clock starts.
    url, cleanup = await fresh_database()
    try:
        world = await prepare(url, n_devices, 12)
        out["engine_1"] = await engine_rate(world["users"][0], make_edits(world["users"][0][2], n), batch)
        await Tortoise.close_connections()
    finally:
        await cleanup()
    url, cleanup = await fresh_database()
    try:
        world = await prepare(url, n_devices, 12)
        await Tortoise.close_connections()
        async with Server(url) as server:
            phones = [await phone(server.base, u[0]) for u in world["users"]]
            # One device: n edits. (Edits made with the same seed as the engine's: the same stream.)
            c, dev = phones[0]
            payloads = bodies(dev, make_edits(world["users"][0][2], n), batch)
            outcomes: dict[str, int] = {}
            t = time.perf_counter()
            await send(c, payloads, outcomes)
            out["wire_1"] = n / (time.perf_counter() - t)
            out["outcomes_1"] = outcomes
            # Eight devices at once, n edits each (the first device goes on after its first n).
            per = []
            for i, (_c, dev) in enumerate(phones):
                edits = make_edits(world["users"][i][2], 2 * n if i == 0 else n, seed=1 if i == 0 else 10 + i)
                per.append(bodies(dev, edits[n:] if i == 0 else edits, batch))
            outcomes = {}
            t = time.perf_counter()
            await asyncio.gather(*(send(c, p, outcomes) for (c, _), p in zip(phones, per)))
            out["wire_n"] = n * len(phones) / (time.perf_counter() - t)
            out["outcomes_n"] = outcomes
            for c, _ in phones:
                await c.aclose()
    finally:
        await cleanup()
    return out


async def engine_rate(user_row: tuple, edits: list[dict], batch: int) -> float:
    from bench.common import make_device
    from server.models import User
    from sync.engine import apply_push
    from sync.protocol import PushRequest

    user = await User.get(username=user_row[0])
    device_id = await make_device(user)
    reqs = [
        PushRequest.model_validate(
            {"protocol": 1, "device_id": device_id, "client_ms": int(time.time() * 1000), "edits": edits[i : i + batch]}
        )
        for i in range(0, len(edits), batch)
    ]
    t = time.perf_counter()
    for req in reqs:
        await apply_push(user, {user_row[1]}, req)
    return len(edits) / (time.perf_counter() - t)


# ---------------------------------------------------------------------------------------------- 2 and 3


def table_bytes(url: str) -> dict[str, int]:
    """SQLite: bytes per table and index (dbstat), the largest first."""
    if not url.startswith("sqlite://"):
        return {}
    import sqlite3

    db = sqlite3.connect(url[len("sqlite://") :].split("?")[0])
    rows = db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 8").fetchall()
    db.close()
    return dict(rows)


def db_bytes(url: str) -> int | None:
    """The SQLite database and its WAL, checkpointed (None on PostgreSQL: the size is the database's)."""
    if not url.startswith("sqlite://"):
        return None
    import sqlite3

    path = url[len("sqlite://") :].split("?")[0]
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return sum(p.stat().st_size for p in Path(path).parent.glob(Path(path).name + "*"))


async def pg_bytes(url: str) -> int | None:
    if not url.startswith("postgres"):
        return None
    import asyncpg

    c = await asyncpg.connect(url.split("?")[0].replace("postgres://", "postgresql://", 1))
    await c.execute("CHECKPOINT")
    size = await c.fetchval("SELECT pg_database_size(current_database())")
    await c.close()
    return int(size)


async def fill(url: str, user_row: tuple, device: dict, upto: int, batch: int) -> None:
    """Push distinct-item edits in-process until `upto` edits of this device are stored."""
    from tortoise import Tortoise

    from server.db import tortoise_config
    from server.models import User
    from sync.engine import apply_push
    from sync.protocol import PushRequest

    await Tortoise.init(config=tortoise_config(url))
    user = await User.get(username=user_row[0])
    if "id" not in device:
        from bench.common import make_device

        device.update(id=await make_device(user), seq=0)
    while device["seq"] < upto:
        n = min(batch * 10, upto - device["seq"])
        edits = distinct_edits(user_row[2], device["seq"], n, device["seq"] + 1)
        for i in range(0, n, batch):
            req = PushRequest.model_validate(
                {
                    "protocol": 1,
                    "device_id": device["id"],
                    "client_ms": int(time.time() * 1000),
                    "edits": edits[i : i + batch],
                }
            )
            await apply_push(user, {user_row[1]}, req)
        device["seq"] += n
    await Tortoise.close_connections()


async def storage_and_volume(small: int, volume: int, measure: int, batch: int, only: str) -> dict:
    """One unit with enough monthly reports for `volume` distinct items: fill to `small`, measure the
    wire and the bytes; fill to `volume`, measure the wire again."""
    from tortoise import Tortoise

    out: dict = {}
    url, cleanup = await fresh_database()
    try:
        months = max(12, (max(small, volume if only != "disk" else small) + 2 * measure) // 17 + 1)
        world = await prepare(url, 1, months)
        await Tortoise.close_connections()
        user_row = world["users"][0]
        out["items"] = len(user_row[2])
        before = db_bytes(url) or await pg_bytes(url)
        filler: dict = {}
        t = time.perf_counter()
        await fill(url, user_row, filler, small, batch)
        out["fill_small_s"] = time.perf_counter() - t
        after = db_bytes(url) or await pg_bytes(url)
        out["bytes_per_value"] = (after - before) / small
        out["bytes_total"] = after
        out["tables"] = table_bytes(url)
        if only == "disk":
            return out
        rates = []
        for target in (small, volume):
            if target > filler["seq"]:
                t = time.perf_counter()
                await fill(url, user_row, filler, target, batch)
                out["fill_big_s"] = time.perf_counter() - t
                out["bytes_big"] = db_bytes(url) or await pg_bytes(url)
            async with Server(url) as server:
                c, dev = await phone(server.base, user_row[0])
                # Overwrites of values already stored and new ones, as a phone's month goes.
                edits = distinct_edits(user_row[2], filler["seq"] - measure // 2, measure, 1)
                outcomes: dict[str, int] = {}
                t = time.perf_counter()
                await send(c, bodies(dev, edits, batch), outcomes)
                rates.append(measure / (time.perf_counter() - t))
                out.setdefault("loads", []).append(os.getloadavg()[0])  # the machine is shared: say how busy
                await c.aclose()
            filler["seq"] += 0
        out["rate_small"], out["rate_big"] = rates
    finally:
        await cleanup()
    return out


async def main(a: argparse.Namespace) -> None:
    backend = "postgres" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite (WAL, FULL)"
    print(f"backend {backend}; load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    if a.only in ("", "wire"):
        r = await wire(a.edits, a.batch, a.devices)
        print(f"wire, 1 device: {r['wire_1']:.0f} edits/s ({a.edits} edits, batches of {a.batch}) {r['outcomes_1']}")
        print(
            f"engine in-process, same edits: {r['engine_1']:.0f} edits/s; wire/engine = {r['wire_1'] / r['engine_1']:.2f}"
        )
        print(
            f"wire, {a.devices} devices at once: {r['wire_n']:.0f} edits/s ({a.devices}×{a.edits}) "
            f"= {r['wire_n'] / r['engine_1']:.2f}× engine (1 device), {r['wire_n'] / r['wire_1']:.2f}× wire 1 device"
        )
    if a.only in ("", "disk", "volume"):
        r = await storage_and_volume(a.small, a.volume, a.measure, a.batch, a.only)
        print(
            f"bulk ingest of {a.small} values (each a different item) in {r['fill_small_s']:.1f} s: "
            f"{r['bytes_per_value']:.0f} bytes on disk per stored value ({r['bytes_total'] / 1e6:.0f} MB in all)"
        )
        if r["tables"]:
            print("  per value: " + ", ".join(f"{k} {v / a.small:.0f}" for k, v in r["tables"].items()))
        if "rate_big" in r:
            print(
                f"wire, 1 device, {a.measure} edits: {r['rate_small']:.0f} edits/s with {a.small} values stored, "
                f"{r['rate_big']:.0f} edits/s with {a.volume} stored ({r.get('bytes_big', r['bytes_total']) / 1e6:.0f} MB); "
                f"ratio {r['rate_big'] / r['rate_small']:.2f} (load average at each: "
                f"{r['loads'][0]:.1f}, {r['loads'][1]:.1f}; filled to {a.volume} in {r.get('fill_big_s', 0):.0f} s)"
            )
    print(f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--edits", type=int, default=40_000, help="edits per device in the wire test")
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--devices", type=int, default=8)
    ap.add_argument("--small", type=int, default=100_000, help="values stored for the bytes and the first rate")
    ap.add_argument("--volume", type=int, default=1_000_000, help="values stored for the second rate")
    ap.add_argument("--measure", type=int, default=20_000, help="edits pushed for each rate of the volume test")
    ap.add_argument("--only", default="", choices=["", "wire", "disk", "volume"])
    asyncio.run(main(ap.parse_args()))
