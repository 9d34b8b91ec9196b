"""A (device, seq) the server already recorded means one edit: re-sent identically it is a silent
duplicate; re-sent with a different payload it is rejected `duplicate_mismatch`, the recorded edit stands
and the different payload is kept in quarantine. Two different edits under one seq in one request refuse
the request."""

from __future__ import annotations

import json

from sync.models import Answer, Edit, Quarantine
from sync.vocabulary import REJECTION_REASONS
from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)
from tests.test_sync_engine import ans, raw_push


async def test_identical_resend_stays_a_silent_duplicate(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    edit = ans(1, cid, "c4_1_context", "yes")
    assert (await raw_push(a, a.device_id, [edit])).status_code == 200
    r = await raw_push(a, a.device_id, [edit])
    assert r.status_code == 200
    [res] = r.json()["results"]
    assert res["outcome"] == "applied" and res["duplicate"] is True and res["reason"] == ""
    assert await Quarantine.all().count() == 0


async def test_known_seq_resent_with_another_value_is_rejected_and_kept(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    first = ans(1, cid, "c4_1_context", "yes")
    assert (await raw_push(a, a.device_id, [first])).status_code == 200
    other = {**first, "value": "no"}
    r = await raw_push(a, a.device_id, [other, ans(2, cid, "c4_2_interested_parties", "partial")])
    assert r.status_code == 200
    res1, res2 = r.json()["results"]
    assert res1 == {
        "seq": 1,
        "outcome": "rejected",
        "reason": "duplicate_mismatch",
        "message": REJECTION_REASONS["duplicate_mismatch"],
        "duplicate": True,
    }
    assert res2["outcome"] == "applied"  # the queue goes on
    # the recorded edit stands: value and Edit row unchanged
    answer = await Answer.get(checklist_id=cid, item_key="c4_1_context")
    assert json.loads(answer.value) == "yes"
    [row] = await Edit.filter(device_id=a.device_id, seq=1)
    assert row.outcome == "applied" and json.loads(row.payload)["value"] == "yes"
    # the different payload is kept for review
    [q] = await Quarantine.all()
    assert q.reason == "duplicate_mismatch" and q.device_id == a.device_id and q.username == "xa.iatoi"
    assert json.loads(q.payload)["value"] == "no" and json.loads(q.payload)["seq"] == 1


async def test_a_rejected_edit_resent_changed_is_still_a_mismatch(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    bad = ans(1, cid, "c4_1_context", "maybe")
    assert (await raw_push(a, a.device_id, [bad])).json()["results"][0]["reason"] == "invalid_value"
    r = await raw_push(a, a.device_id, [{**bad, "value": "yes"}])
    assert r.json()["results"][0]["reason"] == "duplicate_mismatch"
    assert not await Answer.filter(checklist_id=cid, item_key="c4_1_context").exists()


async def test_two_different_edits_under_one_seq_in_one_request_are_refused(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    e = ans(1, cid, "c4_1_context", "yes")
    r = await raw_push(a, a.device_id, [e, {**e, "value": "no"}])
    assert r.status_code == 422
    assert r.json()["error"] == "seq_repeated" and r.json()["seq"] == 1 and r.json()["message"]
    assert await Edit.all().count() == 0
    # identical copies in one request count once
    r = await raw_push(a, a.device_id, [e, dict(e)])
    assert r.status_code == 200 and [x["outcome"] for x in r.json()["results"]] == ["applied"]
