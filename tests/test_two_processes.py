"""The deployment of docs/deployment.md in small: two `eiso serve` processes on one PostgreSQL database
(migrated and seeded by `eiso`), phones pushing through both at once, each push to whichever process,
as a reverse proxy would spread them. Nothing acknowledged is lost, every phone converges, each process
writes JSON log lines with request ids, and either process's /metrics counts the requests of both."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from client.sync_client import SyncClient
from tests.conftest import BACKEND, DEMO_PASSWORD, run_async
from tests.ops_fixtures import eiso, eiso_env, fresh_database, serving

pytestmark = pytest.mark.postgres

PHONES = [("xa.iatoi", 0), ("xa.iatoi", 1), ("xa.tumorong", 0), ("xa.tumorong", 1)]
ROUNDS, EDITS = 5, 10  # per phone: 5 pushes of 10 edits, alternating between the two processes
KEYS = ["difficulties", "proposals", "internal_procedures_count", "new_tthc_count"]


async def phone_day(urls: list[str], username: str, n: int, tmp) -> tuple[SyncClient, dict]:
    """One phone: pushes through alternating processes; returns it and what it sent and got back."""
    phone = SyncClient(tmp / f"{username}-{n}.sqlite3", base_url=urls[n % 2])
    sent, outcomes = 0, []
    await phone.login(username, DEMO_PASSWORD)
    await phone.register(f"{username} #{n}")
    await phone.pull()
    templates = (await phone.http.get("/api/templates")).json()["templates"]
    monthly = next(t["id"] for t in templates if t["code"] == "monthly_report")
    cid = next(c for c, row in sorted(phone.checklists().items()) if row["template_id"] == monthly)
    for r in range(ROUNDS):
        phone.http.base_url = httpx.URL(urls[(n + r) % 2])  # the proxy picks a process per request
        for e in range(EDITS):
            key = KEYS[e % len(KEYS)]
            value = r * 100 + e if key.endswith("count") else f"{username} #{n} vòng {r} sửa {e}"
            phone.edit_answer(cid, key, value)
            sent += 1
        outcomes += [x["outcome"] for x in await phone.push()]
    return phone, {"device": phone.device_id, "sent": sent, "outcomes": outcomes, "checklist": cid}


async def day(urls: list[str], tmp) -> list[dict]:
    """Every phone pushes at once; when all are done, each pulls through the other process than the one
    it started on (a pull taken while others still write may stop short of their late commits, and
    continue from there next time: only a pull after the writes must show everything)."""
    done = await asyncio.gather(*(phone_day(urls, u, n, tmp) for u, n in PHONES))
    try:
        for n, (phone, info) in enumerate(done):
            phone.http.base_url = httpx.URL(urls[(PHONES[n][1] + 1) % 2])
            await phone.pull()
            info["answers"] = {k: (phone.answer(info["checklist"], k) or {}).get("value") for k in KEYS}
    finally:
        for phone, _ in done:
            await phone.close()
    return [info for _, info in done]


async def server_state(pg: str, devices: list[str], checklists: set[str]) -> dict:
    import asyncpg

    conn = await asyncpg.connect("postgresql://" + pg.split("://", 1)[1])
    try:
        seqs = {
            r["id"]: r["last_seq"]
            for r in await conn.fetch("SELECT id, last_seq FROM device WHERE id = ANY($1::text[])", devices)
        }
        edits = await conn.fetchval("SELECT COUNT(*) FROM edit WHERE device_id = ANY($1::text[])", devices)
        answers = {
            (r["checklist_id"], r["item_key"]): json.loads(r["value"]) if r["value"] is not None else None
            for r in await conn.fetch(
                "SELECT checklist_id, item_key, value FROM answer WHERE checklist_id = ANY($1::text[])",
                list(checklists),
            )
        }
        return {"seqs": seqs, "edits": edits, "answers": answers}
    finally:
        await conn.close()


def test_two_server_processes_on_one_postgres_database_lose_nothing(tmp_path):
    if BACKEND != "postgres":
        pytest.skip("runs with EISO_TEST_DB=postgres (the suite's PostgreSQL pass)")
    with fresh_database(tmp_path, "postgres") as pg:
        env = eiso_env(pg, tmp_path / "evidence", EISO_METRICS_DIR=str(tmp_path / "metrics"))
        eiso("seed", "--demo", env=env, cwd=tmp_path)
        logs = [tmp_path / "a.log", tmp_path / "b.log"]
        with serving(env, tmp_path, logs[0]) as a, serving(env, tmp_path, logs[1]) as b:
            phones = run_async(day([a, b], tmp_path))
            import time

            time.sleep(1.2)  # each process shares its counters at most once a second...
            for url in (a, b):
                httpx.get(url + "/healthz", timeout=5)  # ...and at its next request after that
            metrics = httpx.get(a + "/metrics", timeout=5)  # loopback, no proxy: allowed
        state = run_async(server_state(pg, [p["device"] for p in phones], {p["checklist"] for p in phones}))

    total = len(PHONES) * ROUNDS * EDITS
    assert sum(len(p["outcomes"]) for p in phones) == total  # every edit acknowledged
    assert all(o in ("applied", "merged", "conflict") for p in phones for o in p["outcomes"])
    assert state["edits"] == total  # ...and recorded
    assert state["seqs"] == {p["device"]: p["sent"] for p in phones}
    for p in phones:  # every phone holds what the database holds
        assert p["answers"] == {k: state["answers"].get((p["checklist"], k)) for k in KEYS}

    # both processes served pushes, and one scrape counts them all
    pushes = len(PHONES) * ROUNDS
    assert metrics.status_code == 200
    served = 0
    for line in metrics.text.splitlines():
        if line.startswith('eiso_http_requests_total{method="POST",route="/api/sync/push",status="200"}'):
            served = float(line.rsplit(" ", 1)[1])
    assert served == pushes
    per_process = []
    for log in logs:
        lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
        requests = [x for x in lines if x.get("logger") == "eiso.request"]
        assert all(len(x["request_id"]) == 32 and "ms" in x and "status" in x for x in requests)
        per_process.append(sum(1 for x in requests if x["route"] == "/api/sync/push"))
    assert sum(per_process) == pushes and min(per_process) > 0
