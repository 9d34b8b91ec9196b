"""POST /api/sync/push and GET /api/sync/pull: thin HTTP wrappers around sync.engine.

The engine's refusals (SyncError) pass through: `server/errors.py` answers them like any problem.
"""

from __future__ import annotations

import gzip
import json
import zlib

from pydantic import ValidationError
from starlette.requests import Request
from starlette.routing import Route

from sync import engine
from sync.protocol import MIN_PROTOCOL, PushRequest

from .. import auth
from ..errors import problem, validation_error
from ..services import devices
from . import JSON, int_param, parse_json_object

MAX_BODY = 16 * 1024 * 1024  # decompressed


async def _json_body(request: Request) -> dict:
    raw = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            raw = d.decompress(raw, MAX_BODY)
            if d.unconsumed_tail:
                raise problem("body_too_large")
        except (zlib.error, gzip.BadGzipFile):
            raise problem("body_bad_gzip", field="body") from None
    return parse_json_object(raw)


async def push(request: Request) -> JSON:
    user = await auth.session_user(request)
    if user is None:
        # A lost phone whose device was revoked: refused like any ended session, its payload kept.
        lost = await devices.revoked_session_user(request.cookies.get(auth.COOKIE))
        if lost is not None:
            data = await _json_body(request)
            await devices.keep_push_of_revoked(lost, data.get("device_id"), json.dumps(data, ensure_ascii=False))
        raise problem("not_authenticated")
    data = await _json_body(request)
    protocol = data.get("protocol")
    if isinstance(protocol, int) and protocol < MIN_PROTOCOL:
        raise problem("client_too_old", min_protocol=MIN_PROTOCOL)
    try:
        req = PushRequest.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    await devices.bind(user, await auth.current_session(request), req.device_id)
    scope = await auth.scope_unit_ids(user)
    body = await engine.apply_push(user, scope, req, raw=json.dumps(data, ensure_ascii=False))
    return JSON(body, status_code=409 if body.get("error") else 200)


async def pull(request: Request) -> JSON:
    user = await auth.require_user(request)
    q = request.query_params
    device_id = q.get("device_id", "")
    if not device_id:
        raise problem("field_missing", field="device_id")
    limit = int_param(request, "limit", default=500)
    await devices.bind(user, await auth.current_session(request), device_id)
    scope = await auth.scope_unit_ids(user)
    body = await engine.pull_page(user, scope, device_id, q.get("cursor") or None, limit)
    return JSON(body)


routes = [
    Route("/api/sync/push", push, methods=["POST"]),
    Route("/api/sync/pull", pull, methods=["GET"]),
]
