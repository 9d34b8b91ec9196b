"""End-to-end through HTTP: register, push, pull, conflicts, resolve."""

from __future__ import annotations

from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)


async def test_push_pull_roundtrip(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    await a.pull()
    assert cid in a.checklists()
    a.edit_answer(cid, "c4_1_context", "yes", note="Có quyết định")
    res = await a.push()
    assert [r["outcome"] for r in res] == ["applied"]
    await a.pull()
    ans = a.answer(cid, "c4_1_context")
    assert ans["value"] == "yes" and ans["note"] == "Có quyết định" and ans["version"] == 1
