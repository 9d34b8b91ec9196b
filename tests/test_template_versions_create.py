"""A new version of a template is a new template row with the same code, and a unit still has ONE checklist
per template code and period: a create for a period the unit already has a checklist of (made on the
older version) answers with that checklist, from a phone (an alias, sync/create.py) or from the web (409);
and whoever counts who has not handed in a period (deadlines, the dashboard's grid, the review queue's
due dates, reminders) finds the checklist made on the older version."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, timedelta

import pytest

from server.models import Deadline, Template, Unit, User
from server.reminders.models import InboxMessage
from server.reminders.run import run_once
from server.services import templates_admin
from server.services.deadlines import due_items
from server.services.progress import timeliness_grid
from sync.models import Checklist, ChecklistAlias
from tests.conftest import BACKEND, DEMO_PASSWORD, template_id, unit_id
from tests.progress_world import Clock
from tests.reminder_fixtures import *  # noqa: F401,F403 - fixtures
from tests.reminder_world import DUE, at, channel_settings, days, make_world, submit, subscribe
from tests.sync_fixtures import device  # noqa: F401 (fixture)
from tests.test_admin_templates import monthly_file, restore_templates  # noqa: F401 (fixture)
from tests.test_sync_create import create
from tests.test_sync_engine import raw_push


async def publish_monthly_v2(login) -> tuple[int, int]:
    """The admin publishes version 2 of the monthly report (one more item); returns (v1, v2)."""
    v1 = await template_id("monthly_report")
    admin = await login("admin")
    r = await admin.post("/api/templates", content=json.dumps(monthly_file(), ensure_ascii=False).encode())
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2
    return v1, r.json()["id"]


async def monthly_of(unit: int, period: str) -> list[Checklist]:
    return list(await Checklist.filter(unit_id=unit, template__code="monthly_report", period=period))


async def test_a_phone_create_on_the_new_version_becomes_an_alias_of_the_checklist_on_the_old_one(
    device, login, restore_templates
):
    unit = await unit_id("KT-147")
    web = await login("xa.iatoi")
    v1 = await template_id("monthly_report")
    old = (await web.post("/api/checklists", json={"unit_id": unit, "template_id": v1, "period": "2026-11"})).json()
    _, v2 = await publish_monthly_v2(login)

    phone = await device("xa.iatoi")
    cid = phone.create_checklist(unit, v2, "2026-11")
    phone.edit_answer(cid, "difficulties", "Mất mạng ba ngày")
    phone.edit_answer(cid, "digital_signature", "yes")  # an item only version 2 has
    results = await phone.push()
    assert results[0] == {"seq": 1, "outcome": "merged", "reason": "", "checklist_id": old["id"]}
    assert results[1]["outcome"] == "applied"  # sent to the phone's id, landed on the existing checklist
    assert results[2]["reason"] == "not_found"  # the checklist keeps version 1's items
    assert [(c.id, c.template_id) for c in await monthly_of(unit, "2026-11")] == [(old["id"], v1)]  # type: ignore[attr-defined]
    assert await ChecklistAlias.filter(alias_id=cid, checklist_id=old["id"]).exists()
    await phone.pull()
    assert set(phone.checklists()) == {old["id"]}  # re-keyed: the phone now holds the one checklist
    assert phone.answer(old["id"], "difficulties")["value"] == "Mất mạng ba ngày"
    # another phone's create, sent twice (its answer was lost), is answered the same both times
    other = await device("xa.iatoi")
    edits = [create(1, str(uuid.uuid4()), unit, v2, "2026-11")]
    for _ in range(2):
        r = (await raw_push(other, other.device_id, edits)).json()["results"][0]
        assert (r["outcome"], r["checklist_id"]) == ("merged", old["id"]), r
    assert len(await monthly_of(unit, "2026-11")) == 1


async def test_the_web_create_on_the_new_version_answers_the_checklist_on_the_old_one(login, restore_templates):
    unit = await unit_id("KT-147")
    web = await login("xa.iatoi")
    v1 = await template_id("monthly_report")
    old = (await web.post("/api/checklists", json={"unit_id": unit, "template_id": v1, "period": "2026-11"})).json()
    _, v2 = await publish_monthly_v2(login)

    r = await web.post("/api/checklists", json={"unit_id": unit, "template_id": v2, "period": "2026-11"})
    assert r.status_code == 409 and r.json()["checklist_id"] == old["id"], r.text
    # the unit page's form shows the existing checklist instead
    page = await web.post(f"/units/{unit}/checklists", data={"template_id": str(v2), "period": "2026-11"})
    assert page.status_code == 303 and page.headers["location"] == f"/checklists/{old['id']}"
    assert len(await monthly_of(unit, "2026-11")) == 1


async def test_a_phone_create_on_the_new_version_after_a_phone_create_on_the_old_one_merges(
    device, login, restore_templates
):
    """The older checklist may have come from a phone too, and be handed in already."""
    unit = await unit_id("KT-147")
    v1 = await template_id("monthly_report")
    first = await device("xa.iatoi")
    old = first.create_checklist(unit, v1, "2026-10")
    first.set_status(old, "submit")
    assert [r["outcome"] for r in await first.push()] == ["applied", "applied"]
    _, v2 = await publish_monthly_v2(login)
    second = await device("xa.iatoi")
    second.create_checklist(unit, v2, "2026-10")
    assert (await second.push())[0]["checklist_id"] == old
    assert [c.status for c in await monthly_of(unit, "2026-10")] == ["submitted"]


async def test_a_phone_offline_since_before_the_new_version_keeps_its_checklist_on_the_old_one(
    device, login, restore_templates
):
    """It created and answered on version 1 while version 2 was being published: nothing is lost."""
    unit = await unit_id("KT-147")
    phone = await device("xa.iatoi")
    v1, v2 = await publish_monthly_v2(login)
    cid = phone.create_checklist(unit, v1, "2027-02")  # the phone still has only version 1
    phone.edit_answer(cid, "difficulties", "Mất mạng cả tuần")
    results = await phone.push()
    assert [r["outcome"] for r in results] == ["applied", "applied"], results
    assert [(c.id, c.template_id) for c in await monthly_of(unit, "2027-02")] == [(cid, v1)]  # type: ignore[attr-defined]
    # the web offers only the published version: a create there on version 1 is refused
    web = await login("xa.iatoi")
    r = await web.post("/api/checklists", json={"unit_id": unit, "template_id": v1, "period": "2027-03"})
    assert r.status_code == 422 and r.json()["field"] == "template_id", r.text
    # a template id that names nothing is still refused
    r = (await raw_push(phone, phone.device_id, [create(3, str(uuid.uuid4()), unit, 999_999, "2027-02")])).json()
    assert r["results"][0]["reason"] == "template_unknown", r


async def test_another_period_on_the_new_version_is_created_on_it(device, login, restore_templates):
    unit = await unit_id("KT-147")
    web = await login("xa.iatoi")
    v1 = await template_id("monthly_report")
    await web.post("/api/checklists", json={"unit_id": unit, "template_id": v1, "period": "2026-11"})
    _, v2 = await publish_monthly_v2(login)

    phone = await device("xa.iatoi")
    cid = phone.create_checklist(unit, v2, "2026-12")
    assert (await phone.push())[0] == {"seq": 1, "outcome": "applied", "reason": "", "checklist_id": cid}
    r = await web.post("/api/checklists", json={"unit_id": unit, "template_id": v2, "period": "2027-01"})
    assert r.status_code == 201 and r.json()["template"]["version"] == 2
    assert [c.template_id for c in await monthly_of(unit, "2026-12")] == [v2]  # type: ignore[attr-defined]
    # another unit, same period: its own checklist
    other = await unit_id("KT-146")
    admin = await login("admin")
    r = await admin.post("/api/checklists", json={"unit_id": other, "template_id": v2, "period": "2026-11"})
    assert r.status_code == 201


async def test_concurrent_creates_on_two_versions_of_one_template_make_one_checklist(device, login, restore_templates):
    """The lock is per template code: two versions both offered (not what publishing leaves, but nothing
    in the lock may depend on it) and phones creating on either at once still make one checklist."""
    unit = await unit_id("KT-147")
    v1, v2 = await publish_monthly_v2(login)
    await Template.filter(id=v1).update(published=True)
    phones = [await device("xa.iatoi") for _ in range(4)]
    web = await login("xa.iatoi")
    for i, p in enumerate(phones):
        p.create_checklist(unit, (v1, v2)[i % 2], "2026-11")
    results = await asyncio.gather(
        *(p.push() for p in phones),
        web.post("/api/checklists", json={"unit_id": unit, "template_id": v1, "period": "2026-11"}),
    )
    made = await monthly_of(unit, "2026-11")
    assert len(made) == 1
    outcomes = sorted(r[0]["outcome"] for r in results[:4])
    web_made = results[4].status_code == 201
    assert outcomes == (["merged"] * 4 if web_made else ["applied", "merged", "merged", "merged"])
    assert {r[0]["checklist_id"] for r in results[:4]} == {made[0].id}


async def test_creates_on_two_versions_through_two_server_processes_make_one_checklist(
    login, restore_templates, settings, tmp_path
):
    """PostgreSQL, two uvicorn processes: the unique index cannot see two versions, the advisory lock per
    (unit, template code, period) keeps the creates apart."""
    from client.sync_client import SyncClient
    from tests.test_sync_multiprocess import free_port, start_server, wait_ready

    if BACKEND != "postgres":
        pytest.skip("needs EISO_TEST_DB=postgres (two server processes on one PostgreSQL database)")
    unit = await unit_id("KT-147")
    v1, v2 = await publish_monthly_v2(login)
    await Template.filter(id=v1).update(published=True)
    ports = [free_port(), free_port()]
    logs = [open(tmp_path / f"server-{p}.log", "w") for p in ports]
    procs = [start_server(settings.database_url, p, log) for p, log in zip(ports, logs)]
    phones: list[SyncClient] = []
    try:
        await asyncio.gather(*(wait_ready(p, pr) for p, pr in zip(ports, procs)))
        for i in range(4):
            c = SyncClient(tmp_path / f"phone-{i}.sqlite3", base_url=f"http://127.0.0.1:{ports[i % 2]}")
            await c.login("xa.iatoi", DEMO_PASSWORD)
            await c.register()
            phones.append(c)
        periods = [f"2025-{m:02d}" for m in range(1, 13)]
        for period in periods:
            for i, c in enumerate(phones):
                c.create_checklist(unit, (v1, v2)[(i // 2) % 2], period)  # each process sees both versions
        results = await asyncio.gather(*(c.push() for c in phones))
        assert {r["outcome"] for rs in results for r in rs} == {"applied", "merged"}
        for period in periods:
            assert len(await monthly_of(unit, period)) == 1, period
        assert await ChecklistAlias.all().count() == len(periods) * (len(phones) - 1)
    finally:
        for c in phones:
            await c.close()
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)
        for log in logs:
            log.close()


async def test_a_unit_that_sent_the_period_on_the_old_version_is_not_missing_after_a_new_one(
    device, login, restore_templates
):
    """Deadlines, the dashboard's grid and the review queue, after the rule moved to version 2."""
    province = await Unit.get(code="KT")
    v1 = await template_id("monthly_report")
    await Deadline.create(
        code="TEST-MONTHLY-21",
        title="Báo cáo tháng (thử: trước ngày 22)",
        template_id=v1,
        unit=province,
        recurrence="monthly:21",
        period_kind="month",
        period_offset=0,
        binding=True,
    )
    clock = Clock()
    phone = await device("xa.iatoi", clock=clock)
    kt147, kt146 = await unit_id("KT-147"), await unit_id("KT-146")
    clock.at(date(2026, 10, 15))
    sent = phone.create_checklist(kt147, v1, "2026-10")
    phone.set_status(sent, "submit")
    clock.now()
    await phone.push()
    _, v2 = await publish_monthly_v2(login)
    assert await Deadline.filter(code="TEST-MONTHLY-21", template_id=v2).exists()

    today = date(2026, 11, 1)
    owed = {(i.unit_id, i.period): i.status for i in await due_items(today, [kt147, kt146])}
    assert (kt147, "2026-10") not in owed  # handed in: nothing left to show
    assert owed[(kt146, "2026-10")] == "overdue"
    grid = await timeliness_grid([kt147, kt146], ["2026-10"], today)
    assert (grid[(kt147, "2026-10")].status, grid[(kt147, "2026-10")].checklist_id) == ("on_time", sent)
    assert grid[(kt146, "2026-10")].status == "missing"

    reviewer = await login("huyen.iahdrai")
    d = (await reviewer.get("/api/dashboard?until=2026-10&months=1")).json()
    cells = {(row["unit"]["code"], c["period"]): c for row in d["grid"]["rows"] for c in row["cells"]}
    assert cells[("KT-147", "2026-10")]["status"] == "on_time"
    # the review queue: the checklist on version 1 is due by the rule now naming version 2, and choosing
    # the template (the published version) shows it
    q = (await reviewer.get(f"/api/review/queue?template_id={v2}")).json()
    assert [(c["id"], c["due"]) for c in q["checklists"]] == [(sent, "2026-10-21")]


