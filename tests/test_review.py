"""The reviewer's JSON API (issue 14): the queue, changes since a version, the timeline, the audit log;
every route checked over roles and scopes (a reviewer of one district sees nothing of another's)."""

from __future__ import annotations

import pytest

from server.auth import hash_password
from server.models import AuditLog, Unit, User
from sync.models import Checklist
from tests.conftest import DEMO_PASSWORD, unit_id
from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)
from tests.test_sync_engine import raw_push

ROUTES = ("/api/review/queue", "/api/checklists/{cid}/changes", "/api/checklists/{cid}/timeline")


async def _round_trip(device):
    """A commune submits, the district returns it with a comment, the commune fixes one item and resubmits."""
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    a.edit_answer(cid, "c4_1_context", "yes")
    a.edit_answer(cid, "c4_2_interested_parties", "no", note="chưa có")
    a.set_status(cid, "submit")
    await a.sync()
    r = await device("huyen.iahdrai")
    await r.sync()
    r.comment(cid, "Mục 4.2 cần danh sách các bên liên quan.", "c4_2_interested_parties")
    r.set_status(cid, "return", comment="Bổ sung mục 4.2")
    await r.sync()
    a.edit_answer(cid, "c4_2_interested_parties", "yes", note="đã bổ sung danh sách")
    a.set_status(cid, "submit")
    await a.sync()
    return cid, a, r


async def test_the_queue_holds_what_the_units_below_submitted_oldest_deadline_first(device, login):
    cid, _a, _r = await _round_trip(device)
    draft = await make_checklist("KT-147", "monthly_report")
    other = await make_checklist("KT-097")  # Tu Mơ Rông's commune: not Ia H'Drai's
    rev = await login("huyen.iahdrai")
    body = (await rev.get("/api/review/queue")).json()
    assert [c["id"] for c in body["checklists"]] == [cid]
    assert body["checklists"][0]["unit"]["name"] and body["checklists"][0]["status"] == "submitted"
    assert body["counts"]["by_status"]["submitted"] == 1 and body["counts"]["by_status"]["draft"] == 1
    assert [(u["id"], u["waiting"]) for u in body["counts"]["by_unit"]] == [(await unit_id("KT-147"), 1)]
    every = (await rev.get("/api/review/queue", params={"status": "all"})).json()
    assert {c["id"] for c in every["checklists"]} == {cid, draft} and other not in {
        c["id"] for c in every["checklists"]
    }
    only = await rev.get(
        "/api/review/queue", params={"status": "all", "template_id": every["checklists"][0]["template"]["id"]}
    )
    assert len(only.json()["checklists"]) == 1
    # the province sees both districts' communes
    adm = await login("admin")
    assert {c["id"] for c in (await adm.get("/api/review/queue", params={"status": "all"})).json()["checklists"]} == {
        cid,
        draft,
        other,
    }


async def test_the_queue_orders_by_deadline_then_waiting_time(device, login):
    # two submitted checklists of one commune: the monthly report of an earlier month is due first (under
    # Huế's monthly rule, which the province adopts here: the queue reads only binding rules)
    from server.models import Deadline

    was = (await Deadline.get(code="HUE-MONTHLY-REPORT")).binding  # seeded: put back after, for the tests after
    assert await Deadline.filter(code="HUE-MONTHLY-REPORT").update(binding=True) == 1
    try:
        early = await make_checklist("KT-147", "monthly_report")
        from server.services.checklists import create_checklist
        from tests.conftest import template_id

        late = (
            await create_checklist(await unit_id("KT-147"), await template_id("monthly_report"), "2026-12", "admin")
        ).id
        a = await device("xa.iatoi")
        for cid in (late, early):
            a.edit_answer(cid, "m1_plan_objectives", "yes")
            a.set_status(cid, "submit")
        await a.sync()
        rev = await login("huyen.iahdrai")
        got = (await rev.get("/api/review/queue")).json()["checklists"]
        assert [c["id"] for c in got] == [early, late]
        assert got[0]["due"] and got[1]["due"] and got[0]["due"] < got[1]["due"]
        assert got[1]["due"].endswith("-12-21")  # "trước ngày 22" allows the 21st
    finally:
        await Deadline.filter(code="HUE-MONTHLY-REPORT").update(binding=was)


@pytest.mark.parametrize(
    ("params", "status"),
    [({"status": "bogus"}, 422), ({"unit_id": "abc"}, 422), ({"template_id": "-1"}, 422), ({"period": "x" * 40}, 422)],
)
async def test_bad_queue_filters_get_a_vietnamese_422(login, params, status):
    rev = await login("huyen.iahdrai")
    r = await rev.get("/api/review/queue", params=params)
    assert r.status_code == status and r.json()["message"]


