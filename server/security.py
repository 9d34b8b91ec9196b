"""Headers every answer carries, the checks that refuse cross-site and mistyped requests, and who the
client is behind a proxy.

`SecurityMiddleware` is the outermost of our middleware, so every answer passes through it: routes,
Starlette's own 404/405, the body limit's 413, and a crash (500), which it answers itself so the headers
are there too. It adds:
- the CSP and the other security headers; HSTS when the public origin is https;
- `Cache-Control: no-store` on JSON API and HTML answers that set no caching of their own (the PWA's
  files and the evidence route set theirs: the service worker relies on them).
It refuses, before any route runs:
- a state change whose `Origin` is not one of the configured public origins (`Settings.allowed_origins`:
  EISO_PUBLIC_ORIGINS, or EISO_PUBLIC_URL's and the listening address's), never compared with the Host
  header, which the client writes;
- a body sent to a JSON route with another content type than JSON (415); the evidence upload takes raw
  bytes and is the one exception.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import origin_of
from .errors import ApiError, PageRenderer, error_body, problem

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'; manifest-src 'self'; worker-src 'self'"
)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
HSTS = b"max-age=31536000"
# JSON routes that take another body: (method, path pattern).
RAW_BODY_ROUTES = [
    ("PUT", re.compile(r"^/api/evidence/[^/]+$")),  # a chunk of a file
    ("POST", re.compile(r"^/api/units/import(/preview)?$")),  # a province's list of units, CSV or XLSX
    ("POST", re.compile(r"^/api/templates$")),  # a template file, checked by its own parser
]
JSON_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
log = logging.getLogger("eiso.security")


def security_headers(https: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
    ]
    if https:
        headers.append((b"strict-transport-security", HSTS))
    return headers


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as a proxy writes it ("203.0.113.9", "[2001:db8::1]:4711", "1.2.3.4:80"), or None."""
    text = text.strip().strip('"').strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def _hops(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """The forwarded-for chain, oldest first: from `Forwarded` (RFC 7239) if present, else
    `X-Forwarded-For`."""
    forwarded, xff = [], []
    for name, value in headers:
        if name == b"forwarded":
            for element in value.decode("latin-1").split(","):
                for pair in element.split(";"):
                    key, _, val = pair.partition("=")
                    if key.strip().lower() == "for":
                        forwarded.append(val)
        elif name == b"x-forwarded-for":
            xff.extend(value.decode("latin-1").split(","))
    return forwarded or xff


def forwarded_client(peer: str, headers: Iterable[tuple[bytes, bytes]], trusted: tuple) -> str:
    """The client's address: the socket peer, unless the peer is a trusted proxy; then, walking the
    forwarded chain from the newest hop, the first address that is not itself a trusted proxy. What
    the client wrote at the far end of the chain is never reached while an untrusted hop comes first."""
    current = _ip(peer)
    if current is None or not trusted:
        return peer
    for hop in reversed(_hops(headers)):
        if not any(current in net for net in trusted):
            break
        ip = _ip(hop)
        if ip is None:  # "unknown", "_hidden", garbage: the last proxy is all we know
            break
        current = ip
    return str(current)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


def _cross_site(scope: Scope, allowed: set[str]) -> bool:
    origin = _header(scope, b"origin")
    if _header(scope, b"sec-fetch-site") == "cross-site":
        return True
    # Browsers send Origin on every cross-site POST/PUT/DELETE; requests with none come from
    # non-browser clients (the reference client, curl), which carry no ambient cookies of a victim.
    if not origin:
        return False
    try:
        return origin_of(origin) not in allowed
    except ValueError:  # "null" (a sandboxed frame, a file:// page) or garbage
        return True


def _not_json(scope: Scope) -> bool:
    """A body sent to a JSON route under another content type."""
    path, method = scope["path"], scope["method"]
    if not path.startswith("/api/") or any(m == method and p.match(path) for m, p in RAW_BODY_ROUTES):
        return False
    length = _header(scope, b"content-length")
    has_body = bool(_header(scope, b"transfer-encoding")) or (length.strip() not in ("", "0"))
    if not has_body:
        return False
    media = _header(scope, b"content-type").split(";", 1)[0].strip().lower()
    return not JSON_TYPE.match(media)


def _wants_no_store(scope: Scope, headers: list[tuple[bytes, bytes]]) -> bool:
    if any(k.lower() == b"cache-control" for k, _ in headers):
        return False
    if scope["path"].startswith("/api/"):
        return True
    kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    return kind.startswith(b"text/html")


class SecurityMiddleware:
    """Pure ASGI so streaming answers are not buffered. `render_page` answers a crash outside /api/
    with the error page."""

    def __init__(self, app: ASGIApp, render_page: PageRenderer | None = None) -> None:
        self.app = app
        self.render_page = render_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        settings = scope["app"].state.settings
        extra = security_headers(settings.https)
        if scope["method"] not in SAFE_METHODS:
            if _cross_site(scope, settings.allowed_origins()):
                return await _refuse(send, problem("cross_site"), extra)
            if _not_json(scope):
                return await _refuse(send, problem("unsupported_media_type"), extra)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                if _wants_no_store(scope, headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers + extra
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise
            # Answered here, with the headers, then raised on so the server logs it.
            request_id = scope.get("state", {}).get("request_id", "")
            err = problem("server_error", request_id=request_id)
            if self.render_page is not None and not scope["path"].startswith("/api/"):
                try:
                    response = self.render_page(Request(scope), err)
                    await response(scope, receive, send_with_headers)
                except Exception:  # noqa: BLE001 - the page itself failed: the JSON answer still goes out
                    log.exception("error page failed")
                    if not started:
                        await _refuse(send, err, extra + [(b"cache-control", b"no-store")])
            else:
                await _refuse(send, err, extra + [(b"cache-control", b"no-store")])
            raise


async def _refuse(send: Send, err: ApiError, extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps(error_body(err.code, err.message, **err.extra), ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    if not any(k == b"cache-control" for k, _ in extra):
        headers.append((b"cache-control", b"no-store"))
    await send({"type": "http.response.start", "status": err.status, "headers": headers + extra})
    await send({"type": "http.response.body", "body": body})
