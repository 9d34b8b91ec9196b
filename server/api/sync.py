"""POST /api/sync/push and GET /api/sync/pull: thin HTTP wrappers around sync.engine.

The engine's refusals (SyncError) pass through: `server/errors.py` answers them like any problem. The
body is bounded before it gets here (`server/limits.py`); a gzip body is bounded again as it inflates.
"""

from __future__ import annotations

import gzip
import re

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import engine
from sync.protocol import MAX_PULL_LIMIT, read_push, safe_dumps
from sync.sql import now_ms

from .. import auth
from ..errors import problem, validation_error
from ..limits import inflate
from ..services import devices, review
from . import JSON, check_json, int_param, parse_json_object

_DEVICE_ID = re.compile(r"^[0-9A-Za-z_-]{1,36}$")
_GZIP_MIN = 500  # bytes: as the GZip middleware (server/app.py), smaller answers go as they are


async def _json_body(request: Request) -> dict:
    raw = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        raw = inflate(raw)
    return parse_json_object(raw)


async def push(request: Request) -> JSON:
    user = await auth.session_user(request)
    if user is None:
        # A lost phone whose device was revoked: refused like any ended session, its payload kept.
        lost = await devices.revoked_session_user(request.cookies.get(auth.COOKIE))
        if lost is not None:
            data = await _json_body(request)
            await devices.keep_push_of_revoked(lost, data.get("device_id"), safe_dumps(data))
        raise problem("not_authenticated")
    data = await _json_body(request)
    # The envelope must be clean; a bad edit is the edit's own problem (rejected `malformed`).
    check_json({k: v for k, v in data.items() if k != "edits"})
    received = now_ms()
    try:
        req = read_push(data, received_ms=received)
    except ValidationError as exc:
        raise validation_error(exc) from None
    await devices.bind(user, await auth.current_session(request), req.device_id)
    scope = await auth.scope_unit_ids(user)
    # The request is serialised again only if it is refused and quarantined (almost never).
    body = await engine.apply_push(user, scope, req, raw=lambda: safe_dumps(data), received_ms=received)
    await review.audit_push(user, req.device_id, req.edits, body)  # comments and decisions, for the record
    if body.get("error"):
        request.state.error_code = body["error"]  # counted as a refusal in /metrics (server/observability.py)
    return _answer(request, body, 409 if body.get("error") else 200)


def _answer(request: Request, body: dict, status: int) -> Response:
    """The push's answer, gzip'd here at a fast level when the client takes gzip: the results of 2,000
    edits are ~160 kB of JSON that level 1 packs to 8% (level 9, the middleware's, takes ~15× as long for
    a 14% smaller answer). The middleware passes an answer that already has its Content-Encoding."""
    response = JSON(body, status_code=status)
    if len(response.body) >= _GZIP_MIN and "gzip" in request.headers.get("accept-encoding", ""):
        response.body = gzip.compress(response.body, compresslevel=1)
        response.headers["content-encoding"] = "gzip"
        response.headers["content-length"] = str(len(response.body))
        response.headers["vary"] = "Accept-Encoding"
    return response


async def pull(request: Request) -> JSON:
    user = await auth.require_user(request)
    q = request.query_params
    device_id = q.get("device_id", "")
    if not device_id:
        raise problem("field_missing", field="device_id")
    if not _DEVICE_ID.match(device_id):
        raise problem("unknown_device", field="device_id")
    limit = int_param(request, "limit", default=500)
    if not 1 <= limit <= MAX_PULL_LIMIT:  # refused, not clamped: the client asked for something else
        raise problem("field_out_of_range", field="limit", minimum=1, maximum=MAX_PULL_LIMIT)
    await devices.bind(user, await auth.current_session(request), device_id)
    scope = await auth.scope_unit_ids(user)
    body = await engine.pull_page(user, scope, device_id, q.get("cursor") or None, limit)
    return JSON(body)


routes = [
    Route("/api/sync/push", push, methods=["POST"]),
    Route("/api/sync/pull", pull, methods=["GET"]),
]
