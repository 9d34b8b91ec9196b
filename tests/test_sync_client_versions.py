"""The reference client takes an item's version from a push result only when the outcome is `applied`:
then its next edit is based on what the server has, without a pull. After `merged` or `conflict` it keeps
the version it last pulled, so a change it never saw is not silently overwritten."""

from __future__ import annotations

from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)


async def test_an_applied_result_gives_the_next_edit_its_base_version(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    a.edit_answer(cid, "c4_1_context", "yes")
    [res] = await a.push()
    assert res["outcome"] == "applied" and res["version"] == 1
    assert a.answer(cid, "c4_1_context")["version"] == 1 and a.answer(cid, "c4_1_context")["value"] == "yes"
    a.edit_answer(cid, "c4_1_context", note="Đã có quyết định")
    assert a.outbox()[-1]["base_version"] == 1
    [res] = await a.push()
    assert res["outcome"] == "applied" and res["version"] == 2


async def test_a_merged_result_leaves_the_pulled_version_so_an_unseen_note_is_not_overwritten(device):
    cid = await make_checklist("KT-147")
    a, b = await device("xa.iatoi"), await device("xa.iatoi")
    await a.pull()
    b.edit_answer(cid, "c4_1_context", note="Ghi chú của B")
    assert [r["outcome"] for r in await b.push()] == ["applied"]
    a.edit_answer(cid, "c4_1_context", "yes")  # a has not seen b's note
    [res] = await a.push()
    assert res["outcome"] == "merged" and res["version"] == 2
    assert a.answer(cid, "c4_1_context") is None  # nothing taken: the pull brings the item whole
    a.edit_answer(cid, "c4_1_context", note="Ghi chú của A")
    assert a.outbox()[-1]["base_version"] == 0
    [res] = await a.push()
    assert res["outcome"] == "conflict"  # b's note is kept as a conflict, not silently replaced


async def test_a_conflict_result_keeps_the_local_version(device):
    cid = await make_checklist("KT-147")
    a, b = await device("xa.iatoi"), await device("xa.iatoi")
    b.edit_answer(cid, "c4_1_context", "no")
    await b.push()
    await a.pull()
    a_version = a.answer(cid, "c4_1_context")["version"]
    b.edit_answer(
        cid,
        "c4_1_context",
        "partial",
    )
    await b.push()
    a.edit_answer(cid, "c4_1_context", "yes")
    [res] = await a.push()
    assert res["outcome"] == "conflict" and res["version"] > a_version
    assert a.answer(cid, "c4_1_context")["version"] == a_version
    await a.pull()
    assert a.answer(cid, "c4_1_context")["version"] == res["version"]
