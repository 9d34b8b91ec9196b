"""POST /api/sync/push and GET /api/sync/pull: thin HTTP wrappers around sync.engine."""
from __future__ import annotations

import gzip
import json
import zlib

from pydantic import ValidationError
from starlette.requests import Request
from starlette.routing import Route

from sync import engine
from sync.protocol import MIN_PROTOCOL, PushRequest, SyncError

from .. import auth
from ..errors import ApiError, validation_error
from . import JSON, parse_json_object

MAX_BODY = 16 * 1024 * 1024  # decompressed


def _raise(exc: SyncError) -> None:
    raise ApiError(exc.status, exc.code, exc.message, **exc.extra) from None


async def _json_body(request: Request) -> dict:
    raw = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            raw = d.decompress(raw, MAX_BODY)
            if d.unconsumed_tail:
                raise ApiError(413, "too_large", "Dữ liệu gửi lên quá lớn.")
        except (zlib.error, gzip.BadGzipFile):
            raise ApiError(422, "invalid", "Dữ liệu nén gzip không hợp lệ.", field="body") from None
    return parse_json_object(raw)


async def push(request: Request) -> JSON:
    user = await auth.require_user(request)
    data = await _json_body(request)
    protocol = data.get("protocol")
    if isinstance(protocol, int) and protocol < MIN_PROTOCOL:
        raise ApiError(426, "client_too_old", "Ứng dụng đã cũ: vui lòng cập nhật.", min_protocol=MIN_PROTOCOL)
    try:
        req = PushRequest.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    scope = await auth.scope_unit_ids(user)
    try:
        body = await engine.apply_push(user, scope, req, raw=json.dumps(data, ensure_ascii=False))
    except SyncError as exc:
        _raise(exc)
    return JSON(body, status_code=409 if body.get("error") else 200)


async def pull(request: Request) -> JSON:
    user = await auth.require_user(request)
    q = request.query_params
    device_id = q.get("device_id", "")
    if not device_id:
        raise ApiError(422, "invalid", "Thiếu 'device_id'.", field="device_id")
    try:
        limit = int(q.get("limit", "500"))
    except ValueError:
        raise ApiError(422, "invalid", "Trường 'limit' phải là số nguyên.", field="limit") from None
    scope = await auth.scope_unit_ids(user)
    try:
        body = await engine.pull_page(user, scope, device_id, q.get("cursor") or None, limit)
    except SyncError as exc:
        _raise(exc)
    return JSON(body)


routes = [
    Route("/api/sync/push", push, methods=["POST"]),
    Route("/api/sync/pull", pull, methods=["GET"]),
]
