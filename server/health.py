"""What a load balancer and a monitoring system ask: `/healthz` (can this process serve?) and `/metrics`
(the Prometheus text format).

`/healthz` checks the database answers, every migration in server/migrations/ is applied, and the
evidence store takes a write: 200 with each check when all pass, 503 naming the one that failed.
`/metrics` is restricted: with `EISO_METRICS_TOKEN` set, a request must carry `Authorization: Bearer
<token>`; without it, only a direct connection from this machine (loopback, no forwarded header, so a
reverse proxy on the same host does not make the world local) may read it.
"""

from __future__ import annotations

import hmac
import secrets
from collections import Counter
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise import connections

from .config import Settings
from .errors import json_error, problem
from .observability import Counters, exposition
from .reminders.run import MAX_ATTEMPTS  # a failed reminder tried this often is given up, not queued

MIGRATIONS = Path(__file__).parent / "migrations"
LOOPBACK = {"127.0.0.1", "::1"}
FORWARDED = (b"x-forwarded-for", b"forwarded", b"x-real-ip")


def migration_names() -> set[str]:
    return {p.stem for p in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py")}


async def pending_migrations() -> list[str]:
    """Migrations in server/migrations/ not recorded as applied (all of them when none ever ran)."""
    conn = connections.get("default")
    try:
        rows = await conn.execute_query_dict("SELECT name FROM tortoise_migrations WHERE app = 'models'")
    except Exception:  # noqa: BLE001 - no table yet: nothing was applied
        rows = []
    return sorted(migration_names() - {r["name"] for r in rows})


async def database_ok() -> bool:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure is "unreachable" to a load balancer
        return False
    return True


def evidence_writable(folder: Path) -> bool:
    """A small file written, flushed and removed in the evidence store."""
    probe = folder / f".healthz-{secrets.token_hex(6)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as f:
            f.write(b"ok")
        probe.unlink()
    except OSError:
        return False
    return True


async def check(settings: Settings) -> dict:
    db = await database_ok()
    pending = await pending_migrations() if db else []
    checks = {
        "database": "ok" if db else "unreachable",
        "migrations": ("ok" if not pending else "pending: " + ", ".join(pending)) if db else "unknown",
        "evidence_store": "ok" if evidence_writable(Path(settings.evidence_dir)) else "not writable",
    }
    return {"status": "ok" if all(v == "ok" for v in checks.values()) else "unavailable", "checks": checks}


async def healthz(request: Request) -> JSONResponse:
    body = await check(request.app.state.settings)
    ok = body["status"] == "ok"
    headers = {"Cache-Control": "no-store"} if ok else {"Cache-Control": "no-store", "Retry-After": "10"}
    return JSONResponse(body, status_code=200 if ok else 503, headers=headers)


def metrics_allowed(request: Request, settings: Settings) -> bool:
    token = settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    direct = not any(name in dict(request.scope["headers"]) for name in FORWARDED)
    return direct and request.client is not None and request.client.host in LOOPBACK


async def database_figures() -> dict:
    conn = connections.get("default")
    edits = await conn.execute_query_dict("SELECT outcome, reason, n FROM edit_tally")  # kept by each push
    quarantine = await conn.execute_query_dict("SELECT reason, COUNT(*) AS n FROM quarantine GROUP BY reason")
    reminders = await conn.execute_query_dict(
        "SELECT status, COUNT(*) AS n FROM reminder_ledger "
        f"WHERE status = 'sending' OR (status = 'failed' AND attempts < {MAX_ATTEMPTS}) GROUP BY status"
    )
    return {
        "edits": Counter({(r["outcome"], r["reason"] or ""): int(r["n"]) for r in edits}),
        "quarantine": Counter({r["reason"]: int(r["n"]) for r in quarantine}),
        "reminders": Counter({"sending": 0, "failed": 0} | {r["status"]: int(r["n"]) for r in reminders}),
    }


async def metrics(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if not metrics_allowed(request, settings):
        return json_error(problem("metrics_forbidden"))
    counters: Counters = request.app.state.counters
    text = exposition(counters.totals(), await database_figures())
    return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8", headers={"Cache-Control": "no-store"})


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
