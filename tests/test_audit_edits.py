"""GET /api/checklists/{id}/edits: an admin reads a checklist's edit log, in the order the server recorded
the edits (who, device, seq, kind, item, outcome, server time), paged; anyone else is refused."""

from __future__ import annotations

import pytest

from server.auth import hash_password
from server.models import Unit, User
from tests.conftest import DEMO_PASSWORD
from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)
from tests.test_sync_engine import ans, raw_push


async def _disputed_checklist(device):
    """Two phones of xã Ia Tơi answer one item differently, one edit is rejected, another checklist is
    edited too (it must not show)."""
    cid = await make_checklist("KT-147")
    other = await make_checklist("KT-147", "monthly_report")
    a, b = await device("xa.iatoi"), await device("xa.iatoi")
    assert (await raw_push(a, a.device_id, [ans(1, cid, "c4_1_context", "yes")])).status_code == 200
    edits_b = [
        ans(1, cid, "c4_1_context", "no"),
        ans(2, cid, "c4_1_context", "maybe"),
        ans(3, other, "plan_issued", "yes"),
        ans(4, cid, "c4_2_interested_parties", "partial"),
    ]
    assert (await raw_push(b, b.device_id, edits_b)).status_code == 200
    return cid, a, b


async def test_admin_reads_every_edit_of_a_checklist_in_recorded_order(device, login):
    cid, a, b = await _disputed_checklist(device)
    r = await (await login("admin")).get(f"/api/checklists/{cid}/edits")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["checklist_id"] == cid and body["next"] is None
    got = [(e["device_id"], e["seq"], e["item_key"], e["outcome"], e["reason"]) for e in body["edits"]]
    assert got == [
        (a.device_id, 1, "c4_1_context", "applied", ""),
        (b.device_id, 1, "c4_1_context", "conflict", ""),
        (b.device_id, 2, "c4_1_context", "rejected", "invalid_value"),
        (b.device_id, 4, "c4_2_interested_parties", "applied", ""),
    ]
    first = body["edits"][0]
    assert first["username"] == "xa.iatoi" and first["kind"] == "answer"
    assert first["payload"]["value"] == "yes" and first["received_ms"] > 0
    assert {"device_ms", "effective_ms", "id"} <= set(first)


async def test_the_edit_log_pages_without_gaps_or_repeats(device, login):
    cid, _a, _b = await _disputed_checklist(device)
    admin = await login("admin")
    seen, after, pages = [], 0, 0
    while True:
        r = await admin.get(f"/api/checklists/{cid}/edits", params={"after": after, "limit": 3})
        assert r.status_code == 200
        page = r.json()
        seen += [e["id"] for e in page["edits"]]
        pages += 1
        if page["next"] is None:
            break
        after = page["next"]
    assert pages == 2 and len(seen) == 4 and seen == sorted(set(seen))


@pytest.mark.parametrize("username", ["xa.iatoi", "huyen.iahdrai"])
async def test_officials_and_reviewers_may_not_read_the_edit_log(device, login, username):
    cid, _a, _b = await _disputed_checklist(device)
    r = await (await login(username)).get(f"/api/checklists/{cid}/edits")
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden" and r.json()["message"]


async def test_an_admin_outside_the_checklists_unit_gets_not_found(device, login):
    cid, _a, _b = await _disputed_checklist(device)
    await User.create(
        username="admin.tumorong",
        role="admin",
        unit=await Unit.get(code="KT-040"),  # huyện Tu Mơ Rông: xã Ia Tơi is not below it
        password_hash=hash_password(DEMO_PASSWORD),
    )
    try:
        r = await (await login("admin.tumorong")).get(f"/api/checklists/{cid}/edits")
        assert r.status_code == 404 and r.json()["error"] == "not_found"
    finally:
        await User.filter(username="admin.tumorong").delete()
    r = await (await login("admin")).get("/api/checklists/no-such-id/edits")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


@pytest.mark.parametrize(
    "params,field",
    [({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"after": -1}, "after"), ({"limit": "x"}, "limit")],
)
async def test_bad_paging_values_are_refused_by_name(login, seeded, params, field):
    cid = await make_checklist("KT-147")
    r = await (await login("admin")).get(f"/api/checklists/{cid}/edits", params=params)
    assert r.status_code == 422
    assert r.json()["error"] == "invalid" and r.json()["field"] == field and r.json()["message"]


async def test_the_edit_log_needs_a_session(anon, seeded):
    r = await anon.get("/api/checklists/x/edits")
    assert r.status_code == 401
