"""The dashboard (/dashboard, /api/dashboard): its figures on data built for the purpose, and who may see
what (role × scope)."""

from __future__ import annotations

import re
from datetime import date

import pytest
import pytest_asyncio

from server.models import Unit
from tests.progress_world import drop_world, make_world
from tests.sync_fixtures import device  # noqa: F401 - fixture


@pytest_asyncio.fixture
async def world(device):  # noqa: F811
    try:
        yield await make_world(device)
    finally:
        await drop_world()


async def uid(code: str) -> int:
    return (await Unit.get(code=code)).id


async def test_the_province_sees_the_roadmap_against_its_targets(login, world):
    admin = await login("admin")
    r = await admin.get("/api/dashboard")
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["focus"]["code"] == "KT" and d["unit_count"] == 147
    assert [(y["due"], y["target"], y["done"]) for y in d["roadmap"]["by_year"]] == [
        ("2025-12-31", 35, 0),
        ("2027-12-31", 10, 0),
        ("2030-12-31", 102, 2),
    ]
    district = await uid("KT-045")
    iahdrai = next(g for g in d["roadmap"]["by_district"] if g["unit_id"] == district)
    assert (iahdrai["target"], iahdrai["counts"]["applying"], iahdrai["counts"]["converted"]) == (3, 1, 1)
    # the grid's rows are the units right below the province; districts drill down
    rows = {row["unit"]["code"]: row for row in d["grid"]["rows"]}
    assert len(rows) == 45 and rows["KT-045"]["unit"]["has_children"] and not rows["KT-001"]["unit"]["has_children"]
    assert d["review"] is not None


async def test_a_district_reviewer_sees_only_their_subtree_with_its_grid(login, world):
    rev = await login("huyen.iahdrai")
    d = (await rev.get("/api/dashboard?until=2026-11&months=4")).json()
    assert d["focus"]["code"] == "KT-045" and d["unit_count"] == 4  # the district and its three communes
    cells = {(row["unit"]["code"], c["period"]): c for row in d["grid"]["rows"] for c in row["cells"]}
    assert [cells[("KT-145", m)]["status"] for m in ("2026-08", "2026-09", "2026-10")] == ["on_time"] * 3
    assert [cells[("KT-146", m)]["status"] for m in ("2026-08", "2026-09", "2026-10")] == ["late", "missing", "late"]
    assert cells[("KT-145", "2026-10")]["checklist_id"] == world["145-10"]
    statuses = {row["unit"]["code"]: row["progress"] for row in d["grid"]["rows"]}
    assert statuses["KT-146"] == {
        "status": "announced",
        "since": "2026-06-20",
        "checklist_id": world["146-rollout"],
        "template_code": "rollout",
        "period": "once",
    }
    assert statuses["KT-147"]["status"] == "converted"
    # another district, or the province, is outside the scope: the same answer as a unit that is not there
    for other in (await uid("KT-040"), await uid("KT"), await uid("KT-097")):
        r = await rev.get(f"/api/dashboard?unit_id={other}")
        assert r.status_code == 404 and r.json()["error"] == "not_found"
    page = await rev.get(f"/dashboard?unit={await uid('KT-040')}")
    assert page.status_code == 404 and "Không tìm thấy đơn vị." in page.text


async def test_the_province_drills_down_to_a_district_then_a_unit_then_a_checklist(login, world):
    admin = await login("admin")
    top = await admin.get("/dashboard")
    assert top.status_code == 200
    district = await uid("KT-040")
    assert f'href="/dashboard?unit={district}"' in top.text
    page = await admin.get(f"/dashboard?unit={district}")
    assert page.status_code == 200 and "UBND huyện Tu Mơ Rông" in page.text
    commune = await uid("KT-096")
    assert f'href="/units/{commune}"' in page.text  # a commune has no units below: its own page
    assert 'href="/dashboard?unit=' in page.text  # the way back up (the crumbs)
    iahdrai = await admin.get(f"/dashboard?unit={await uid('KT-045')}&until=2026-11")
    assert f'href="/checklists/{world["146-10"]}"' in iahdrai.text  # a cell opens its checklist
    assert "Trễ hạn, nộp ngày 30/10/2026, hạn 21/10/2026" in iahdrai.text  # the cell's words, not its colour


