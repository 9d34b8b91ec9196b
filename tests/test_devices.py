"""Devices and the sync routes under role × scope, and their bad input."""

from __future__ import annotations

import pytest

from sync.models import Device


async def register(client, name="Điện thoại") -> str:
    r = await client.post("/api/devices", json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()["device_id"]


async def test_devices_are_listed_only_to_their_owner(login):
    a, b = await login("xa.iatoi"), await login("xa.tumorong")
    mine = await register(a)
    await register(b)
    assert [d["device_id"] for d in (await a.get("/api/devices")).json()["devices"]] == [mine]


@pytest.mark.parametrize(
    "who,status",
    [("xa.tumorong", 404), ("huyen.tumorong", 404), ("huyen.iahdrai", 404), ("admin", 200), ("xa.iatoi", 200)],
)
async def test_revoking_needs_the_owner_or_an_admin_above(login, who, status):
    owner = await login("xa.iatoi")
    device_id = await register(owner)
    other = owner if who == "xa.iatoi" else await login(who)
    r = await other.delete(f"/api/devices/{device_id}")
    assert r.status_code == status
    assert (await Device.get(id=device_id)).revoked_ms is not None if status == 200 else True
    if status == 404:
        assert (await Device.get(id=device_id)).revoked_ms is None


async def test_pulling_with_someone_elses_device_is_not_found(login):
    owner, other = await login("xa.iatoi"), await login("xa.tumorong")
    device_id = await register(owner)
    r = await other.get("/api/sync/pull", params={"device_id": device_id})
    assert r.status_code == 404, r.text
    r = await other.post("/api/sync/push", json={"protocol": 1, "device_id": device_id, "client_ms": 1, "edits": []})
    assert r.status_code == 404, r.text


@pytest.mark.parametrize("body,field", [({"name": "x" * 500}, "name"), ({"name": 5}, "name")])
async def test_bad_device_registration_answers_422(login, body, field):
    c = await login("xa.iatoi")
    r = await c.post("/api/devices", json=body)
    assert r.status_code == 422 and r.json()["field"] == field
    assert not await Device.exists()


async def test_bad_pull_parameters_answer_422(login):
    c = await login("xa.iatoi")
    assert (await c.get("/api/sync/pull")).json()["field"] == "device_id"
    device_id = await register(c)
    r = await c.get("/api/sync/pull", params={"device_id": device_id, "limit": "nhiều"})
    assert r.status_code == 422 and r.json()["field"] == "limit"


@pytest.mark.parametrize(
    "method,path",
    [
        ("POST", "/api/devices"),
        ("GET", "/api/devices"),
        ("DELETE", "/api/devices/x"),
        ("POST", "/api/sync/push"),
        ("GET", "/api/sync/pull"),
        ("GET", "/api/deadlines"),
    ],
)
async def test_device_and_sync_routes_need_a_session(anon, seeded, method, path):
    r = await anon.request(method, path)
    assert r.status_code == 401 and r.json()["error"] == "not_authenticated"
