"""The edit log without a second copy of every payload: an applied answer edit keeps only what its row's
columns do not hold, the audit log and duplicate detection put it back together as the phone sent it,
and rows recorded before (whole payloads) read as they are."""

from __future__ import annotations

import json

from sync.models import Edit, Quarantine
from sync.rows import edit_payload
from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)
from tests.test_sync_engine import ans, raw_push


async def test_applied_answer_is_kept_compact_and_read_back_whole(device, login):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    sent = [
        ans(1, cid, "c4_1_context", "yes"),
        {**ans(2, cid, "c4_2_interested_parties", None), "note": "ghi chú «đủ»"},
        {k: v for k, v in ans(3, cid, "c4_1_context", "no").items() if k != "value"} | {"note": "chỉ ghi chú"},
    ]
    assert (await raw_push(a, a.device_id, sent)).status_code == 200
    rows = await Edit.filter(device_id=a.device_id).order_by("seq")
    assert [r.outcome for r in rows] == ["applied", "applied", "applied"]
    for r in rows:  # nothing the columns hold is stored twice
        assert not {"seq", "kind", "checklist_id", "item_key", "device_ms"} & set(json.loads(r.payload))
    assert json.loads(rows[0].payload) == {"value": "yes", "base_version": 0}
    r = await (await login("admin")).get(f"/api/checklists/{cid}/edits")
    assert [e["payload"] for e in r.json()["edits"]] == sent  # what the auditor reads: the edit as sent


async def test_compact_edits_resent_are_duplicates_and_changed_ones_mismatches(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    first = [ans(1, cid, "c4_1_context", "yes"), {**ans(2, cid, "c4_2_interested_parties", "no"), "note": None}]
    assert (await raw_push(a, a.device_id, first)).status_code == 200
    r = await raw_push(a, a.device_id, first)
    assert [(x["outcome"], x.get("duplicate")) for x in r.json()["results"]] == [("applied", True)] * 2
    assert await Quarantine.all().count() == 0
    # The same seqs with a field left out or another value: not the recorded edits.
    changed = [{k: v for k, v in first[0].items() if k != "base_version"} | {"base_version": 1},
               {k: v for k, v in first[1].items() if k != "note"}]  # fmt: skip
    r = await raw_push(a, a.device_id, changed)
    assert [x["reason"] for x in r.json()["results"]] == ["duplicate_mismatch"] * 2
    assert await Quarantine.all().count() == 2


def test_edit_payload_reads_whole_rows_from_before_and_aliases():
    whole = {"seq": 4, "device_ms": 5, "kind": "answer", "checklist_id": "c", "item_key": "k", "value": 1}
    row = {"kind": "answer", "seq": 4, "device_ms": 5, "checklist_id": "c", "item_key": "k", "reason": ""}
    assert edit_payload({**row, "payload": json.dumps(whole)}) == whole
    # sent to a phone's alias of the checklist: the alias is kept, the row names the canonical one
    aliased = edit_payload({**row, "checklist_id": "canonical", "payload": '{"checklist_id":"c","value":1}'})
    assert aliased == whole
    # a rejected edit's payload, cut to a bounded form, is what was kept
    cut = {"truncated": True, "length": 99999, "head": "{"}
    assert edit_payload({**row, "reason": "invalid_value", "payload": json.dumps(cut)}) == cut
    assert edit_payload({**row, "reason": "malformed", "payload": "not json"}) == "not json"
