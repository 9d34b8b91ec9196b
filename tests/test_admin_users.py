"""Accounts an admin manages (issue 16): create, role, unit, reset password, devices per account. Each
action is in the audit log without any password in it."""

from __future__ import annotations

import json

import pytest

from seed.load import load_seed
from server.models import AuditLog, Session, User

from .conftest import ALL_TABLES, DEMO_PASSWORD, unit_id, wipe


@pytest.fixture
async def restore_accounts(seeded):
    yield
    await wipe(ALL_TABLES)
    await load_seed(demo=True, demo_password=DEMO_PASSWORD)


async def test_an_admin_creates_an_account_with_a_temporary_password_shown_once(login, sessions, restore_accounts):
    admin = await login("admin")
    r = await admin.post(
        "/api/users",
        json={"username": "xa.iadal", "full_name": "Y Hoa", "role": "official", "unit_id": await unit_id("KT-146")},
    )
    assert r.status_code == 201, r.text
    temporary = r.json()["temporary_password"]
    assert temporary and len(temporary) == 12
    made = await User.get(username="xa.iadal")
    assert made.role == "official" and temporary not in made.password_hash
    new = await sessions("xa.iadal", temporary)
    assert (await new.get("/api/session")).json()["user"]["username"] == "xa.iadal"
    log = await AuditLog.get(action="user.create")
    assert log.object_id == "xa.iadal" and log.username == "admin" and temporary not in json.dumps(log.detail)
    # With a password given, none is made up.
    r = await admin.post(
        "/api/users",
        json={
            "username": "xa.iadom",
            "role": "viewer",
            "unit_id": await unit_id("KT-145"),
            "password": "mot-mat-khau-dai",
        },
    )
    assert r.status_code == 201 and r.json()["temporary_password"] is None
    await sessions("xa.iadom", "mot-mat-khau-dai")


async def test_bad_accounts_are_refused_by_field(login, restore_accounts):
    admin = await login("admin")
    base = {"username": "ok.name", "role": "official", "unit_id": await unit_id("KT-146")}
    for change, status, field in (
        ({"username": "Có Dấu"}, 422, "username"),
        ({"username": "xa.iatoi"}, 409, "username"),
        ({"role": "boss"}, 422, "role"),
        ({"unit_id": 999999}, 422, "unit_id"),
        ({"password": "ngan"}, 422, "password"),
    ):
        r = await admin.post("/api/users", json={**base, **change})
        assert r.status_code == status and r.json()["field"] == field, (change, r.text)
    assert not await User.exists(username="ok.name")


async def test_role_and_unit_change_are_audited_and_not_for_oneself(login, restore_accounts):
    admin = await login("admin")
    user = await User.get(username="xa.iatoi")
    r = await admin.patch(
        f"/api/users/{user.id}/assignment", json={"role": "reviewer", "unit_id": await unit_id("KT-045")}
    )
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "reviewer" and r.json()["unit_id"] == await unit_id("KT-045")
    actions = [a.action for a in await AuditLog.filter(object_id="xa.iatoi").order_by("id")]
    assert actions == ["user.role", "user.unit"]
    me = await User.get(username="admin")
    assert (await admin.patch(f"/api/users/{me.id}/assignment", json={"role": "official"})).status_code == 422
    assert (await admin.patch(f"/api/users/{user.id}/assignment", json={"role": "boss"})).json()["field"] == "role"
    # The old lock switch still works as before.
    assert (await admin.patch(f"/api/users/{user.id}", json={"active": False})).json()["active"] is False


async def test_a_reset_password_ends_every_session_of_the_account(login, sessions, restore_accounts):
    admin = await login("admin")
    official = await login("xa.iatoi")
    user = await User.get(username="xa.iatoi")
    r = await admin.post(f"/api/users/{user.id}/password", json={})
    assert r.status_code == 200
    temporary = r.json()["temporary_password"]
    assert (await official.get("/api/session")).status_code == 401
    assert await Session.filter(user_id=user.id, ended_reason="password_reset").count() == 1
    await sessions("xa.iatoi", temporary)
    r = await admin.post(f"/api/users/{user.id}/password", json={"password": "mat-khau-moi-2026"})
    assert r.json()["temporary_password"] is None
    await sessions("xa.iatoi", "mat-khau-moi-2026")
    logs = await AuditLog.filter(action="user.password_reset")
    assert len(logs) == 2 and all("mat-khau" not in json.dumps(x.detail) for x in logs)
    assert (await admin.post(f"/api/users/{user.id}/password", json={"password": "short"})).status_code == 422


async def test_an_admin_lists_an_accounts_devices_and_revokes_one(login, restore_accounts):
    admin = await login("admin")
    official = await login("xa.iatoi")
    device = (await official.post("/api/devices", json={"name": "Điện thoại xã"})).json()["device_id"]
    user = await User.get(username="xa.iatoi")
    listed = (await admin.get(f"/api/users/{user.id}/devices")).json()["devices"]
    assert [d["device_id"] for d in listed] == [device] and listed[0]["revoked_ms"] is None
    assert (await admin.delete(f"/api/devices/{device}")).status_code == 200
    listed = (await admin.get(f"/api/users/{user.id}/devices")).json()["devices"]
    assert listed[0]["revoked_by"] == "admin"  # still listed, as revoked
    # A reviewer sees no account's devices.
    reviewer = await login("huyen.iahdrai")
    assert (await reviewer.get(f"/api/users/{user.id}/devices")).status_code == 403
