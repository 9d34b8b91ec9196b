"""Headers and edges (issue 17): no-store on API and HTML answers, the security headers on every answer
(errors and crashes included), HSTS and Secure cookies behind https, 415 for bodies that are not JSON,
the Origin compared with the configured public origins (never the Host header), and an out-of-scope
edit that records nothing naming what it aimed at."""

from __future__ import annotations

import dataclasses
import json
import uuid

import httpx
import pytest
from starlette.routing import Route

from server.app import create_app
from server.models import AuditLog, Session
from server.security import RAW_BODY_ROUTES
from sync.models import Conflict, Edit, Quarantine
from sync.sql import now_ms
from tests.conftest import DEMO_PASSWORD
from tests.sync_fixtures import device, make_checklist  # noqa: F401 - `device` is a fixture

LOGIN = {"username": "admin", "password": DEMO_PASSWORD}
SECURITY = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


def assert_security_headers(r: httpx.Response) -> None:
    for name in SECURITY:
        assert name in r.headers, f"{r.request.method} {r.request.url.path} -> {r.status_code} lacks {name}"
    assert r.headers["x-content-type-options"] == "nosniff"


async def boom(request):
    raise RuntimeError("planted fault")


@pytest.fixture
def crashing_app(settings):
    """The real app with one route of each kind that crashes."""
    app = create_app(settings, init_db=False)
    app.router.routes.insert(0, Route("/api/boom", boom))
    app.router.routes.insert(0, Route("/boom", boom))
    return app


async def test_api_and_pages_are_not_stored_but_the_pwa_files_keep_their_caching(login, anon):
    admin = await login("admin")
    for path in ("/api/session", "/api/units", "/units"):
        r = await admin.get(path)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", path
        assert_security_headers(r)
    r = await anon.get("/login")
    assert r.headers["cache-control"] == "no-store"
    # The PWA's own files: what they set themselves (the service worker relies on it), never no-store.
    for path in ("/sw.js", "/app/", "/manifest.webmanifest", "/static/site.css"):
        r = await anon.get(path)
        assert r.status_code == 200, path
        assert "no-store" not in r.headers.get("cache-control", ""), path
        assert_security_headers(r)


async def test_error_answers_carry_the_security_headers(anon, seeded):
    cases = [
        ("GET", "/api/no-such-thing", {}, None, 404),
        ("GET", "/no-such-page", {}, None, 404),
        ("DELETE", "/api/units", {}, None, 405),
        ("POST", "/api/session", {"content-type": "application/json"}, b"x" * (2 << 20), 413),
        ("POST", "/api/session", {"content-type": "text/plain"}, json.dumps(LOGIN).encode(), 415),
        ("POST", "/api/session", {"origin": "https://evil.example"}, json.dumps(LOGIN).encode(), 403),
        ("GET", "/api/units", {}, None, 401),
        ("POST", "/api/session", {"content-type": "application/json"}, b"{bad", 422),
    ]
    for method, path, headers, body, status in cases:
        r = await anon.request(method, path, headers=headers, content=body)
        assert r.status_code == status, (method, path, r.status_code, r.text[:200])
        assert_security_headers(r)
        assert r.headers["cache-control"] == "no-store", (method, path)
        if path.startswith("/api/"):
            assert r.headers["content-type"].startswith("application/json") and r.json()["error"]


async def test_a_crash_answers_500_with_the_headers_json_or_page(crashing_app, seeded):
    transport = httpx.ASGITransport(app=crashing_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.get("/api/boom")
        assert r.status_code == 500 and r.json()["error"] == "server_error"
        assert "planted" not in r.text  # nothing of the fault reaches the client
        assert_security_headers(r)
        r = await c.get("/boom")
        assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
        assert "Máy chủ gặp lỗi" in r.text and "planted" not in r.text
        assert_security_headers(r)
    # The fault is still raised on to the server, which logs it.
    with pytest.raises(RuntimeError, match="planted fault"):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=crashing_app), base_url="http://x") as c:
            await c.get("/api/boom")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", "application/jsonx"],
)
async def test_json_routes_refuse_other_content_types(anon, seeded, content_type):
    headers = {"content-type": content_type} if content_type else {}
    r = await anon.post("/api/session", content=json.dumps(LOGIN).encode(), headers=headers)
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"
    assert "application/json" in r.json()["message"]
    assert not await Session.exists()


