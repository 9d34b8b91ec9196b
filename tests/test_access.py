"""Role × scope over every route: an id outside the caller's scope answers 404 and leaks nothing."""

from __future__ import annotations

import pytest

from server.auth import hash_password
from server.catalogue import PROBLEMS
from server.models import Unit, User
from sync.models import Checklist

from .conftest import DEMO_PASSWORD, template_id, unit_id

USERS = ["admin", "huyen.iahdrai", "huyen.tumorong", "xa.iatoi", "xa.tumorong", "viewer"]


@pytest.fixture
async def clients(login, seeded):
    if not await User.exists(username="viewer"):
        await User.create(
            username="viewer", role="viewer", unit=await Unit.get(code="KT"), password_hash=hash_password(DEMO_PASSWORD)
        )
    return {u: await login(u) for u in USERS}


async def make_checklist(unit_code: str) -> str:
    from server.services.checklists import create_checklist

    c = await create_checklist(await unit_id(unit_code), await template_id("monthly_report"), "2026-11", "admin")
    return c.id


# Who sees xã Ia Tơi (KT-147) and xã Tu Mơ Rông (KT-097)?
SEES = {
    "admin": {"KT-147", "KT-097", "KT-045", "KT"},
    "viewer": {"KT-147", "KT-097", "KT-045", "KT"},
    "huyen.iahdrai": {"KT-147", "KT-045"},
    "huyen.tumorong": {"KT-097", "KT-040"},
    "xa.iatoi": {"KT-147"},
    "xa.tumorong": {"KT-097"},
}


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("code", ["KT-147", "KT-097", "KT-045", "KT"])
async def test_unit_detail_only_in_scope(clients, user, code):
    r = await clients[user].get(f"/api/units/{await unit_id(code)}")
    expected = 200 if code in SEES[user] else 404
    assert r.status_code == expected, (user, code, r.text)
    if expected == 404:
        assert r.json() == {"error": "not_found", "message": PROBLEMS["unit_not_found"][2]}


@pytest.mark.parametrize(
    "user,count", [("admin", 148), ("huyen.iahdrai", 4), ("huyen.tumorong", 13), ("xa.iatoi", 1), ("viewer", 148)]
)
async def test_unit_list_is_the_callers_subtree(clients, user, count):
    r = await clients[user].get("/api/units")
    assert r.status_code == 200
    assert r.json()["count"] == count


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("code", ["KT-147", "KT-097"])
async def test_checklist_detail_only_in_scope(clients, user, code):
    cid = await make_checklist(code)
    r = await clients[user].get(f"/api/checklists/{cid}")
    assert r.status_code == (200 if code in SEES[user] else 404), (user, code)
    listed = {c["id"] for c in (await clients[user].get("/api/checklists")).json()["checklists"]}
    assert (cid in listed) == (code in SEES[user])


CREATE = {"admin": 201, "huyen.iahdrai": 201, "xa.iatoi": 201, "huyen.tumorong": 404, "xa.tumorong": 404, "viewer": 403}


@pytest.mark.parametrize("user", USERS)
async def test_creating_a_checklist_needs_role_and_scope(clients, user):
    body = {"unit_id": await unit_id("KT-147"), "template_id": await template_id("monthly_report"), "period": "2026-11"}
    r = await clients[user].post("/api/checklists", json=body)
    assert r.status_code == CREATE[user], r.text
    assert await Checklist.all().count() == (1 if CREATE[user] == 201 else 0)


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/api/units"),
        ("GET", "/api/units/1"),
        ("GET", "/api/templates"),
        ("GET", "/api/templates/1"),
        ("GET", "/api/checklists"),
        ("POST", "/api/checklists"),
        ("GET", "/api/checklists/x"),
        ("GET", "/api/session"),
    ],
)
async def test_every_api_route_needs_a_session(anon, seeded, method, path):
    r = await anon.request(method, path, json={} if method == "POST" else None)
    assert r.status_code == 401
    assert r.json()["error"] == "not_authenticated"


@pytest.mark.parametrize("path", ["/units", "/units/1", "/checklists/x"])
async def test_pages_send_anonymous_visitors_to_login(anon, seeded, path):
    r = await anon.get(path)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_pages_hide_units_outside_scope(clients):
    r = await clients["xa.iatoi"].get(f"/units/{await unit_id('KT-097')}")
    assert r.status_code == 404
    assert "Tu Mơ Rông" not in r.text
    r = await clients["xa.iatoi"].get(f"/units/{await unit_id('KT-147')}")
    assert r.status_code == 200 and "Ia Tơi" in r.text
