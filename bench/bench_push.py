"""Benchmark (a): one device pushes 100,000 answer edits in batches through sync.engine.apply_push.

Prints edits/s, and the rate of plain sqlite3 writing the same rows (one Edit row per edit, the answers
upserted) measured in the same run, as a ratio. `DATABASE_URL=postgres://…/x python bench/bench_push.py`
runs the engine on a throwaway PostgreSQL database (the sqlite3 baseline is still plain sqlite3).

    python bench/bench_push.py [--edits 100000] [--batch 2000] [--synchronous FULL,NORMAL]

`--synchronous` runs the whole benchmark once per SQLite `synchronous` mode, in the same run (`--repeat`
rounds, alternating; the machine is shared, so take the medians), and prints each figure and the
medians against the first mode: what durability (FULL, the server's setting) costs over
NORMAL. The sqlite3 baseline uses the same mode as the engine it is compared with.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import analyze, fresh_database, init_schema, load_units_and_templates, make_device, make_user  # noqa: E402


def make_edits(items: list[tuple[str, str, str]], n: int, seed: int = 1) -> list[dict]:
    rnd = random.Random(seed)
    values = {
        "choice": ["yes", "no", "partial", "na"],
        "number": [1, 2, 3, 40],
        "text": ["Đã thực hiện", "Chưa"],
        "date": ["2026-11-01", "2026-11-22"],
        "evidence": [None],
    }
    now = int(time.time() * 1000)
    out = []
    for seq in range(1, n + 1):
        checklist_id, key, typ = rnd.choice(items)
        out.append(
            {
                "seq": seq,
                "kind": "answer",
                "checklist_id": checklist_id,
                "item_key": key,
                "value": rnd.choice(values[typ]),
                "note": "ghi chú" if seq % 5 == 0 else None,
                "base_version": 0,
                "device_ms": now - (n - seq),
            }
        )
    return out


def sqlite_baseline(edits: list[dict], batch: int, synchronous: str = "FULL") -> float:
    """Plain sqlite3 writing the same rows: Edit rows inserted, answers upserted, executemany per batch."""
    with tempfile.TemporaryDirectory(prefix="eiso-bench-baseline-") as tmp:
        return _baseline_rate(Path(tmp) / "baseline.sqlite3", edits, batch, synchronous)


def _baseline_rate(path: Path, edits: list[dict], batch: int, synchronous: str) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute(
        "CREATE TABLE edit (id INTEGER PRIMARY KEY, device_id TEXT, seq INTEGER, username TEXT, kind TEXT, "
        "checklist_id TEXT, item_key TEXT, payload TEXT, device_ms INTEGER, effective_ms INTEGER, "
        "received_ms INTEGER, outcome TEXT, reason TEXT, detail TEXT, UNIQUE (device_id, seq))"
    )
    db.execute(
        "CREATE TABLE answer (id INTEGER PRIMARY KEY, checklist_id TEXT, item_key TEXT, value TEXT, note TEXT, "
        "version INTEGER, value_ms INTEGER, value_by TEXT, value_device TEXT, value_seq INTEGER, "
        "updated_ms INTEGER, UNIQUE (checklist_id, item_key))"
    )
    start = time.perf_counter()
    for i in range(0, len(edits), batch):
        part = edits[i : i + batch]
        now = int(time.time() * 1000)
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO edit (device_id, seq, username, kind, checklist_id, item_key, payload, device_ms, "
            "effective_ms, received_ms, outcome, reason, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    "dev",
                    e["seq"],
                    "bench",
                    "answer",
                    e["checklist_id"],
                    e["item_key"],
                    json.dumps(e),
                    e["device_ms"],
                    e["device_ms"],
                    now,
                    "applied",
                    "",
                    "{}",
                )
                for e in part
            ],
        )
        db.executemany(
            "INSERT INTO answer (checklist_id, item_key, value, note, version, value_ms, value_by, value_device, "
            "value_seq, updated_ms) VALUES (?,?,?,?,1,?,?,?,?,?) ON CONFLICT (checklist_id, item_key) DO UPDATE "
            "SET value = excluded.value, version = version + 1, value_ms = excluded.value_ms, "
            "value_seq = excluded.value_seq, updated_ms = excluded.updated_ms",
            [
                (
                    e["checklist_id"],
                    e["item_key"],
                    json.dumps(e["value"]),
                    e["note"] or "",
                    e["device_ms"],
                    "bench",
                    "dev",
                    e["seq"],
                    now,
                )
                for e in part
            ],
        )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return len(edits) / elapsed


async def main(n: int, batch: int, synchronous: str = "FULL") -> dict:
    from tortoise import Tortoise

    from server.auth import hash_password
    from server.services.checklists import create_checklist
    from sync.engine import apply_push
    from sync.protocol import PushRequest

    url, cleanup = await fresh_database()
    if url.startswith("sqlite://"):
        url += f"?synchronous={synchronous}"  # the other pragmas are the server's (normalise_db_url)
    try:
        await init_schema(url)
        seed = await load_units_and_templates()
        # The phone of the official of xã Ia Tơi: every checklist of the unit (the five templates, the
        # monthly report for each month of 2026), all their non-evidence items.
        from server.models import TemplateItem

        unit = seed["units"]["KT-147"]
        official = await make_user("bench.official", "official", unit, hash_password("x"))
        device_id = await make_device(official)
        items: list[tuple[str, str, str]] = []
        for template in seed["templates"].values():
            periods = {"month": [f"2026-{m:02d}" for m in range(1, 13)], "year": ["2026"], "once": ["once"]}[
                template.period_kind
            ]
            keys = [(i.key, i.type) for i in await TemplateItem.filter(template_id=template.id) if i.type != "evidence"]
            for period in periods:
                cid = (await create_checklist(unit, template.id, period, "bench")).id
                items.extend((cid, k, t) for k, t in keys)
        await analyze()
        edits = make_edits(items, n)
        scope = {unit}
        # Validate the requests up front (the web layer does that) so the figure is the engine's.
        requests = [
            PushRequest.model_validate(
                {
                    "protocol": 1,
                    "device_id": device_id,
                    "client_ms": int(time.time() * 1000),
                    "edits": edits[i : i + batch],
                }
            )
            for i in range(0, n, batch)
        ]
        outcomes: dict[str, int] = {}
        start = time.perf_counter()
        for req in requests:
            body = await apply_push(official, scope, req)
            for r in body["results"]:
                outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
        engine_s = time.perf_counter() - start
        from sync.models import Edit

        recorded = await Edit.all().count()
        backend = "postgres" if url.startswith("postgres") else "sqlite"
        await Tortoise.close_connections()
    finally:
        await cleanup()
    baseline = sqlite_baseline(edits, batch, synchronous)
    rate = n / engine_s
    out = {
        "backend": backend,
        "synchronous": synchronous if backend == "sqlite" else "",
        "items": len(items),
        "edits": n,
        "batch": batch,
        "seconds": round(engine_s, 2),
        "edits_per_s": round(rate),
        "sqlite3_baseline_per_s": round(baseline),
        "ratio_to_baseline": round(rate / baseline, 3),
        "recorded": recorded,
        "outcomes": outcomes,
    }
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--edits", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--synchronous", default="FULL", help="SQLite modes, comma-separated, e.g. FULL,NORMAL")
    ap.add_argument("--repeat", type=int, default=1, help="rounds over the modes (alternating); medians printed")
    args = ap.parse_args()
    modes = args.synchronous.upper().split(",")
    rates: dict[str, list[int]] = {m: [] for m in modes}
    for _round in range(args.repeat):
        for mode in modes:
            result = asyncio.run(main(args.edits, args.batch, mode))
            rates[mode].append(result["edits_per_s"])
            print(
                f"backend {result['backend']} {result['synchronous']}: {result['edits']} answer edits over "
                f"{result['items']} items, batches of {result['batch']}: "
                f"{result['seconds']} s, {result['edits_per_s']} edits/s"
            )
            print(
                f"plain sqlite3 writing the same rows: {result['sqlite3_baseline_per_s']} rows/s; "
                f"engine/baseline = {result['ratio_to_baseline']}"
            )
            print(f"recorded edits: {result['recorded']}, outcomes: {result['outcomes']}")
    if len(modes) > 1 or args.repeat > 1:
        medians = {m: statistics.median(r) for m, r in rates.items()}
        first = modes[0]
        print(
            "median edits/s: "
            + ", ".join(f"{m} {medians[m]:.0f} ({medians[m] / medians[first]:.2f}× {first})" for m in modes)
        )
