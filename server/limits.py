"""Request bodies are bounded before any handler reads them, on every route.

`BodyLimitMiddleware` refuses a body larger than its route's limit with 413 `too_large`: up front when
`Content-Length` says so (nothing is read), and while streaming when it does not (chunked transfer, or a
`Content-Length` that lies): the handler's read fails as soon as the count passes the limit, so at most
one limit's worth (plus one network chunk) is ever held. Unauthenticated routes (the login, the HTML
login form) are bounded like the others: the check runs before any session is looked at.

The limits are the protocol's constants (`sync/protocol.py`); `body_limit(method, path)` says which one
a request gets. `inflate` bounds a gzip-compressed push body twice: its decompressed size and its
expansion ratio (a gzip bomb expands ~1000 times).

The path and query string are checked too: a NUL byte or bytes that are not UTF-8 there are refused with
422 before any handler passes them to a database (PostgreSQL refuses NUL in text with an error).
"""

from __future__ import annotations

import json
import re
import zlib
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.protocol import (
    GZIP_FREE_BYTES,
    MAX_EVIDENCE_BODY,
    MAX_GZIP_RATIO,
    MAX_OTHER_BODY,
    MAX_PUSH_BODY,
)

from .errors import ApiError, PageRenderer, error_body, problem

# A province's list of units (CSV/XLSX) or a template file, sent by the admin (issue 16).
MAX_ADMIN_UPLOAD = 2 * 1024 * 1024
# (method, path pattern, limit): the first match wins; everything else gets MAX_OTHER_BODY.
ROUTE_LIMITS: list[tuple[str, re.Pattern[str], int]] = [
    ("POST", re.compile(r"^/api/sync/push$"), MAX_PUSH_BODY),
    ("PUT", re.compile(r"^/api/evidence/[^/]+$"), MAX_EVIDENCE_BODY),
    ("POST", re.compile(r"^/(api|admin)/units/import(/preview|/apply)?$"), MAX_ADMIN_UPLOAD),
    ("POST", re.compile(r"^/(api|admin)/templates$"), MAX_ADMIN_UPLOAD),
]


def body_limit(method: str, path: str) -> int:
    """The most bytes a request body of this route may have."""
    for m, pattern, limit in ROUTE_LIMITS:
        if method == m and pattern.match(path):
            return limit
    return MAX_OTHER_BODY


class BodyTooLarge(ApiError):
    """Raised from `receive` inside a handler's read; the app's error handlers answer it (413)."""

    def __init__(self, limit: int) -> None:
        err = problem("body_too_large", limit=limit)
        super().__init__(err.status, err.code, err.message, name="body_too_large", **err.extra)


def inflate(raw: bytes, limit: int = MAX_PUSH_BODY) -> bytes:
    """A gzip body decompressed, or `body_too_large` when it would pass `limit` or expand more than
    MAX_GZIP_RATIO times beyond the first GZIP_FREE_BYTES; `body_bad_gzip` when it is not gzip."""
    allowed = min(limit, GZIP_FREE_BYTES + MAX_GZIP_RATIO * len(raw))
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(raw, allowed + 1)
        if len(out) > allowed or d.unconsumed_tail:
            raise problem("body_too_large", limit=allowed)
        if not d.eof:
            raise problem("body_bad_gzip", field="body")
    except zlib.error:
        raise problem("body_bad_gzip", field="body") from None
    return out


def _bad_target(scope: Scope) -> bool:
    """A NUL or bytes that are not UTF-8 in the path or the query string."""
    raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
    for part in (raw_path, scope.get("query_string", b"")):
        data = unquote_to_bytes(part)
        if b"\x00" in data:
            return True
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return True
    return False


class BodyLimitMiddleware:
    """Pure ASGI: the body is counted as it streams, never buffered here. Refusals are JSON under /api/
    and, when `render_page` is given, an error page elsewhere (a person sent the login form)."""

    def __init__(self, app: ASGIApp, render_page: PageRenderer | None = None) -> None:
        self.app = app
        self.render_page = render_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if _bad_target(scope):
            return await self.refuse(scope, receive, send, problem("request_bad_text"))
        limit = body_limit(scope["method"], scope["path"])
        length = _content_length(scope)
        if length is not None and length > limit:
            return await self.refuse(scope, receive, send, BodyTooLarge(limit))
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watch_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, watch_send)
        except BodyTooLarge as exc:  # read outside the app's error handlers (a middleware, a stream)
            if started:
                raise
            await self.refuse(scope, receive, send, exc)

    async def refuse(self, scope: Scope, receive: Receive, send: Send, err: ApiError) -> None:
        if self.render_page is not None and not scope["path"].startswith("/api/"):
            response = self.render_page(Request(scope), err)
            response.headers["connection"] = "close"
            return await response(scope, receive, send)
        await _answer(send, err)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses it; the streaming count bounds it anyway
    return None


async def _answer(send: Send, err: ApiError) -> None:
    body = json.dumps(error_body(err.code, err.message, **err.extra), ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the unread rest of the body is not for this connection
    ]
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
