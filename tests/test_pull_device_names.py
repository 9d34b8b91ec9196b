"""A conflict between two phones of one person can name the phones: the pull's conflicts carry the two
device ids and each page a `devices` map of their names (docs/sync-protocol.md, Pull)."""

from __future__ import annotations

from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)


async def test_a_pull_names_the_devices_of_its_conflicts(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    b = await device("xa.iatoi")
    for c in (a, b):
        await c.pull()
    a.edit_answer(cid, "c4_1_context", "no")
    b.edit_answer(cid, "c4_1_context", "yes")
    await a.push()
    assert (await b.push())[0]["outcome"] == "conflict"

    page = (await a.http.get("/api/sync/pull", params={"device_id": a.device_id})).json()
    [conflict] = [c for c in page["conflicts"] if c["checklist_id"] == cid]
    assert conflict["winner_by"] == conflict["loser_by"] == "xa.iatoi"
    assert {conflict["winner_device"], conflict["loser_device"]} == {a.device_id, b.device_id}
    assert page["devices"] == {
        a.device_id: "xa.iatoi phone",
        b.device_id: "xa.iatoi phone",
    }


async def test_a_pull_without_conflicts_has_an_empty_devices_map(device):
    a = await device("xa.iatoi")
    page = (await a.http.get("/api/sync/pull", params={"device_id": a.device_id})).json()
    assert page["devices"] == {}
