"""Login, logout, server-side sessions, throttling and the cross-site refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.auth import hash_password, verify_password
from server.models import AuditLog, LoginFailure, Session

from .conftest import DEMO_PASSWORD


def test_passwords_are_hashed_with_argon2id():
    h = hash_password("mật khẩu dài")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "mật khẩu dài")
    assert not verify_password(h, "mat khau dai")
    assert not verify_password("not-a-hash", "x")


async def test_login_sets_httponly_samesite_cookie_and_returns_user(anon, seeded):
    r = await anon.post("/api/session", json={"username": "xa.iatoi", "password": DEMO_PASSWORD})
    assert r.status_code == 201
    cookie = r.headers["set-cookie"]
    assert "eiso_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    body = r.json()["user"]
    assert body["username"] == "xa.iatoi" and body["role"] == "official"
    assert body["unit"]["name"].endswith("Ia Tơi")
    me = await anon.get("/api/session")
    assert me.status_code == 200 and me.json()["user"]["username"] == "xa.iatoi"


async def test_session_token_is_stored_hashed(anon, seeded):
    r = await anon.post("/api/session", json={"username": "admin", "password": DEMO_PASSWORD})
    token = r.cookies["eiso_session"]
    assert not await Session.exists(token_hash=token)
    assert await Session.all().count() == 1


async def test_logout_revokes_the_session_on_the_server(anon, seeded):
    r = await anon.post("/api/session", json={"username": "admin", "password": DEMO_PASSWORD})
    token = r.cookies["eiso_session"]
    assert (await anon.delete("/api/session")).status_code == 200
    # Even a client that kept the cookie is refused: the session is revoked server-side.
    anon.cookies.set("eiso_session", token)
    r = await anon.get("/api/units")
    assert r.status_code == 401
    assert r.json()["error"] == "not_authenticated"


async def test_a_session_past_its_expiry_is_refused(anon, seeded):
    # (A deactivated account's sessions: tests/test_lockout.py.)
    r = await anon.post("/api/session", json={"username": "xa.iatoi", "password": DEMO_PASSWORD})
    assert r.status_code == 201
    assert (await anon.get("/api/units")).status_code == 200
    session = await Session.get()
    session.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    await session.save(update_fields=["expires_at"])
    r = await anon.get("/api/units")
    assert r.status_code == 401 and r.json()["error"] == "not_authenticated"


async def test_wrong_password_is_refused_with_a_readable_message(anon, seeded):
    r = await anon.post("/api/session", json={"username": "admin", "password": "sai"})
    assert r.status_code == 401
    assert r.json() == {"error": "bad_credentials", "message": "Tên đăng nhập hoặc mật khẩu không đúng."}
    assert not await Session.exists()


async def test_unknown_user_gets_the_same_answer_as_a_wrong_password(anon, seeded):
    r = await anon.post("/api/session", json={"username": "khong.co", "password": "x"})
    assert r.status_code == 401 and r.json()["error"] == "bad_credentials"


async def test_login_is_throttled_per_account(anon, seeded):
    for _ in range(5):
        r = await anon.post("/api/session", json={"username": "xa.tumorong", "password": "sai"})
        assert r.status_code == 401
    # The right password is refused too while the account is throttled.
    r = await anon.post("/api/session", json={"username": "xa.tumorong", "password": DEMO_PASSWORD})
    assert r.status_code == 429
    assert r.json()["error"] == "too_many_attempts"
    # Other accounts from elsewhere are not affected.
    r = await anon.post("/api/session", json={"username": "admin", "password": DEMO_PASSWORD})
    assert r.status_code == 201


async def test_login_is_throttled_per_address_across_accounts(anon, seeded):
    for i in range(20):
        await anon.post("/api/session", json={"username": f"nguoi{i}", "password": "sai"})
    r = await anon.post("/api/session", json={"username": "admin", "password": DEMO_PASSWORD})
    assert r.status_code == 429
    assert await LoginFailure.filter(key="addr:127.0.0.1").count() == 20


async def test_successful_login_clears_the_account_failures(anon, seeded):
    for _ in range(3):
        await anon.post("/api/session", json={"username": "xa.iatoi", "password": "sai"})
    assert (
        await anon.post("/api/session", json={"username": "xa.iatoi", "password": DEMO_PASSWORD})
    ).status_code == 201
    assert not await LoginFailure.exists(key="user:xa.iatoi")
    assert await AuditLog.filter(action="login", username="xa.iatoi").count() == 1


async def test_bad_login_bodies_answer_422_naming_the_field(anon, seeded):
    r = await anon.post("/api/session", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "body"
    r = await anon.post("/api/session", json=["admin"])
    assert r.status_code == 422
    r = await anon.post("/api/session", json={"username": "admin"})
    assert r.status_code == 422 and r.json()["field"] == "password"
    r = await anon.post("/api/session", json={"username": "", "password": "x"})
    assert r.status_code == 422 and r.json()["field"] == "username"
    assert not await LoginFailure.exists()


async def test_cross_site_state_changes_are_refused(anon, seeded):
    r = await anon.post(
        "/api/session",
        json={"username": "admin", "password": DEMO_PASSWORD},
        headers={"origin": "https://evil.example"},
    )
    assert r.status_code == 403 and r.json()["error"] == "cross_site"
    assert not await Session.exists()
    r = await anon.post(
        "/api/session", json={"username": "admin", "password": DEMO_PASSWORD}, headers={"origin": "http://testserver"}
    )
    assert r.status_code == 201


async def test_every_answer_carries_a_strict_csp(anon, seeded):
    r = await anon.get("/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
