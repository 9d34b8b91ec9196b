"""Renames, moves and merges: the tree is data, and every change keeps its history."""

from __future__ import annotations

import pytest

from seed.load import load_seed
from server.models import Unit, UnitHistory

from .conftest import ALL_TABLES, DEMO_PASSWORD, unit_id, wipe


@pytest.fixture
async def restore_tree(seeded):
    """These tests change seeded units: put the seed back afterwards."""
    yield
    await wipe(ALL_TABLES)
    await load_seed(demo=True, demo_password=DEMO_PASSWORD)


async def test_rename_keeps_the_source_name_and_history(login, restore_tree):
    admin = await login("admin")
    uid = await unit_id("KT-147")
    r = await admin.patch(f"/api/units/{uid}", json={"name": "Xã Ia Tơi (mới)"})
    assert r.status_code == 200 and r.json()["name"] == "Xã Ia Tơi (mới)"
    assert r.json()["source_name"] == "Xã Ia Tơi"
    detail = (await admin.get(f"/api/units/{uid}")).json()
    assert detail["history"][-1]["change"] == "rename"
    assert detail["history"][-1]["old"] == {"name": "Xã Ia Tơi"}
    assert (await admin.get("/api/units", params={"q": "ia toi moi"})).json()["count"] == 1


async def test_merge_moves_children_and_keeps_the_merged_unit_in_scope(login, restore_tree):
    admin = await login("admin")
    iahdrai, sathay = await unit_id("KT-045"), await unit_id("KT-044")
    r = await admin.post(f"/api/units/{iahdrai}/merge", json={"into_id": sathay})
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["parent_id"] == sathay
    ia_toi = await Unit.get(code="KT-147")
    assert ia_toi.parent_id == sathay and ia_toi.level == 2
    assert await UnitHistory.filter(unit_id=iahdrai, change="merge").count() == 1
    # The reviewer of the old district still sees their (now inactive) unit, nothing is deleted.
    reviewer = await login("huyen.iahdrai")
    assert (await reviewer.get(f"/api/units/{iahdrai}")).status_code == 200
    again = await admin.post(f"/api/units/{iahdrai}/merge", json={"into_id": sathay})
    assert again.status_code == 409


async def test_move_into_own_subtree_is_refused(login, restore_tree):
    admin = await login("admin")
    r = await admin.patch(f"/api/units/{await unit_id('KT-045')}", json={"parent_id": await unit_id("KT-147")})
    assert r.status_code == 422 and r.json()["field"] == "parent_id"
    assert (await Unit.get(code="KT-045")).parent_id == await unit_id("KT")


@pytest.mark.parametrize("user", ["huyen.iahdrai", "xa.iatoi"])
async def test_only_admins_change_the_tree(login, seeded, user):
    c = await login(user)
    r = await c.patch(f"/api/units/{await unit_id('KT-147')}", json={"name": "x"})
    assert r.status_code == 403
    assert (await Unit.get(code="KT-147")).name == "Xã Ia Tơi"


async def test_bad_tree_changes_answer_422(login, seeded):
    admin = await login("admin")
    uid = await unit_id("KT-147")
    assert (await admin.patch(f"/api/units/{uid}", json={"name": "   "})).json()["field"] == "name"
    assert (await admin.patch(f"/api/units/{uid}", json={"parent_id": 999999})).json()["field"] == "parent_id"
    assert (await admin.post(f"/api/units/{uid}/merge", json={})).json()["field"] == "into_id"
    assert (await admin.post(f"/api/units/{uid}/merge", json={"into_id": uid})).status_code == 422
    assert not await UnitHistory.filter(unit_id=uid).exclude(change="create").exists()