async def test_json_with_a_charset_and_bodiless_changes_still_pass(anon, seeded):
    r = await anon.post(
        "/api/session", content=json.dumps(LOGIN).encode(), headers={"content-type": "application/json; charset=utf-8"}
    )
    assert r.status_code == 201
    assert (await anon.delete("/api/session")).status_code == 200  # no body, no content type


async def test_the_origin_is_checked_against_the_public_origins_not_the_host(anon, seeded):
    body = json.dumps(LOGIN).encode()
    json_type = {"content-type": "application/json"}
    # The Host header is the client's to write: matching it proves nothing.
    for origin, host in [("https://evil.example", "evil.example"), ("null", "testserver"), ("garbage", "testserver")]:
        r = await anon.post("/api/session", content=body, headers={**json_type, "origin": origin, "host": host})
        assert r.status_code == 403 and r.json()["error"] == "cross_site", origin
    r = await anon.post("/api/session", content=body, headers={**json_type, "sec-fetch-site": "cross-site"})
    assert r.status_code == 403
    assert not await Session.exists()
    # The configured origin, in any spelling a browser may use.
    for origin in ("http://testserver", "HTTP://TestServer:80"):
        r = await anon.post("/api/session", content=body, headers={**json_type, "origin": origin})
        assert r.status_code == 201, origin


async def test_the_default_public_origins_are_the_public_url_and_the_listening_address(settings):
    s = dataclasses.replace(settings, public_origins=(), public_url="https://iso.kontum.gov.vn/", port=8123)
    assert s.allowed_origins() == {"https://iso.kontum.gov.vn", "http://127.0.0.1:8123"}
    with pytest.raises(ValueError):
        dataclasses.replace(settings, public_origins=()).__class__.from_env({"EISO_PUBLIC_ORIGINS": "not an origin"})


async def test_https_public_origin_brings_hsts_and_secure_cookies(settings, seeded):
    https = dataclasses.replace(settings, public_origins=("https://iso.kontum.gov.vn",), secure_cookies=False)
    plain = settings
    for s, secure in ((https, True), (plain, False)):
        app = create_app(s, init_db=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            origin = next(iter(s.allowed_origins()))
            r = await c.post("/api/session", json=LOGIN, headers={"origin": origin})
            assert r.status_code == 201
            cookie = r.headers["set-cookie"].lower()
            assert ("; secure" in cookie) is secure and "httponly" in cookie
            assert ("strict-transport-security" in r.headers) is secure
            r = await c.get("/api/no-such-thing")
            assert ("strict-transport-security" in r.headers) is secure
            if secure:
                assert r.headers["strict-transport-security"].startswith("max-age=")


async def test_an_out_of_scope_edit_records_nothing_naming_the_foreign_checklist(device):
    foreign = await make_checklist("KT-097")  # another district's commune
    conflict_id = str(uuid.uuid4())
    await Conflict.create(
        id=conflict_id,
        checklist_id=foreign,
        item_key="c4_1_context",
        field="value",
        winner_value='"yes"',
        winner_by="x",
        winner_device="d1",
        winner_ms=now_ms(),
        loser_value='"no"',
        loser_by="y",
        loser_device="d2",
        loser_ms=now_ms(),
        created_ms=now_ms(),
    )
    o = await device("xa.iatoi")
    await o.pull()
    o.resolve(conflict_id, "no")  # names only a conflict: the server knows its checklist and item
    o.edit_answer(foreign, "c4_2_interested_parties", "yes")
    o.set_status(foreign, "submit")
    results = await o.push()
    assert [x["reason"] for x in results] == ["out_of_scope"] * 3
    assert all(set(x) <= {"seq", "outcome", "reason", "message"} for x in results)
    rows = await Edit.filter(username="xa.iatoi").order_by("seq")
    assert len(rows) == 3 and all(e.outcome == "rejected" for e in rows)
    assert all(e.checklist_id == "" and e.item_key == "" for e in rows)
    # The conflict's checklist and item appear nowhere: not in the rows, the payloads, the audit log or
    # the quarantine; the sender's own payloads hold only what it wrote.
    assert "c4_1_context" not in rows[0].payload and foreign not in rows[0].payload
    for table in (Edit, AuditLog, Quarantine):
        for row in await table.all().values():
            text = json.dumps(row, default=str)
            assert "c4_1_context" not in text
    assert not await Edit.filter(checklist_id=foreign).exists()
    # What the pull gives back to the sender names nothing more than its own edits did.
    page = (await o.http.get("/api/sync/pull", params={"device_id": o.device_id})).json()
    mine = page["my_rejected"]
    assert len(mine) == 3 and all(r.get("checklist_id", "") == "" and r.get("item_key", "") == "" for r in mine)


def _concrete(path: str) -> str:
    """A route's path with each parameter filled in ({sha256} a hash, anything else 1)."""
    import re

    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: "a" * 64 if m.group(1) == "sha256" else "1", path)


