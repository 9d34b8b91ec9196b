"""A delta pull reads its scope's changes only: a commune's phone pages through its own unit's changes,
not every unit's after a province-wide deadline evening, and a district's or the province's phone gets
every unit of its scope, through the path for a few units and the one for a very wide scope alike."""

from __future__ import annotations

import pytest

from server.auth import scope_unit_ids
from server.models import TemplateItem, User
from sync import pull
from sync.state import server_replica
from tests.conftest import template_id
from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)


async def replica_of(username: str) -> dict:
    return await server_replica(await scope_unit_ids(await User.get(username=username)))


@pytest.mark.parametrize("listed", [pull._MAX_LISTED_UNITS, 1], ids=["scope-in-the-query", "wide-scope"])
async def test_every_phone_pulls_its_whole_scope_and_a_commune_only_its_own_changes(device, monkeypatch, listed):
    monkeypatch.setattr(pull, "_MAX_LISTED_UNITS", listed)  # 1: every scope of two units or more is "wide"
    keys = [
        i.key
        for i in await TemplateItem.filter(template_id=await template_id("self_assessment")).order_by("position")
        if i.type == "choice"
    ][:12]
    ours, theirs = await make_checklist("KT-147"), await make_checklist("KT-097")  # Ia Tơi; a commune elsewhere
    iatoi, tumorong = await device("xa.iatoi"), await device("xa.tumorong")
    district, province = await device("huyen.iahdrai"), await device("admin")
    for c in (iatoi, tumorong, district, province):
        await c.pull()
    for rnd in range(2):  # the other commune's evening, with ours in between
        for k in keys:
            tumorong.edit_answer(theirs, k, "yes" if rnd else "no")
        await tumorong.push()
        iatoi.edit_answer(ours, keys[rnd], "partial")
        await iatoi.push()

    pages = {c.username: await c.pull(limit=3) for c in (iatoi, tumorong, district, province)}
    for c in (iatoi, tumorong, district, province):
        assert c.replica() == await replica_of(c.username), c.username
    assert iatoi.answer(ours, keys[1])["value"] == "partial"
    assert theirs not in iatoi.checklists() and theirs in province.checklists()
    if listed > 1:  # its two changes, not the other commune's 24: one page (two with an empty last one)
        assert pages["xa.iatoi"] <= 2, pages
