"""Starting a checklist offline: a `create` edit with the phone's own id, applied once, two phones' creates
of one unit/template/period converging to one checklist (sync/create.py), on a real database."""

from __future__ import annotations

import asyncio
import time
import uuid

from server.auth import hash_password
from server.models import User
from sync.models import Checklist, ChecklistAlias, Edit
from sync.state import server_replica
from tests.conftest import DEMO_PASSWORD, template_id, unit_id
from tests.sync_fixtures import device  # noqa: F401 (fixture)
from tests.test_sync_engine import raw_push


def create(seq: int, cid: str, unit: int, template: int, period: str) -> dict:
    return {
        "seq": seq,
        "kind": "create",
        "checklist_id": cid,
        "unit_id": unit,
        "template_id": template,
        "period": period,
        "device_ms": int(time.time() * 1000),
    }


async def key(template_code: str = "self_assessment") -> tuple[int, int]:
    return await unit_id("KT-147"), await template_id(template_code)


async def test_a_checklist_created_offline_is_made_with_the_phones_id_and_can_be_filled(device):
    a = await device("xa.iatoi")
    unit, template = await key()
    cid = a.create_checklist(unit, template, "2026")
    a.edit_answer(cid, "c4_1_context", "yes")
    assert a.checklist(cid)["period"] == "2026"  # there at once, before any network
    results = await a.push()
    assert [(r["outcome"], r.get("checklist_id")) for r in results] == [("applied", cid), ("applied", None)]
    await a.pull()
    row = await Checklist.get(id=cid)
    assert (row.unit_id, row.template_id, row.period, row.created_by) == (unit, template, "2026", "xa.iatoi")  # type: ignore[attr-defined]
    assert a.answer(cid, "c4_1_context")["value"] == "yes"


async def test_a_create_sent_twice_is_applied_once(device):
    a = await device("xa.iatoi")
    unit, template = await key()
    cid = str(uuid.uuid4())
    edits = [create(1, cid, unit, template, "2026")]
    first = await raw_push(a, a.device_id, edits)
    again = await raw_push(a, a.device_id, edits)  # the answer was lost: the phone sends it again
    assert first.json()["results"][0]["outcome"] == "applied"
    assert again.json()["results"][0] | {"duplicate": True} == again.json()["results"][0]
    assert again.json()["results"][0]["checklist_id"] == cid
    assert await Checklist.filter(unit_id=unit).count() == 1
    assert await Edit.filter(device_id=a.device_id, kind="create").count() == 1


async def test_two_phones_creating_the_same_checklist_converge_to_one_with_both_answers(device):
    a = await device("xa.iatoi")
    b = await device("xa.iatoi")  # the same official's second phone, offline too
    unit, template = await key()
    ca = a.create_checklist(unit, template, "2026")
    cb = b.create_checklist(unit, template, "2026")
    a.edit_answer(ca, "c4_1_context", "yes")
    b.edit_answer(cb, "c4_2_interested_parties", "no")
    await a.push()
    results = await b.push()
    assert results[0]["outcome"] == "merged" and results[0]["checklist_id"] == ca
    assert results[1]["outcome"] == "applied"  # addressed to b's id, landed on a's checklist
    await a.pull()
    await b.pull()
    assert await Checklist.filter(unit_id=unit).count() == 1
    assert await ChecklistAlias.filter(alias_id=cb, checklist_id=ca).exists()
    for phone in (a, b):
        assert set(phone.checklists()) == {ca}
        assert phone.answer(ca, "c4_1_context")["value"] == "yes"
        assert phone.answer(ca, "c4_2_interested_parties")["value"] == "no"
    # b keeps working under its old id; the server and b's local copy both land on the one checklist
    b.edit_answer(cb, "c4_3_scope", "partial")
    await b.sync()
    await a.pull()
    assert a.answer(ca, "c4_3_scope")["value"] == "partial"
    assert a.replica() == b.replica() == await server_replica({unit})


async def test_a_phone_first_syncing_after_the_merge_gets_the_alias_on_its_first_pull(device):
    a = await device("xa.iatoi")
    b = await device("xa.iatoi")
    unit, template = await key()
    ca = a.create_checklist(unit, template, "2026")
    await a.push()
    cb = b.create_checklist(unit, template, "2026")
    await b.push()
    fresh = await device("xa.iatoi")
    page = (await fresh.http.get("/api/sync/pull", params={"device_id": fresh.device_id})).json()
    while not page["checklists"] and page["more"]:
        page = (
            await fresh.http.get("/api/sync/pull", params={"device_id": fresh.device_id, "cursor": page["cursor"]})
        ).json()
    assert {"id": cb, "checklist_id": ca} in page["aliases"]