async def test_reminders_after_a_new_version_skip_the_unit_that_sent_and_link_the_started_checklist(
    db, settings, push_service
):
    w = await make_world()
    s = channel_settings(settings, push_service)
    await subscribe(push_service, "off1-phone", w["off1"])
    await subscribe(push_service, "off2-phone", w["off2"])
    await submit(w["c1"], w["template"])  # c1 sent on version 1
    draft = await submit(w["c2"], w["template"])  # c2 started on version 1, not sent
    draft.status = "draft"
    await draft.save()
    admin = await User.get(id=w["admin"].id).prefetch_related("unit")
    v2 = await templates_admin.publish(
        admin,
        {
            "code": "report",
            "title": "Báo cáo thử (bản 2)",
            "period_kind": "once",
            "legal_basis": "Thử",
            "items": [
                {"key": "a", "section": "1", "type": "text", "required": False, "label": "A", "reference": "Thử"}
            ],
        },
    )
    assert await Deadline.filter(id=w["rule"].id, template_id=v2.id).exists()
    for day in days(DUE - timedelta(days=3), DUE + timedelta(days=1)):
        await run_once(s, at(day, 9))
    assert await InboxMessage.filter(user_id=w["off1"].id).count() == 0
    assert await InboxMessage.filter(user_id=w["off2"].id).count() > 0
    assert {p.payload["url"] for p in push_service.received} == {f"/app/#/c/{draft.id}"}
    assert {p.name for p in push_service.received} == {"off2-phone"}


async def test_the_demo_seed_run_again_after_a_new_version_makes_no_second_checklist(login, restore_templates):
    from seed.demo import ensure_demo_checklists

    first = await ensure_demo_checklists()
    assert first > 0
    before = await Checklist.all().count()
    await publish_monthly_v2(login)
    assert await ensure_demo_checklists() == 0
    assert await Checklist.all().count() == before