async def test_overdue_today_and_waiting_for_review(login, world):
    from server.models import Deadline
    from sync.models import Checklist

    rev = await login("huyen.tumorong")
    d = (await rev.get("/api/dashboard")).json()
    # KT-097's rollout waits for the district (submitted, never approved)
    assert d["review"]["count"] == 1 and d["review"]["items"][0]["id"] == world["097-rollout"]
    # the monthly rule makes every unit of Tu Mơ Rông without its reports overdue
    lines = {o["unit_id"]: o for o in d["overdue"]["units"]}
    assert d["overdue"]["unit_count"] == len(lines) == 13  # the district and its twelve communes
    kt097 = lines[await uid("KT-097")]
    assert kt097["count"] == 12 and kt097["oldest"]["days_late"] > 300  # a year of missed months
    assert d["overdue"]["count"] == sum(o["count"] for o in lines.values())
    await Deadline.filter(code="TEST-MONTHLY-21").delete()
    d = (await rev.get("/api/dashboard")).json()
    # only roadmap milestones can be left (none before 2028: the communes' are due in 2030, the district's in 2027)
    assert all(o["oldest"]["title"].startswith("Hoàn thành áp dụng ISO điện tử") for o in d["overdue"]["units"])
    assert d["overdue"]["count"] == 0 or date.today().year >= 2028
    assert await Checklist.filter(status="submitted").count() >= 1


@pytest.mark.parametrize("username", ["xa.iatoi", "xa.tumorong"])
async def test_an_official_is_refused(login, seeded, username):
    c = await login(username)
    r = await c.get("/api/dashboard")
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    page = await c.get("/dashboard")
    assert page.status_code == 403 and "không có quyền" in page.text
    assert 'href="/dashboard"' not in (await c.get("/units")).text  # no link to a page they may not open


async def test_without_a_session(anon, seeded):
    assert (await anon.get("/api/dashboard")).status_code == 401
    r = await anon.get("/dashboard")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/dashboard"


@pytest.mark.parametrize(
    "query,status",
    [
        ("months=0", 422),
        ("months=13", 422),
        ("months=abc", 422),
        ("unit_id=abc", 422),
        ("unit_id=999999", 404),
        ("until=2026-13", 422),
        ("until=x", 422),
    ],
)
async def test_bad_parameters_are_refused_with_a_message(login, seeded, query, status):
    admin = await login("admin")
    r = await admin.get(f"/api/dashboard?{query}")
    assert r.status_code == status and r.json()["message"], r.text


async def test_the_page_is_small_and_needs_no_script(login, world):
    admin = await login("admin")
    r = await admin.get("/dashboard?months=12", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200
    assert len(r.content) < 150_000, len(r.content)
    assert "<script" not in r.text and "style=" not in r.text
    assert re.search(r"<svg class=\"bar\"[^>]*role=\"img\"", r.text)
    assert '<table class="figures">' in r.text  # the same figures as a table


async def test_the_unit_pages_show_the_derived_status_and_the_checklist_that_set_it(login, world):
    admin = await login("admin")
    page = (await admin.get(f"/units/{await uid('KT-146')}")).text
    assert "Đã công bố ISO điện tử</span> từ 20/06/2026" in page
    assert f'href="/checklists/{world["146-rollout"]}"' in page and "(Một lần)" in page
    # the district's page lists its communes with their derived statuses; the seeded column is not used
    district = (await admin.get(f"/units/{await uid('KT-045')}")).text
    assert district.count("badge p-") == 4 and "Đang áp dụng, duy trì" in district
    # an unapproved announcement changes nothing
    kt097 = (await admin.get(f"/units/{await uid('KT-097')}")).text
    assert "Chưa có thông tin" in kt097 and "chưa có phiếu nào được duyệt" in kt097
    tree = (await admin.get("/units")).text
    assert "Tính từ các phiếu đã duyệt" in tree and 'aria-label="UBND huyện Ia H&#39;Drai: 2/4"' in tree