async def test_concurrent_creates_of_one_key_make_one_checklist(device):
    phones = [await device("xa.iatoi") for _ in range(4)]
    unit, template = await key()
    ids = [p.create_checklist(unit, template, "2026") for p in phones]
    results = await asyncio.gather(*(p.push() for p in phones))
    outcomes = sorted(r[0]["outcome"] for r in results)
    assert outcomes == ["applied", "merged", "merged", "merged"]
    canonical = {r[0]["checklist_id"] for r in results}
    assert len(canonical) == 1 and canonical <= set(ids)
    assert await Checklist.filter(unit_id=unit).count() == 1
    assert await ChecklistAlias.all().count() == 3


async def test_a_phone_create_after_the_web_create_becomes_an_alias_of_it(device, login):
    web = await login("xa.iatoi")
    unit, template = await key()
    made = await web.post("/api/checklists", json={"unit_id": unit, "template_id": template, "period": "2026"})
    assert made.status_code == 201
    a = await device("xa.iatoi")
    a.create_checklist(unit, template, "2026")
    assert (await a.push())[0] == {"seq": 1, "outcome": "merged", "reason": "", "checklist_id": made.json()["id"]}


async def test_creates_outside_scope_role_template_or_period_are_rejected_and_do_not_block(device):
    if not await User.exists(username="viewer"):
        from server.models import Unit

        await User.create(
            username="viewer", role="viewer", unit=await Unit.get(code="KT"), password_hash=hash_password(DEMO_PASSWORD)
        )
    a = await device("xa.iatoi")
    unit, template = await key()
    monthly = await template_id("monthly_report")
    elsewhere = await unit_id("KT-097")
    taken = a.create_checklist(unit, template, "2026")
    a.create_checklist(elsewhere, template, "2026")
    a.create_checklist(unit, 999_999, "2026")
    a.create_checklist(unit, template, "2026-11")  # a yearly template with a month
    a.create_checklist(unit, monthly, "tháng 11")
    reused = {"kind": "create", "checklist_id": taken, "unit_id": unit, "template_id": monthly, "period": "2026-11"}
    a._enqueue(reused)  # an id already used by a checklist of another key
    a.create_checklist(unit, monthly, "2026-11")  # the queue goes on
    reasons = [r["reason"] for r in await a.push()]
    assert reasons == [
        "",
        "out_of_scope",
        "template_unknown",
        "invalid_period",
        "invalid_period",
        "checklist_id_taken",
        "",
    ]
    v = await device("viewer")
    v.create_checklist(unit, monthly, "2026-12")
    assert (await v.push())[0]["reason"] == "forbidden"
    assert await Checklist.filter(unit_id=unit).count() == 2
    assert await Checklist.filter(unit_id=elsewhere).count() == 0


async def test_creates_of_one_key_through_two_server_processes_make_one_checklist(seeded, settings, tmp_path):
    """PostgreSQL, two uvicorn processes: only the advisory lock per key keeps the creates apart."""
    import pytest

    from client.sync_client import SyncClient
    from tests.conftest import BACKEND
    from tests.test_sync_multiprocess import free_port, start_server, wait_ready

    if BACKEND != "postgres":
        pytest.skip("needs EISO_TEST_DB=postgres (two server processes on one PostgreSQL database)")
    unit, template = await key()
    ports = [free_port(), free_port()]
    logs = [open(tmp_path / f"server-{p}.log", "w") for p in ports]
    procs = [start_server(settings.database_url, p, log) for p, log in zip(ports, logs)]
    phones: list[SyncClient] = []
    try:
        await asyncio.gather(*(wait_ready(p, pr) for p, pr in zip(ports, procs)))
        for i in range(6):
            c = SyncClient(tmp_path / f"phone-{i}.sqlite3", base_url=f"http://127.0.0.1:{ports[i % 2]}")
            await c.login("xa.iatoi", DEMO_PASSWORD)
            await c.register()
            phones.append(c)
        periods = [f"20{y}" for y in range(10, 20)]
        for period in periods:
            for c in phones:
                c.create_checklist(unit, template, period)
        results = await asyncio.gather(*(c.push() for c in phones))
        assert {r["outcome"] for rs in results for r in rs} == {"applied", "merged"}
        assert await Checklist.filter(unit_id=unit, period__in=periods).count() == len(periods)
        assert await ChecklistAlias.all().count() == len(periods) * (len(phones) - 1)
        for c in phones:
            await c.pull()
            assert {x["period"] for x in c.checklists().values() if x["period"] in periods} == set(periods)
            assert len([x for x in c.checklists().values() if x["period"] in periods]) == len(periods)
    finally:
        for c in phones:
            await c.close()
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)
        for log in logs:
            log.close()


async def test_a_phones_old_id_opens_the_checklist_it_became(device, login):
    a = await device("xa.iatoi")
    b = await device("xa.iatoi")
    unit, template = await key()
    ca = a.create_checklist(unit, template, "2026")
    cb = b.create_checklist(unit, template, "2026")
    await a.push()
    await b.push()
    web = await login("xa.iatoi")
    r = await web.get(f"/api/checklists/{cb}")
    assert r.status_code == 200 and r.json()["id"] == ca
    outsider = await login("xa.tumorong")
    assert (await outsider.get(f"/api/checklists/{cb}")).status_code == 404
