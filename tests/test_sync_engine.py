"""The sync guarantees through the HTTP API and the reference client, on a real database."""

from __future__ import annotations

import gzip
import json

import pytest

from sync.models import Conflict, Device, Edit, Quarantine
from sync.state import server_replica
from tests.conftest import unit_id
from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)

YEAR = 365 * 86_400_000


async def raw_push(client, device_id, edits, client_ms=None, protocol=1, gz=False):
    import time

    body = json.dumps(
        {
            "protocol": protocol,
            "device_id": device_id,
            "client_ms": client_ms or int(time.time() * 1000),
            "edits": edits,
        }
    ).encode()
    headers = {"Content-Type": "application/json"}
    if gz:
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
    return await client.http.post("/api/sync/push", content=body, headers=headers)


def ans(seq, cid, key, value, base=0, ms=None):
    import time

    return {
        "seq": seq,
        "kind": "answer",
        "checklist_id": cid,
        "item_key": key,
        "value": value,
        "base_version": base,
        "device_ms": ms or int(time.time() * 1000),
    }


async def test_duplicates_and_retries_apply_once(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    edits = [ans(1, cid, "c4_1_context", "yes"), ans(2, cid, "c4_2_interested_parties", "no")]
    r1 = await raw_push(a, a.device_id, edits, gz=True)
    r2 = await raw_push(a, a.device_id, edits)  # the same request again (answer lost, retried)
    assert r1.status_code == r2.status_code == 200
    assert [x["outcome"] for x in r2.json()["results"]] == ["applied", "applied"]
    assert all(x["duplicate"] for x in r2.json()["results"])
    assert await Edit.filter(device_id=a.device_id).count() == 2
    # a duplicate plus a new edit in one batch
    r3 = await raw_push(a, a.device_id, [edits[1], ans(3, cid, "c4_1_context", "no", base=1)])
    assert [x["outcome"] for x in r3.json()["results"]] == ["applied", "applied"]
    assert (await Device.get(id=a.device_id)).last_seq == 3
    await a.pull()
    assert a.answer(cid, "c4_1_context")["version"] == 2


async def test_sequence_gap_is_refused_with_expected_seq(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    r = await raw_push(a, a.device_id, [ans(1, cid, "c4_1_context", "yes"), ans(3, cid, "c4_3_scope", "yes")])
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "sequence_gap" and body["expected_seq"] == 2
    assert [x["seq"] for x in body["results"]] == [1]
    assert await Edit.filter(device_id=a.device_id).count() == 1
    r = await raw_push(
        a, a.device_id, [ans(2, cid, "c4_2_interested_parties", "yes"), ans(3, cid, "c4_3_scope", "yes")]
    )
    assert r.status_code == 200 and r.json()["last_seq"] == 3


async def test_rejected_edit_is_kept_and_does_not_block(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    a.edit_answer(cid, "no_such_item", "yes")
    a.edit_answer(cid, "c4_1_context", "maybe")  # not a choice
    a.edit_answer(cid, "c4_1_context", "yes")
    res = await a.push()
    assert [(x["outcome"], x["reason"]) for x in res] == [
        ("rejected", "not_found"),
        ("rejected", "invalid_value"),
        ("applied", ""),
    ]
    assert a.pending() == 0
    kept = await Edit.filter(device_id=a.device_id, outcome="rejected").order_by("seq")
    assert [json.loads(e.payload)["value"] for e in kept] == ["yes", "maybe"]


async def test_two_officials_different_items_both_kept(device):
    cid = await make_checklist("KT-147")
    a, b = await device("xa.iatoi"), await device("xa.iatoi")
    for c in (a, b):
        await c.pull()
    a.edit_answer(cid, "c4_1_context", "yes")
    b.edit_answer(cid, "c4_2_interested_parties", "partial")
    b.edit_answer(cid, "c4_1_context", note="ghi chú của B")  # same item, other field
    await a.push()
    res = await b.push()
    assert [x["outcome"] for x in res] == ["applied", "merged"]
    for c in (a, b):
        await c.pull()
        assert c.answer(cid, "c4_1_context")["value"] == "yes"
        assert c.answer(cid, "c4_1_context")["note"] == "ghi chú của B"
        assert c.answer(cid, "c4_2_interested_parties")["value"] == "partial"
    assert not await Conflict.all().count()


async def _same_item(device, skew_a=0, skew_b=0, order="ab"):
    import time

    cid = await make_checklist("KT-147")
    now = int(time.time() * 1000)
    # A edited 10 minutes ago, B 5 minutes ago, by the real clock; their phones' clocks are skewed.
    a = await device("xa.iatoi", skew_ms=skew_a)
    b = await device("xa.iatoi", skew_ms=skew_b)
    for c in (a, b):
        await c.pull()
    a.clock, b.clock = (lambda: now - 600_000 + skew_a), (lambda: now - 300_000 + skew_b)
    a.edit_answer(cid, "c4_1_context", "no")
    b.edit_answer(cid, "c4_1_context", "yes")
    a.clock, b.clock = (lambda: int(time.time() * 1000) + skew_a), (lambda: int(time.time() * 1000) + skew_b)
    first, second = (a, b) if order == "ab" else (b, a)
    await first.push()
    res = await second.push()
    assert res[0]["outcome"] == "conflict"
    for c in (a, b):
        await c.pull()
    return cid, a, b


@pytest.mark.parametrize(
    "skews", [(0, 0), (3 * YEAR, 0), (0, 3 * YEAR), (-5 * YEAR, 0), (0, -5 * YEAR), (7 * 3_600_000, -7 * 3_600_000)]
)
@pytest.mark.parametrize("order", ["ab", "ba"])
async def test_same_item_different_values_one_winner_and_visible_conflict(device, skews, order):
    cid, a, b = await _same_item(device, *skews, order=order)
    # B's edit was made later in real time: it wins whatever the phones' clocks say and whoever came first.
    for c in (a, b):
        assert c.answer(cid, "c4_1_context")["value"] == "yes"
        [conflict] = c.conflicts(open_only=True).values()
        assert conflict["winner_value"] == "yes" and conflict["loser_value"] == "no"
        assert conflict["winner_by"] == conflict["loser_by"] == "xa.iatoi"


async def test_resolve_syncs_and_approval_refused_while_open(device):
    cid, a, b = await _same_item(device)
    [conflict] = a.conflicts(open_only=True).values()
    r = await device("huyen.iahdrai")
    a.set_status(cid, "submit")
    await a.push()
    await r.pull()
    res_seq = r.set_status(cid, "approve", seen_version=r.checklist(cid)["version"])
    assert (await r.push())[0]["reason"] == "open_conflicts"
    r.set_status(cid, "return", comment="Giải quyết xung đột")
    await r.push()
    await b.pull()
    assert b.checklist(cid)["status"] == "returned"
    b.resolve(conflict["id"], "partial")
    assert (await b.push())[0]["outcome"] == "applied"
    b.set_status(cid, "submit")
    await b.push()
    for c in (a, b, r):
        await c.pull()
        assert c.answer(cid, "c4_1_context")["value"] == "partial"
        assert not c.conflicts(open_only=True)
    r.set_status(cid, "approve", seen_version=r.checklist(cid)["version"])
    assert (await r.push())[0]["outcome"] == "applied"
    await a.pull()
    assert a.checklist(cid)["status"] == "approved"
    assert res_seq == 1


async def test_workflow_locks_and_versions(device):
    cid = await make_checklist("KT-147")
    a, r = await device("xa.iatoi"), await device("huyen.iahdrai")
    a.edit_answer(cid, "c4_1_context", "yes")
    a.set_status(cid, "submit")
    a.edit_answer(cid, "c4_1_context", "no")  # reaches a submitted checklist
    res = await a.push()
    assert [(x["outcome"], x["reason"]) for x in res] == [
        ("applied", ""),
        ("applied", ""),
        ("rejected", "checklist_locked"),
    ]
    await r.pull()
    seen = r.checklist(cid)["version"]
    # official cannot approve; reviewer cannot edit answers
    a.set_status(cid, "approve", seen_version=seen)
    assert (await a.push())[0]["reason"] == "forbidden"
    r.edit_answer(cid, "c4_1_context", "na")
    assert (await r.push())[0]["reason"] in ("forbidden", "checklist_locked")
    r.set_status(cid, "approve", seen_version=seen - 1)
    assert (await r.push())[0]["reason"] == "version_changed"
    r.set_status(cid, "approve", seen_version=seen)
    assert (await r.push())[0]["outcome"] == "applied"
    await a.pull()
    assert a.checklist(cid)["status"] == "approved" and a.answer(cid, "c4_1_context")["value"] == "yes"
    a.edit_answer(cid, "c4_2_interested_parties", "yes")
    assert (await a.push())[0]["reason"] == "checklist_locked"
    r.set_status(cid, "reopen", comment="Sửa lại")
    assert (await r.push())[0]["reason"] == "reopen_above_only"  # not the approver: a unit above
    adm = await device("admin")
    adm.set_status(cid, "reopen", comment="Sửa lại")
    assert (await adm.push())[0]["outcome"] == "applied"
    a.edit_answer(cid, "c4_2_interested_parties", "yes")
    assert (await a.push())[0]["outcome"] == "applied"


async def test_scope_on_push_and_pull(device):
    iatoi = await make_checklist("KT-147")
    tumorong = await make_checklist("KT-097")
    r = await device("huyen.tumorong")
    o = await device("xa.iatoi")
    await r.pull()
    await o.pull()
    assert set(r.checklists()) == {tumorong} and set(o.checklists()) == {iatoi}
    r.set_status(iatoi, "return")
    o.edit_answer(tumorong, "c4_1_context", "yes")
    o.edit_answer("no-such-checklist", "c4_1_context", "yes")
    assert (await r.push())[0]["reason"] == "out_of_scope"
    assert [x["reason"] for x in await o.push()] == ["out_of_scope", "out_of_scope"]
    # changes in another unit never reach a device outside it
    o.edit_answer(iatoi, "c4_1_context", "yes")
    await o.push()
    await r.pull()
    assert set(r.checklists()) == {tumorong} and not r.answers()


async def test_scope_change_resets_and_purges(device):
    from server.models import User

    iatoi = await make_checklist("KT-147")
    tumorong = await make_checklist("KT-097")
    o = await device("xa.iatoi")
    await o.pull()
    assert set(o.checklists()) == {iatoi}
    user = await User.get(username="xa.iatoi")
    old_unit = user.unit_id
    await User.filter(id=user.id).update(unit_id=await unit_id("KT-097"))
    try:
        await o.pull()
        assert set(o.checklists()) == {tumorong}
    finally:
        await User.filter(id=user.id).update(unit_id=old_unit)


async def test_revoked_device_refused_and_payload_kept(device, login):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    admin = await login("admin")
    assert (await admin.delete(f"/api/devices/{a.device_id}")).status_code == 200
    a.edit_answer(cid, "c4_1_context", "yes")
    from client.sync_client import SyncFailed

    # Revoking ended the phone's session: its push is refused as unauthenticated, its payload kept.
    with pytest.raises(SyncFailed) as err:
        await a.push()
    assert err.value.status == 401 and err.value.code == "not_authenticated"
    q = await Quarantine.get(device_id=a.device_id)
    assert q.reason == "device_revoked" and json.loads(q.payload)["edits"][0]["value"] == "yes"
    with pytest.raises(SyncFailed):
        await a.pull()
    # another official cannot revoke someone else's device
    b = await device("xa.tumorong")
    other = await login("xa.tumorong")
    assert (await other.delete(f"/api/devices/{a.device_id}")).status_code == 404
    assert b.device_id


async def test_client_too_old_unknown_device_and_invalid(device):
    a = await device("xa.iatoi")
    r = await raw_push(a, a.device_id, [], protocol=0)
    assert r.status_code == 426 and r.json()["min_protocol"] == 1
    r = await raw_push(a, "00000000-0000-0000-0000-000000000000", [ans(1, "x", "y", "yes")])
    assert r.status_code == 404 and r.json()["error"] == "unknown_device"
    r = await a.http.post("/api/sync/push", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    r = await raw_push(a, a.device_id, [{"seq": 0, "kind": "answer"}])
    assert r.status_code == 422


async def test_evidence_reference_values(device):
    cid = await make_checklist("KT-147", "monthly_report")
    a = await device("xa.iatoi")
    ref = {"sha256": "a" * 64, "name": "quyet-dinh.jpg", "size": 12345, "mime": "image/jpeg"}
    a.edit_answer(cid, "reannounce_photo", [ref])
    a.edit_answer(cid, "reannounce_photo", [{"sha256": "xyz", "name": "a", "size": 1, "mime": "image/jpeg"}])
    assert [x["outcome"] for x in await a.push()] == ["applied", "rejected"]
    await a.pull()
    assert a.answer(cid, "reannounce_photo")["value"] == [ref]


async def test_convergence_many_devices(device):
    cids = [await make_checklist("KT-147"), await make_checklist("KT-147", "monthly_report")]
    devs = [await device("xa.iatoi") for _ in range(3)] + [await device("admin")]
    import random

    rnd = random.Random(7)
    for _round in range(3):
        for d in devs:
            for _ in range(10):
                d.edit_answer(
                    cids[0],
                    rnd.choice(["c4_1_context", "c4_2_interested_parties", "c4_3_scope"]),
                    rnd.choice(["yes", "no", "partial"]),
                    note=rnd.choice([None, "a", "b"]),
                )
            await d.push()
    for d in devs:
        await d.pull()
    server = await server_replica({await unit_id("KT-147")})
    for d in devs[:3]:
        assert d.replica() == server
    assert (await Edit.all().count()) == 120


async def test_same_disagreement_twice_keeps_one_conflict(device):
    cid = await make_checklist("KT-147")
    a, b = await device("xa.iatoi"), await device("xa.iatoi")
    for c in (a, b):
        await c.pull()
    real = b.clock
    b.clock = lambda: real() - 60_000  # B's edits were made a minute before A's
    b.edit_answer(cid, "c4_1_context", "no")
    b.edit_answer(cid, "c4_1_context", "no")  # the app saved the same choice twice
    b.clock = real
    a.edit_answer(cid, "c4_1_context", "yes")
    await a.push()
    assert [x["outcome"] for x in await b.push()] == ["conflict", "conflict"]
    await b.pull()
    assert len(b.conflicts(open_only=True)) == 1
    b.edit_answer(cid, "c4_1_context", "no")  # and once more in a later push
    await b.push()
    await b.pull()
    [conflict] = b.conflicts(open_only=True).values()
    b.resolve(conflict["id"], "no")
    await b.push()
    await a.pull()
    assert not a.conflicts(open_only=True) and a.answer(cid, "c4_1_context")["value"] == "no"
