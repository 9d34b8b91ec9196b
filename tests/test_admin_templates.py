"""Publishing a new version of a template (issue 16): new checklists use it, existing checklists keep
theirs, and the phone still gets the version of each checklist it holds."""

from __future__ import annotations

import json

import pytest

from seed.load import load_seed
from seed.read import DATA
from server.models import AuditLog, Deadline, Template
from sync.models import Checklist

from .conftest import ALL_TABLES, DEMO_PASSWORD, template_id, unit_id, wipe


@pytest.fixture
async def restore_templates(seeded):
    yield
    await wipe(ALL_TABLES)
    await load_seed(demo=True, demo_password=DEMO_PASSWORD)


def monthly_file(**change) -> dict:
    data = json.loads((DATA / "templates" / "monthly_report.json").read_text(encoding="utf-8"))
    data.pop("version")
    data["items"].append(
        {
            "key": "digital_signature",
            "section": "4. Bổ sung",
            "type": "choice",
            "required": False,
            "label": "Văn bản của hệ thống được ký số",
            "reference": "Mục bổ sung năm 2026",
        }
    )
    return {**data, **change}


async def test_a_new_version_is_used_for_new_checklists_and_old_ones_keep_theirs(login, restore_templates):
    admin = await login("admin")
    official = await login("xa.iatoi")
    v1 = await template_id("monthly_report")
    unit = await unit_id("KT-147")
    old = (
        await official.post("/api/checklists", json={"unit_id": unit, "template_id": v1, "period": "2026-10"})
    ).json()
    rules = await Deadline.filter(template_id=v1).count()
    assert rules >= 1

    raw = json.dumps(monthly_file(), ensure_ascii=False).encode()
    r = await admin.post("/api/templates", content=raw)
    assert r.status_code == 201, r.text
    v2 = r.json()["id"]
    assert r.json()["version"] == 2
    # The list the phone offers for a new checklist has only the new version.
    offered = {
        t["id"] for t in (await official.get("/api/templates")).json()["templates"] if t["code"] == "monthly_report"
    }
    assert offered == {v2}
    # The existing checklist keeps version 1, and the phone can still fetch it, items and all.
    assert (await Checklist.get(id=old["id"])).template_id == v1  # type: ignore[attr-defined]
    held = (await official.get(f"/api/templates/{v1}")).json()
    assert held["version"] == 1 and "digital_signature" not in {i["key"] for i in held["items"]}
    got = (await official.get(f"/api/checklists/{old['id']}")).json()
    assert got["template_id"] == v1
    new = await official.post("/api/checklists", json={"unit_id": unit, "template_id": v2, "period": "2026-11"})
    assert new.status_code == 201 and new.json()["template"]["version"] == 2
    # Old version no longer offered for a new checklist; the deadline rules follow the new version.
    late = await official.post("/api/checklists", json={"unit_id": unit, "template_id": v1, "period": "2026-09"})
    assert late.status_code == 422
    assert await Deadline.filter(template_id=v2).count() == rules and not await Deadline.exists(template_id=v1)
    log = await AuditLog.get(action="template.publish")
    assert log.username == "admin" and log.detail["version"] == 2 and log.detail["deadlines_moved"] == rules
    versions = (await admin.get("/api/template-versions")).json()["templates"]
    monthly = next(t for t in versions if t["code"] == "monthly_report")
    assert [(v["version"], v["published"], v["checklists"]) for v in monthly["versions"]] == [
        (2, True, 1),
        (1, False, 1),
    ]
    # The same version again, or an older one, is refused.
    again = await admin.post("/api/templates", content=json.dumps(monthly_file(version=2)).encode())
    assert again.status_code == 409 and "phiên bản 2" in again.json()["message"]


async def test_a_bad_template_file_is_refused_with_every_fault(login, restore_templates):
    admin = await login("admin")
    bad = monthly_file(period_kind="week", title="")
    bad["items"][0]["type"] = "photo"
    bad["items"][1]["key"] = bad["items"][2]["key"]
    r = await admin.post("/api/templates", content=json.dumps(bad, ensure_ascii=False).encode())
    assert r.status_code == 422
    body = r.json()
    assert "4 lỗi" in body["message"], body
    text = " ".join(body["errors"])
    assert "title" in text and "period_kind" in text and "Mục thứ 1" in text and "bị trùng" in text
    for raw in (b"not json", b"[1, 2]", json.dumps(monthly_file(items=[])).encode()):
        r = await admin.post("/api/templates", content=raw)
        assert r.status_code == 422 and r.json()["message"], raw
    assert await Template.filter(code="monthly_report").count() == 1