async def test_every_json_route_refuses_other_bodies_and_carries_the_headers(app, anon, login):
    """The class, not examples: every route under /api/, every method it has."""
    from starlette.routing import Route as StarletteRoute

    admin = await login("admin")
    seen = 0
    for route in app.routes:
        if not isinstance(route, StarletteRoute) or not route.path.startswith("/api/"):
            continue
        path = _concrete(route.path)
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            for client in (anon, admin):
                if method == "GET":
                    r = await client.get(path)
                elif any(m == method and pattern.match(path) for m, pattern in RAW_BODY_ROUTES):
                    continue  # takes raw bytes: evidence chunks, the admin's uploaded files
                else:
                    r = await client.request(
                        method, path, content=b"username=admin", headers={"content-type": "text/plain"}
                    )
                    assert r.status_code == 415, (method, path, r.status_code)
                assert_security_headers(r)
                assert r.headers["cache-control"] == "no-store", (method, path, r.status_code)
                seen += 1
    assert seen > 40


async def test_every_page_route_carries_the_headers_and_html_is_not_stored(app, anon, login):
    from starlette.routing import Route as StarletteRoute

    admin = await login("admin")
    seen = 0
    for route in app.routes:
        if not isinstance(route, StarletteRoute) or route.path.startswith("/api/"):
            continue
        path = _concrete(route.path)
        for client in (anon, admin):
            r = await client.get(path)
            assert_security_headers(r)
            own = r.headers.get("cache-control", "")
            if r.headers.get("content-type", "").startswith("text/html") and path not in ("/app/", "/app/1"):
                assert own == "no-store", (path, r.status_code, own)
            seen += 1
    assert seen > 20


async def test_the_login_page_is_throttled_like_the_api(client_from_page, seeded):
    c = client_from_page("198.51.100.123")
    for _ in range(5):
        r = await c.post("/login", data={"username": "xa.iatoi", "password": "sai"})
        assert r.status_code == 401
    r = await c.post("/login", data={"username": "xa.iatoi", "password": DEMO_PASSWORD})
    assert r.status_code == 429 and "Đăng nhập sai quá nhiều lần" in r.text
    assert r.headers["cache-control"] == "no-store"
    assert_security_headers(r)


@pytest.fixture
async def client_from_page(app):
    made: list[httpx.AsyncClient] = []

    def _client(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        made.append(httpx.AsyncClient(transport=transport, base_url="http://testserver"))
        return made[-1]

    yield _client
    for c in made:
        await c.aclose()