async def test_role_and_scope_matrix_over_every_review_route(device, login, anon):
    cid, _a, _r = await _round_trip(device)
    await User.get_or_create(
        username="viewer",
        defaults={"role": "viewer", "unit": await Unit.get(code="KT"), "password_hash": hash_password(DEMO_PASSWORD)},
    )
    clients = {
        name: await login(name)
        for name in ("huyen.iahdrai", "huyen.tumorong", "xa.iatoi", "xa.tumorong", "admin", "viewer")
    }
    # the queue: deciders only; another district's unit is not found
    assert (await anon.get("/api/review/queue")).status_code == 401
    for name in ("xa.iatoi", "xa.tumorong", "viewer"):
        r = await clients[name].get("/api/review/queue")
        assert r.status_code == 403 and r.json()["error"] == "forbidden", name
    r = await clients["huyen.tumorong"].get("/api/review/queue", params={"unit_id": await unit_id("KT-147")})
    assert r.status_code == 404
    assert cid not in (await clients["huyen.tumorong"].get("/api/review/queue?status=all")).text
    # a checklist's changes and timeline: everyone whose scope holds it; nobody else learns it exists
    for path in ROUTES[1:]:
        url = path.format(cid=cid)
        assert (await anon.get(url)).status_code == 401
        for name in ("huyen.iahdrai", "xa.iatoi", "admin", "viewer"):
            assert (await clients[name].get(url)).status_code == 200, (name, url)
        for name in ("huyen.tumorong", "xa.tumorong"):
            r = await clients[name].get(url)
            assert r.status_code == 404 and r.json()["error"] == "not_found", (name, url)
        assert (await clients["admin"].get(path.format(cid="no-such-checklist"))).status_code == 404


async def test_changes_show_only_what_changed_since_the_reviewer_returned_it(device, login):
    cid, _a, _r = await _round_trip(device)
    rev = await login("huyen.iahdrai")
    body = (await rev.get(f"/api/checklists/{cid}/changes")).json()
    assert [i["item_key"] for i in body["items"]] == ["c4_2_interested_parties"]
    item = body["items"][0]
    assert (item["old_value"], item["new_value"]) == ("no", "yes")
    assert (item["old_note"], item["new_note"]) == ("chưa có", "đã bổ sung danh sách")
    assert item["by"] == "xa.iatoi" and item["by_name"] == "Rơ Châm Hạnh" and item["at_ms"] > 0
    # since the beginning, both items are new
    everything = (await rev.get(f"/api/checklists/{cid}/changes", params={"since": 0})).json()
    assert {i["item_key"] for i in everything["items"]} == {"c4_1_context", "c4_2_interested_parties"}
    assert (await rev.get(f"/api/checklists/{cid}/changes", params={"since": "-1"})).status_code == 422


async def test_the_timeline_lists_decisions_and_comments_in_order(device, login):
    cid, _a, _r = await _round_trip(device)
    rev = await login("huyen.iahdrai")
    events = (await rev.get(f"/api/checklists/{cid}/timeline")).json()["events"]
    assert [e["kind"] for e in events] == ["submit", "comment", "return", "submit"]
    ret = events[2]
    assert ret["by"] == "huyen.iahdrai" and ret["by_name"] == "Lê Thị Thu Hà" and ret["text"] == "Bổ sung mục 4.2"
    assert events[1]["item_key"] == "c4_2_interested_parties" and events[1]["version"] == ret["version"]
    assert events[0]["version"] < events[3]["version"]


async def test_every_comment_and_decision_is_audited_once(device, login):
    cid, _a, r = await _round_trip(device)
    rows = await AuditLog.filter(object_id=cid).order_by("id")
    assert [(x.username, x.action) for x in rows] == [
        ("xa.iatoi", "checklist.submit"),
        ("huyen.iahdrai", "checklist.comment"),
        ("huyen.iahdrai", "checklist.return"),
        ("xa.iatoi", "checklist.submit"),
    ]
    rows = rows[1:3]
    assert rows[0].detail["text"].startswith("Mục 4.2") and rows[0].detail["checklist_version"] >= 1
    assert rows[1].detail["comment"] == "Bổ sung mục 4.2"
    seen = (await Checklist.get(id=cid)).version
    approve = {
        "seq": 3,
        "kind": "status",
        "checklist_id": cid,
        "action": "approve",
        "seen_version": seen,
        "device_ms": 1,
    }
    for _ in range(2):  # the answer lost, sent again: one approval, one audit row
        assert (await raw_push(r, r.device_id, [approve])).status_code == 200
    rows = await AuditLog.filter(object_id=cid, action="checklist.approve")
    assert len(rows) == 1 and rows[0].detail["seen_version"] == seen and rows[0].username == "huyen.iahdrai"
