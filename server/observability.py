"""What operators see of a running server: one JSON log line per request with its request id, and the
counters `/metrics` shows in the Prometheus text format.

`ObservabilityMiddleware` (pure ASGI, outermost of ours) gives each request an id (taken from the
configured header when it looks like one, else made here), returns it as `X-Request-Id`, and when the
answer is done logs `{"request_id", "method", "route", "status", "ms", "user_id"}` on the `eiso.request`
logger and counts the request by route template and status. A refused sync call is counted by its
problem code too (server/errors.py leaves the code in the request's state).

Several worker processes: each keeps its counters in memory and, when `EISO_METRICS_DIR` is set, writes
them to `<dir>/<pid>-<start>.json` at most once a second; a scrape sums every file, so any worker answers
for all of them. A finished worker's file stays: counters only grow, as Prometheus expects.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import threading
import time
from collections import Counter
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("eiso.request")

_GOOD_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # anything else (a log injection, a megabyte) is replaced
SYNC_ROUTES = ("/api/sync/push", "/api/sync/pull")
UNMATCHED = "<unmatched>"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}) or {})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_config(level: str = "info") -> dict:
    """A logging dict config for uvicorn: every logger (ours and uvicorn's) writes JSON lines to stderr;
    uvicorn's own access log is off (ours has the request id, the route template and the user)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"json": handler},
        "root": {"handlers": ["json"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"handlers": ["json"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


class Counters:
    """This process's counters, shared through a folder with the other workers when one is given."""

    def __init__(self, folder: Path | None) -> None:
        self.requests: Counter[tuple[str, str, str]] = Counter()  # (method, route, status)
        self.seconds: Counter[str] = Counter()  # route -> seconds spent answering
        self.refusals: Counter[tuple[str, str]] = Counter()  # (route, code) of refused sync calls
        self.folder = folder
        self._file = folder / f"{os.getpid()}-{secrets.token_hex(4)}.json" if folder else None
        self._written = 0.0
        self._lock = threading.Lock()

    def count(self, method: str, route: str, status: int, seconds: float, code: str | None) -> None:
        self.requests[(method, route, str(status))] += 1
        self.seconds[route] += seconds
        if code and route in SYNC_ROUTES:
            self.refusals[(route, code)] += 1
        if self._file and time.monotonic() - self._written >= 1.0:
            self.flush()

    def _snapshot(self) -> dict:
        return {
            "requests": [[*k, v] for k, v in self.requests.items()],
            "seconds": [[k, v] for k, v in self.seconds.items()],
            "refusals": [[*k, v] for k, v in self.refusals.items()],
        }

    def flush(self) -> None:
        """Write this worker's counters for the others to read (atomically: a reader never sees half)."""
        if not self._file:
            return
        with self._lock:
            self._written = time.monotonic()
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self._file.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._snapshot()))
            tmp.replace(self._file)

    def totals(self) -> dict:
        """Every worker's counters summed (this one's from memory, the others' from their files)."""
        snaps = [self._snapshot()]
        if self.folder and self.folder.is_dir():
            for path in self.folder.glob("*.json"):
                if path == self._file:
                    continue
                try:
                    snaps.append(json.loads(path.read_text()))
                except (OSError, ValueError):
                    continue  # a file being replaced right now: counted at the next scrape
        requests: Counter = Counter()
        seconds: Counter = Counter()
        refusals: Counter = Counter()
        for s in snaps:
            for method, route, status, n in s.get("requests", []):
                requests[(method, route, status)] += n
            for route, n in s.get("seconds", []):
                seconds[route] += n
            for route, code, n in s.get("refusals", []):
                refusals[(route, code)] += n
        return {"requests": requests, "seconds": seconds, "refusals": refusals}


def route_template(scope: Scope) -> str:
    """The route's path template (`/api/checklists/{checklist_id}`), never the raw path: one series per
    route, and no ids in the metrics."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, *, header: str, counters: Counters) -> None:
        self.app = app
        self.header = header.lower().encode()
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(self.header, b"").decode("latin-1")
        request_id = given if _GOOD_ID.match(given) else secrets.token_hex(16)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500  # unless an answer starts: an exception that escapes is a 500 to the client

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            user = state.get("user")
            code = state.get("error_code") if status >= 400 else None
            self.counters.count(scope["method"], route, status, seconds, code)
            fields = {
                "request_id": request_id,
                "method": scope["method"],
                "route": route,
                "status": status,
                "ms": round(seconds * 1000, 1),
                "user_id": getattr(user, "id", None),
            }
            if code:
                fields["error"] = code
            log.info("request", extra={"fields": fields})


# --------------------------------------------------------------------------------- Prometheus text


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def exposition(totals: dict, db: dict) -> str:
    """The Prometheus text format (version 0.0.4) of the request counters and the database's figures."""
    out: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[dict, float]]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            out.append(f"{name}{_labels(**labels) if labels else ''} {value:g}")

    family(
        "eiso_http_requests_total",
        "counter",
        "HTTP requests answered, by method, route template and status.",
        [({"method": m, "route": r, "status": s}, n) for (m, r, s), n in sorted(totals["requests"].items())],
    )
    family(
        "eiso_http_request_seconds_total",
        "counter",
        "Seconds spent answering requests, by route template.",
        [({"route": r}, n) for r, n in sorted(totals["seconds"].items())],
    )
    family(
        "eiso_sync_refusals_total",
        "counter",
        "Sync calls refused as a whole, by route and problem code.",
        [({"route": r, "code": c}, n) for (r, c), n in sorted(totals["refusals"].items())],
    )
    family(
        "eiso_push_edits_total",
        "counter",
        "Pushed edits recorded, by outcome (applied, merged, conflict, rejected) and rejection reason.",
        [({"outcome": o, "reason": r}, n) for (o, r), n in sorted(db["edits"].items())],
    )
    family(
        "eiso_sync_quarantined_total",
        "counter",
        "Pushes kept aside unapplied, by reason (a revoked device, a re-sent seq with other content...).",
        [({"reason": r}, n) for r, n in sorted(db["quarantine"].items())],
    )
    family(
        "eiso_reminders_unsent",
        "gauge",
        "Reminders not yet delivered, by status (sending: claimed by a run; failed: waiting for a retry).",
        [({"status": s}, n) for s, n in sorted(db["reminders"].items())],
    )
    return "\n".join(out) + "\n"
