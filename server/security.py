"""Headers every answer carries, and the Origin check that refuses cross-site state changes."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body, problem

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'; manifest-src 'self'; worker-src 'self'"
)
SAFE_METHODS = {b"GET", b"HEAD", b"OPTIONS"}


def _same_origin(scope: Scope, origin: str) -> bool:
    headers = dict(scope["headers"])
    host = headers.get(b"host", b"").decode()
    return origin.split("://", 1)[-1] == host


class SecurityMiddleware:
    """Pure ASGI so streaming answers are not buffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        if scope["method"].encode() not in SAFE_METHODS:
            origin = headers.get(b"origin", b"").decode()
            fetch_site = headers.get(b"sec-fetch-site", b"").decode()
            # Browsers send Origin on every cross-site POST/DELETE; a mismatch is refused. Requests
            # with no Origin come from non-browser clients (the reference client, curl), which carry
            # no ambient cookies of a victim.
            if (
                (origin and origin != "null" and not _same_origin(scope, origin))
                or origin == "null"
                or (fetch_site == "cross-site")
            ):
                refusal = problem("cross_site")
                body = json.dumps(error_body(refusal.code, refusal.message), ensure_ascii=False).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": refusal.status,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)
