"""A lost phone is locked out: revoking its device ends the session it was bound to, an admin ends a
user's sessions or deactivates the user, and a re-sent registration returns the same device."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from server.models import AuditLog, Session, User
from sync.models import Device, Quarantine

from .conftest import DEMO_PASSWORD


def push_body(device_id: str) -> dict:
    return {"protocol": 1, "device_id": device_id, "client_ms": 1_780_000_000_000, "edits": []}


async def register(client, key: str | None = None) -> str:
    headers = {"Idempotency-Key": key} if key else {}
    r = await client.post("/api/devices", json={"name": "Điện thoại"}, headers=headers)
    assert r.status_code in (200, 201), r.text
    return r.json()["device_id"]


async def locked_out(client, device_id: str) -> list[int]:
    """The statuses the client gets on a read, a registration, a push and a pull."""
    return [
        (await client.get("/api/checklists")).status_code,
        (await client.post("/api/devices", json={"name": "Máy mới"})).status_code,
        (await client.post("/api/sync/push", json=push_body(device_id))).status_code,
        (await client.get("/api/sync/pull", params={"device_id": device_id})).status_code,
    ]


async def user_id(username: str) -> int:
    return (await User.get(username=username)).id


# ---- revoking a device ends its session ------------------------------------------------------------------


@pytest.mark.parametrize("revoker", ["xa.iatoi", "admin"])
async def test_revoking_a_device_ends_the_session_that_registered_it(login, revoker):
    phone, elsewhere = await login("xa.iatoi"), await login(revoker)
    device_id = await register(phone)
    assert (await phone.get("/api/sync/pull", params={"device_id": device_id})).status_code == 200
    assert (await elsewhere.delete(f"/api/devices/{device_id}")).status_code == 200
    # The finder holds the cookie: it reads nothing, registers nothing, pushes nothing.
    assert await locked_out(phone, device_id) == [401, 401, 401, 401]
    assert (await Device.get(id=device_id)).revoked_ms is not None
    # The session that did the revoking (the owner's laptop, or the admin) goes on working.
    assert (await elsewhere.get("/api/checklists")).status_code == 200
    ended = await Session.filter(user__username="xa.iatoi", revoked_at__not_isnull=True).values_list(
        "ended_reason", flat=True
    )
    assert ended == ["device_revoked"]


async def test_revoking_ends_the_newer_session_of_a_phone_that_logged_in_again(login, anon):
    phone = await login("xa.iatoi")
    device_id = await register(phone)
    # The session ends (logout, expiry); the same phone logs in again and keeps its device id.
    await phone.delete("/api/session")
    r = await phone.post("/api/session", json={"username": "xa.iatoi", "password": DEMO_PASSWORD})
    assert r.status_code == 201
    assert (await phone.post("/api/sync/push", json=push_body(device_id))).status_code == 200
    owner = await login("xa.iatoi")
    assert (await owner.delete(f"/api/devices/{device_id}")).status_code == 200
    assert await locked_out(phone, device_id) == [401, 401, 401, 401]
    assert (await owner.get("/api/checklists")).status_code == 200


async def test_revoking_a_device_bound_to_no_session_ends_every_session_of_its_owner(login):
    phone, laptop, admin = await login("xa.iatoi"), await login("xa.iatoi"), await login("admin")
    device_id = await register(phone)
    # A device registered before devices had sessions, not synced since.
    await Device.filter(id=device_id).update(session_id=None)
    assert (await admin.delete(f"/api/devices/{device_id}")).status_code == 200
    assert (await phone.get("/api/checklists")).status_code == 401
    assert (await laptop.get("/api/checklists")).status_code == 401
    assert (await admin.get("/api/checklists")).status_code == 200


async def test_a_revoked_device_pushing_from_a_new_session_is_refused_and_kept(login):
    phone = await login("xa.iatoi")
    device_id = await register(phone)
    await phone.delete(f"/api/devices/{device_id}")
    # The phone comes back to its owner, who logs in again: its push is refused and quarantined.
    r = await phone.post("/api/session", json={"username": "xa.iatoi", "password": DEMO_PASSWORD})
    assert r.status_code == 201
    r = await phone.post("/api/sync/push", json=push_body(device_id))
    assert r.status_code == 403 and r.json()["error"] == "device_revoked"
    assert (await Device.get(id=device_id)).revoked_ms is not None


# ---- an admin ends sessions and deactivates users --------------------------------------------------------


async def test_an_admin_ending_a_users_sessions_logs_out_every_phone_of_theirs(login):
    phone, laptop, other = await login("xa.iatoi"), await login("xa.iatoi"), await login("xa.tumorong")
    admin = await login("admin")
    r = await admin.delete(f"/api/users/{await user_id('xa.iatoi')}/sessions")
    assert r.status_code == 200 and r.json()["sessions_ended"] == 2
    assert (await phone.get("/api/checklists")).status_code == 401
    assert (await laptop.get("/api/checklists")).status_code == 401
    assert (await other.get("/api/checklists")).status_code == 200
    # They may log in again: ending sessions is not locking the account.
    r = await phone.post("/api/session", json={"username": "xa.iatoi", "password": DEMO_PASSWORD})
    assert r.status_code == 201
    assert await AuditLog.exists(action="user.end_sessions", object_id="xa.iatoi", username="admin")


async def test_a_deactivated_user_is_logged_out_and_refused_login_with_a_clear_message(login, anon):
    phone = await login("xa.iatoi")
    device_id = await register(phone)
    admin = await login("admin")
    uid = await user_id("xa.iatoi")
    r = await admin.patch(f"/api/users/{uid}", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["live_sessions"] == 0
    assert r.json()["last_session_end"]["reason"] == "deactivated"
    assert await locked_out(phone, device_id) == [401, 401, 401, 401]
    r = await anon.post("/api/session", json={"username": "xa.iatoi", "password": DEMO_PASSWORD})
    assert r.status_code == 403 and r.json()["error"] == "account_disabled"
    assert "đã bị khoá" in r.json()["message"]
    # A wrong password learns nothing about the account.
    r = await anon.post("/api/session", json={"username": "xa.iatoi", "password": "sai-mat-khau"})
    assert r.status_code == 401 and r.json()["error"] == "bad_credentials"
    # The login page says the same.
    r = await anon.post("/login", data={"username": "xa.iatoi", "password": DEMO_PASSWORD, "next": "/units"})
    assert r.status_code == 403 and "đã bị khoá" in r.text
    r = await admin.patch(f"/api/users/{uid}", json={"active": True})
    assert r.status_code == 200 and r.json()["active"] is True
    r = await anon.post("/api/session", json={"username": "xa.iatoi", "password": DEMO_PASSWORD})
    assert r.status_code == 201
    actions = await AuditLog.filter(object_id="xa.iatoi").values_list("action", flat=True)
    assert "user.deactivate" in actions and "user.reactivate" in actions


async def test_the_user_list_shows_an_admin_their_users_with_sessions_and_devices(login):
    phone = await login("xa.iatoi")
    await register(phone)
    admin = await login("admin")
    r = await admin.get("/api/users")
    assert r.status_code == 200
    rows = {u["username"]: u for u in r.json()["users"]}
    assert {"admin", "xa.iatoi", "huyen.iahdrai"} <= set(rows)
    assert rows["xa.iatoi"]["live_sessions"] == 1 and rows["xa.iatoi"]["live_devices"] == 1
    assert rows["xa.iatoi"]["active"] is True and rows["xa.iatoi"]["unit"]["name"]


@pytest.mark.parametrize("who", ["xa.iatoi", "huyen.iahdrai"])
async def test_only_admins_manage_users(login, who):
    c = await login(who)
    uid = await user_id("xa.iatoi")
    assert (await c.get("/api/users")).status_code == 403
    assert (await c.delete(f"/api/users/{uid}/sessions")).status_code == 403
    assert (await c.patch(f"/api/users/{uid}", json={"active": False})).status_code == 403
    assert (await User.get(id=uid)).active is True


@pytest.mark.parametrize(
    "path,body,status,field",
    [
        ("/api/users/999999", {"active": False}, 404, None),
        ("/api/users/nhiều", {"active": False}, 422, "user_id"),
        ("/api/users/{uid}", {"active": "false"}, 422, "active"),
        ("/api/users/{uid}", {"active": 0}, 422, "active"),
        ("/api/users/{uid}", {}, 422, "active"),
        ("/api/users/{uid}", {"active": False, "role": "admin"}, 422, "role"),
    ],
)
async def test_bad_user_changes_answer_a_clear_error(login, path, body, status, field):
    admin = await login("admin")
    r = await admin.patch(path.format(uid=await user_id("xa.iatoi")), json=body)
    assert r.status_code == status, r.text
    assert r.json()["message"] and (field is None or r.json()["field"] == field)
    assert (await User.get(username="xa.iatoi")).active is True


async def test_an_admin_cannot_lock_themselves_out(login):
    admin = await login("admin")
    r = await admin.patch(f"/api/users/{await user_id('admin')}", json={"active": False})
    assert r.status_code == 422 and "chính mình" in r.json()["message"]
    assert (await admin.get("/api/users")).status_code == 200


# ---- idempotent registration ------------------------------------------------------------------------------


async def test_a_re_sent_registration_returns_the_same_device(login):
    phone = await login("xa.iatoi")
    first = await phone.post("/api/devices", json={"name": "Điện thoại"}, headers={"Idempotency-Key": "k-1"})
    again = await phone.post("/api/devices", json={"name": "Điện thoại"}, headers={"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["device_id"] == again.json()["device_id"]
    assert await Device.filter(user__username="xa.iatoi").count() == 1
    # Another key is another device; the same key of another user is theirs alone.
    assert await register(phone, "k-2") != first.json()["device_id"]
    other = await login("xa.tumorong")
    assert await register(other, "k-1") != first.json()["device_id"]
    assert await Device.all().count() == 3


@pytest.mark.parametrize("key", ["", "x" * 65, "khoá có dấu".encode(), "a b", "a/b"])
async def test_a_malformed_idempotency_key_is_refused(login, key):
    phone = await login("xa.iatoi")
    r = await phone.post("/api/devices", json={"name": "Điện thoại"}, headers={"Idempotency-Key": key})
    assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key", r.text
    assert not await Device.exists()


# ---- the same from a terminal ------------------------------------------------------------------------------


def eiso(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


async def test_the_eiso_commands_revoke_a_device_end_sessions_and_lock_an_account(login, anon, database_url):
    phone = await login("xa.iatoi")
    device_id = await register(phone)
    listed = eiso(database_url, "devices", "xa.iatoi")
    assert listed.returncode == 0 and device_id in listed.stdout and "đang dùng" in listed.stdout
    revoked = eiso(database_url, "revoke-device", device_id)
    assert revoked.returncode == 0, revoked.stderr
    assert await locked_out(phone, device_id) == [401, 401, 401, 401]
    assert "đã thu hồi" in eiso(database_url, "devices", "xa.iatoi").stdout

    laptop = await login("xa.iatoi")
    ended = eiso(database_url, "end-sessions", "xa.iatoi")
    assert ended.returncode == 0 and "1 phiên" in ended.stdout
    assert (await laptop.get("/api/checklists")).status_code == 401

    laptop = await login("xa.iatoi")
    assert eiso(database_url, "deactivate", "xa.iatoi").returncode == 0
    assert (await laptop.get("/api/checklists")).status_code == 401
    r = await anon.post("/api/session", json={"username": "xa.iatoi", "password": DEMO_PASSWORD})
    assert r.status_code == 403 and r.json()["error"] == "account_disabled"
    assert eiso(database_url, "reactivate", "xa.iatoi").returncode == 0
    r = await anon.post("/api/session", json={"username": "xa.iatoi", "password": DEMO_PASSWORD})
    assert r.status_code == 201

    unknown = eiso(database_url, "deactivate", "khong.co")
    assert unknown.returncode != 0 and "Không có tài khoản" in unknown.stderr
    assert await AuditLog.filter(username="cli").count() >= 3


# ---- the admin's /users page ----------------------------------------------------------------------------------

SAME_ORIGIN = {"Origin": "http://testserver"}


async def test_the_users_page_ends_sessions_locks_and_revokes_for_an_admin(login):
    phone = await login("xa.iatoi")
    device_id = await register(phone)
    admin = await login("admin")
    uid = await user_id("xa.iatoi")
    page = await admin.get("/users")
    assert page.status_code == 200 and "xa.iatoi" in page.text and f"/users/devices/{device_id}/revoke" in page.text
    assert (await admin.get("/users", params={"q": "ia toi"})).text.count('class="card account"') >= 1

    r = await admin.post(f"/users/devices/{device_id}/revoke", headers=SAME_ORIGIN)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/users?done=device_revoked&user={uid}")
    assert await locked_out(phone, device_id) == [401, 401, 401, 401]
    shown = await admin.get(r.headers["location"])
    assert "Đã thu hồi thiết bị của tài khoản xa.iatoi" in shown.text
    assert "Phiên kết thúc gần nhất</dt><dd>Thiết bị bị thu hồi" in shown.text

    laptop = await login("xa.iatoi")
    r = await admin.post(f"/users/{uid}/sessions/end", headers=SAME_ORIGIN)
    assert r.status_code == 303 and (await laptop.get("/api/checklists")).status_code == 401

    r = await admin.post(f"/users/{uid}/deactivate", headers=SAME_ORIGIN)
    assert r.status_code == 303 and (await User.get(id=uid)).active is False
    assert "Đã khoá" in (await admin.get("/users")).text
    r = await admin.post(f"/users/{uid}/reactivate", headers=SAME_ORIGIN)
    assert r.status_code == 303 and (await User.get(id=uid)).active is True


async def test_the_users_page_refuses_other_sites_other_roles_and_self_locking(login):
    admin, official = await login("admin"), await login("xa.iatoi")
    uid = await user_id("xa.iatoi")
    r = await admin.post(f"/users/{uid}/deactivate", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and (await User.get(id=uid)).active is True
    r = await official.get("/users")
    assert r.status_code == 403 and "không có quyền" in r.text
    r = await official.post(f"/users/{uid}/deactivate", headers=SAME_ORIGIN)
    assert r.status_code == 403 and (await User.get(id=uid)).active is True
    r = await admin.post(f"/users/{await user_id('admin')}/deactivate", headers=SAME_ORIGIN)
    assert r.status_code == 422 and "chính mình" in r.text
    assert (await admin.post("/users/999999/deactivate", headers=SAME_ORIGIN)).status_code == 404
    assert (await admin.post("/users/x/sessions/end", headers=SAME_ORIGIN)).status_code == 404
    assert (await admin.post("/users/devices/khong-co/revoke", headers=SAME_ORIGIN)).status_code == 404


async def test_what_a_revoked_phone_still_sends_is_refused_and_kept_for_review(login, anon):
    phone = await login("xa.iatoi")
    device_id = await register(phone)
    await phone.delete(f"/api/devices/{device_id}")
    body = push_body(device_id) | {"edits": [{"seq": 1, "kind": "answer", "device_ms": 1, "value": "yes"}]}
    r = await phone.post("/api/sync/push", json=body)
    assert r.status_code == 401 and r.json()["error"] == "not_authenticated"
    kept = await Quarantine.filter(device_id=device_id).values_list("reason", flat=True)
    assert kept == ["device_revoked"]
    # A session ended otherwise, or no session at all, keeps nothing.
    other = await login("xa.tumorong")
    other_device = await register(other)
    await other.delete("/api/session")
    assert (await other.post("/api/sync/push", json=push_body(other_device))).status_code == 401
    assert (await anon.post("/api/sync/push", json=push_body(device_id))).status_code == 401
    assert await Quarantine.all().count() == 1


async def test_registrations_re_sent_at_the_same_moment_make_one_device(login):
    phone = await login("xa.iatoi")
    answers = await asyncio.gather(
        *[
            phone.post("/api/devices", json={"name": "Điện thoại"}, headers={"Idempotency-Key": "cung-luc"})
            for _ in range(5)
        ]
    )
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 200, 201]
    assert len({r.json()["device_id"] for r in answers}) == 1
    assert await Device.all().count() == 1
