"""Progress figures against data built for the purpose (tests/progress_world.py), on a real database."""

from __future__ import annotations

import pytest_asyncio

from server.models import Unit
from server.services import progress
from sync.periods import today_vn
from tests.progress_world import EXPECTED_GRID, EXPECTED_STATUS, MONTHS, TODAY, drop_world, make_world
from tests.sync_fixtures import device  # noqa: F401 - fixture


@pytest_asyncio.fixture
async def world(device):  # noqa: F811
    try:
        yield await make_world(device)
    finally:
        await drop_world()


async def _by_code(codes) -> dict[str, int]:
    return {u.code: u.id for u in await Unit.filter(code__in=list(codes))}


async def test_statuses_follow_approved_checklists_only(world):
    ids = await _by_code(EXPECTED_STATUS)
    found = await progress.statuses_of(ids.values())
    for code, (status, since) in EXPECTED_STATUS.items():
        s = found[ids[code]]
        assert s.status == status, code
        if since:
            assert s.since == since, code
    assert found[ids["KT-145"]].since == today_vn()  # the annual report was approved today
    assert found[ids["KT-145"]].checklist_id == world["145-annual"]
    assert (found[ids["KT-146"]].checklist_id, found[ids["KT-146"]].template_code) == (world["146-rollout"], "rollout")
    assert found[ids["KT-147"]].checklist_id == world["147-conversion"]


async def test_reopening_an_approved_announcement_takes_the_status_back(world, device):  # noqa: F811
    admin = await device("admin")
    uid = (await _by_code(["KT-146"]))["KT-146"]
    admin.set_status(world["146-rollout"], "reopen", seen_version=0, comment="Sai ngày công bố")
    results = await admin.push()
    assert results[0]["outcome"] == "applied", results
    assert (await progress.statuses_of([uid]))[uid].status == "not_started"


async def test_the_timeliness_grid_reads_the_edit_log_and_the_binding_rule(world):
    ids = await _by_code(EXPECTED_GRID)
    grid = await progress.timeliness_grid(ids.values(), [*MONTHS, "2026-11"], TODAY)
    for code, row in EXPECTED_GRID.items():
        assert [grid[(ids[code], m)].status for m in MONTHS] == row, code
        assert grid[(ids[code], "2026-11")].status == "not_yet_due"
    cell = grid[(ids["KT-145"], "2026-10")]
    assert (str(cell.due), str(cell.sent_on), cell.checklist_id) == ("2026-10-21", "2026-10-15", world["145-10"])
    assert str(grid[(ids["KT-145"], "2026-09")].sent_on) == "2026-09-21"  # 23:30 in Vietnam is still the 21st
    # a draft is not a sending: the cell still links the checklist the unit opened
    assert grid[(ids["KT-147"], "2026-10")].checklist_id == world["147-10"]


async def test_without_a_binding_monthly_rule_nothing_is_judged(world):
    await drop_world()
    ids = await _by_code(EXPECTED_GRID)
    grid = await progress.timeliness_grid(ids.values(), MONTHS, TODAY)
    assert grid[(ids["KT-145"], "2026-08")].status == "handed_in"
    assert grid[(ids["KT-147"], "2026-08")].status == "no_deadline"


async def test_roadmap_targets_are_the_seeded_milestone_rules(world):
    units = list(await Unit.filter(active=True, level__gt=0))
    milestones = await progress.milestones_of(units)
    statuses = await progress.statuses_of(u.id for u in units)
    figures = progress.roadmap_progress(units, statuses, milestones)
    assert [(y["year"], y["target"]) for y in figures["by_year"]] == [(2025, 35), (2027, 10), (2030, 102)]
    y2030 = figures["by_year"][2]
    assert (y2030["counts"]["applying"], y2030["counts"]["announced"], y2030["done"]) == (1, 1, 2)
    assert y2030["counts"]["converted"] == 1 and y2030["counts"]["building"] == 1
    iahdrai = next(d for d in figures["by_district"] if d["name"] == "UBND huyện Ia H'Drai")
    assert (iahdrai["target"], iahdrai["done"], iahdrai["percent"]) == (3, 2, 67)
