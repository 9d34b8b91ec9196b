"""`eiso simulate`: N devices in M units edit offline, then all sync at once; a summary of outcomes.

Every simulated device is a `SyncClient` (its own SQLite store in a temporary folder) of one account
(default `admin`, whose scope is the whole province). Devices are spread over the first M commune units
(kind commune/ward/town, by code); each unit's monthly report for the current month is created if
missing. Devices of one unit edit the same checklist, so there are merges and conflicts. Then every
device pushes (with retries: a resent batch is answered from the server's records) and pulls, and the
summary says whether every device equals the server and whether any edit was lost.

    await simulate(devices=30, units=10, edits=50, password=..., settings=settings, progress=print)

With `base_url=None` it runs in-process through the ASGI app built from `settings` (its database);
otherwise it talks HTTP to a running server. It reads no environment variable: the caller (the CLI)
passes the account's password and the settings.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from sync.periods import current_period, today_vn

from .sync_client import SyncClient, SyncFailed

ProgressFn = Callable[[str, int, int], Any]


async def simulate(
    devices: int,
    units: int,
    edits: int,
    base_url: str | None = None,
    progress: ProgressFn | None = None,
    *,
    password: str,
    username: str = "admin",
    settings: Any = None,
    seed: int = 1,
) -> dict:
    """progress(stage, done, total) is called as work advances (stages: setup, edit, push, pull, check).
    `settings` (a `server.config.Settings`) is needed in-process (`base_url=None`).
    Returns a summary dict (see the end of this function)."""
    report = progress or (lambda stage, done, total: None)
    if base_url is None and settings is None:
        raise ValueError("simulate in-process (base_url=None) needs the server's settings")
    started = time.perf_counter()
    transport_factory: Callable[[], httpx.AsyncBaseTransport | None]
    if base_url is None:
        from server.app import create_app

        await _ensure_orm(settings.database_url)
        app = create_app(settings, init_db=False)
        base_url = "http://simulate"
        transport_factory = lambda: httpx.ASGITransport(app=app)  # noqa: E731
    else:
        transport_factory = lambda: None  # noqa: E731
    workdir = Path(tempfile.mkdtemp(prefix="eiso-simulate-"))
    clients: list[SyncClient] = []
    rnd = random.Random(seed)
    try:

        def new_client(i: int) -> SyncClient:
            return SyncClient(workdir / f"device-{i}.sqlite3", base_url=base_url, transport=transport_factory())

        lead = new_client(0)
        clients.append(lead)
        await lead.login(username, password)
        targets = await _prepare_checklists(lead, units)
        items = await _choice_items(lead, targets[0][2]) if targets else []
        if not targets or not items:
            raise SyncFailed(422, {"error": "nothing_to_edit", "message": "no unit or template to simulate on"})
        await lead.register("simulate 0")
        for i in range(1, devices):
            c = new_client(i)
            await c.login(username, password)
            await c.register(f"simulate {i}")
            clients.append(c)
            report("setup", i + 1, devices)
        for c in clients:
            await c.pull()
        # offline work
        assignment = {i: targets[i % len(targets)] for i in range(devices)}
        for i, c in enumerate(clients):
            cid = assignment[i][1]
            for _ in range(edits):
                c.edit_answer(cid, rnd.choice(items), rnd.choice(["yes", "no", "partial", "na"]))
            report("edit", i + 1, devices)
        # everyone comes back online at once
        latencies: list[float] = []
        retries = 0
        done = 0

        async def push(c: SyncClient) -> None:
            nonlocal retries, done
            t = time.perf_counter()
            for _ in range(5):
                try:
                    await c.push()
                    break
                except httpx.TransportError:
                    retries += 1
            latencies.append(time.perf_counter() - t)
            done += 1
            report("push", done, devices)

        t0 = time.perf_counter()
        await asyncio.gather(*(push(c) for c in clients))
        push_s = time.perf_counter() - t0
        for i, c in enumerate(clients):
            await c.pull()
            report("pull", i + 1, devices)
        outcomes: dict[str, int] = {}
        reasons: dict[str, int] = {}
        for c in clients:
            for res in c.outcomes().values():
                outcomes[res["outcome"]] = outcomes.get(res["outcome"], 0) + 1
                if res.get("reason"):
                    reasons[res["reason"]] = reasons.get(res["reason"], 0) + 1
        pending = sum(c.pending() for c in clients)
        # convergence: every device (same account, same scope) holds the same replica
        reference = clients[0].replica()
        converged = all(c.replica() == reference for c in clients[1:])
        report("check", 1, 1)
        latencies.sort()
        return {
            "devices": devices,
            "units": len(targets),
            "edits": devices * edits,
            "outcomes": outcomes,
            "rejected_reasons": reasons,
            "open_conflicts": sum(1 for c in reference["conflicts"].values() if c["status"] == "open"),
            "lost": devices * edits - sum(outcomes.values()) + pending,
            "pending": pending,
            "converged": converged,
            "push_seconds": round(push_s, 2),
            "p50_push_s": round(latencies[len(latencies) // 2], 3) if latencies else 0.0,
            "p99_push_s": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 3)
            if latencies
            else 0.0,
            "push_retries": retries,
            "bytes_sent": sum(c.bytes_sent for c in clients),
            "seconds": round(time.perf_counter() - started, 2),
        }
    finally:
        for c in clients:
            await c.close()
        shutil.rmtree(workdir, ignore_errors=True)


async def _ensure_orm(database_url: str) -> None:
    from tortoise import Tortoise

    if not Tortoise._inited:
        from server.db import tortoise_config

        await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def _prepare_checklists(c: SyncClient, n_units: int) -> list[tuple[int, str, int]]:
    """(unit_id, checklist_id, template_id) of this month's monthly report of the first n communes."""
    units = (await c.http.get("/api/units")).json().get("units", [])
    communes = sorted(
        (u for u in units if u["kind"] in ("commune", "ward", "town") and u.get("active", True)),
        key=lambda u: u["code"],
    )[:n_units]
    templates = (await c.http.get("/api/templates")).json().get("templates", [])
    monthly = [t for t in templates if t["code"] == "monthly_report"]
    if not monthly:
        return []
    template = max(monthly, key=lambda t: t["version"])
    period = current_period("month", today_vn())
    out = []
    for u in communes:
        r = await c.http.post(
            "/api/checklists", json={"unit_id": u["id"], "template_id": template["id"], "period": period}
        )
        if r.status_code == 201:
            out.append((u["id"], r.json()["id"], template["id"]))
        elif r.status_code == 409:  # the unit's checklist of the month, maybe on an older version: its items
            cid = r.json()["checklist_id"]
            out.append((u["id"], cid, (await c.http.get(f"/api/checklists/{cid}")).json()["template_id"]))
    return out


async def _choice_items(c: SyncClient, template_id: int) -> list[str]:
    t = (await c.http.get(f"/api/templates/{template_id}")).json()
    return [i["key"] for i in t.get("items", []) if i["type"] == "choice"]
