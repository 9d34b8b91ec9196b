"""Administration of the unit tree (issue 16): creating a unit, merging two communes with both histories
kept, and importing a province's new list of units with a preview, then applied in one transaction."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys

import pytest
from openpyxl import Workbook

from seed.load import load_seed
from server.models import AuditLog, Unit, UnitHistory, User
from sync.models import Checklist

from .conftest import ALL_TABLES, DEMO_PASSWORD, template_id, unit_id, wipe


@pytest.fixture
async def restore_tree(seeded):
    """These tests change seeded units and accounts: put the seed back afterwards."""
    yield
    await wipe(ALL_TABLES)
    await load_seed(demo=True, demo_password=DEMO_PASSWORD)


async def tree_rows() -> list[dict]:
    """Today's tree as the rows of an import file."""
    codes = dict(await Unit.all().values_list("id", "code"))
    return [
        {"code": u.code, "name": u.name, "kind": u.kind, "parent_code": codes.get(u.parent_id, ""), "merged_into": ""}  # type: ignore[attr-defined]
        for u in await Unit.filter(active=True).order_by("level", "id")
    ]


def as_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=["code", "name", "kind", "parent_code", "merged_into"])
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def as_xlsx(rows: list[dict], header: list[str]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for r in rows:
        sheet.append([r["code"], r["name"], r["kind"], r["parent_code"], r["merged_into"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_an_admin_creates_a_unit_and_it_is_audited(login, restore_tree):
    admin = await login("admin")
    district = await unit_id("KT-045")
    r = await admin.post(
        "/api/units", json={"code": "KT-900", "name": "Xã Ia Mới", "kind": "Xã", "parent_id": district}
    )
    assert r.status_code == 201, r.text
    made = await Unit.get(code="KT-900")
    assert (made.kind, made.level, made.parent_id, made.active) == ("commune", 2, district, True)  # type: ignore[attr-defined]
    assert await UnitHistory.filter(unit_id=made.id, change="create").count() == 1
    log = await AuditLog.get(action="unit.create")
    assert log.username == "admin" and log.detail["code"] == "KT-900" and log.at is not None
    # Found by search without diacritics, like any unit.
    assert (await admin.get("/api/units", params={"q": "ia moi"})).json()["count"] == 1
    again = await admin.post(
        "/api/units", json={"code": "KT-900", "name": "X", "kind": "commune", "parent_id": district}
    )
    assert again.status_code == 409 and again.json()["field"] == "code"
    for bad, field in (
        ({"code": "kt 9", "name": "X", "kind": "commune"}, "code"),
        ({"code": "KT-901", "name": "  ", "kind": "commune"}, "name"),
        ({"code": "KT-901", "name": "X", "kind": "làng"}, "kind"),
    ):
        r = await admin.post("/api/units", json={**bad, "parent_id": district})
        assert r.status_code == 422 and r.json()["field"] == field, r.text
        assert r.json()["message"]  # a Vietnamese sentence
    assert not await Unit.exists(code="KT-901")


async def test_merging_two_communes_keeps_both_histories_checklists_and_accounts(login, restore_tree):
    admin = await login("admin")
    gone, stays = await unit_id("KT-147"), await unit_id("KT-146")  # Ia Tơi into Ia Đal
    official = await login("xa.iatoi")
    monthly = await template_id("monthly_report")
    made = {}
    for uid, client in ((gone, official), (stays, admin)):
        r = await client.post("/api/checklists", json={"unit_id": uid, "template_id": monthly, "period": "2026-10"})
        assert r.status_code == 201, r.text
        made[uid] = r.json()["id"]
    assert (await admin.patch(f"/api/units/{gone}", json={"name": "Xã Ia Tơi (cũ)"})).status_code == 200
    assert (await admin.patch(f"/api/units/{stays}", json={"name": "Xã Ia Đal (cũ)"})).status_code == 200

    r = await admin.post(f"/api/units/{gone}/merge", json={"into_id": stays})
    assert r.status_code == 200, r.text
    retired = await Unit.get(id=gone)
    assert (retired.active, retired.merged_into_id, retired.parent_id) == (False, stays, stays)  # type: ignore[attr-defined]
    # Both histories: each unit keeps its own rows; the merged one adds the merge.
    assert [h.change for h in await UnitHistory.filter(unit_id=gone).order_by("id")] == ["create", "rename", "merge"]
    assert [h.change for h in await UnitHistory.filter(unit_id=stays).order_by("id")] == ["create", "rename"]
    # Checklists stay with the unit that made them, and both are found from the surviving commune.
    assert await Checklist.get(id=made[gone]).values_list("unit_id", flat=True) == gone
    user = await User.get(username="xa.iatoi")
    assert user.unit_id == stays  # type: ignore[attr-defined]  # the people now work for the merged commune
    assert await AuditLog.filter(action="user.unit", object_id="xa.iatoi").count() == 1
    official = await login("xa.iatoi")
    found = {c["id"] for c in (await official.get("/api/checklists")).json()["checklists"]}
    assert {made[gone], made[stays]} <= found
    assert (await official.get(f"/api/checklists/{made[gone]}")).status_code == 200
    detail = (await official.get(f"/api/units/{gone}")).json()
    assert detail["active"] is False and [h["change"] for h in detail["history"]] == ["create", "rename", "merge"]
    # A unit that was merged away takes no new merge, and nothing can merge into it.
    assert (await admin.post(f"/api/units/{gone}/merge", json={"into_id": stays})).status_code == 409
    other = await unit_id("KT-145")
    r = await admin.post(f"/api/units/{other}/merge", json={"into_id": gone})
    assert r.status_code == 422 and r.json()["field"] == "into_id"


async def test_the_import_preview_lists_every_change_and_changes_nothing(login, restore_tree):
    admin = await login("admin")
    rows = await tree_rows()
    by_code = {r["code"]: r for r in rows}
    by_code["KT-146"]["name"] = "Xã Ia Đal mới"  # renamed
    by_code["KT-145"]["parent_code"] = "KT-044"  # moved to Sa Thầy
    by_code["KT-147"]["merged_into"] = "KT-146"  # merged
    rows.append({"code": "KT-901", "name": "Phường Mới", "kind": "Phường", "parent_code": "KT-036", "merged_into": ""})
    rows = [r for r in rows if r["code"] != "KT-104"]  # retired: not in the new list
    before = await Unit.all().order_by("id").values_list("id", "name", "parent_id", "active")
    r = await admin.post("/api/units/import/preview", content=as_csv(rows))
    assert r.status_code == 200, r.text
    plan = r.json()
    assert {k: v for k, v in plan["counts"].items() if v} == {
        "create": 1,
        "rename": 1,
        "move": 1,
        "merge": 1,
        "retire": 1,
    }
    acts = {(a["action"], a["code"]): a for a in plan["actions"]}
    assert acts["rename", "KT-146"]["old"] == "Xã Ia Đal" and acts["rename", "KT-146"]["new"] == "Xã Ia Đal mới"
    assert acts["move", "KT-145"]["old"] == "KT-045" and acts["move", "KT-145"]["new"] == "KT-044"
    assert acts["merge", "KT-147"]["new"] == "KT-146" and acts["create", "KT-901"]["row"] == len(rows) + 1
    assert acts["retire", "KT-104"]["row"] is None
    assert await Unit.all().order_by("id").values_list("id", "name", "parent_id", "active") == before
    assert not await AuditLog.filter(action__startswith="unit.").exists()

    # The same list as an Excel file with Vietnamese headers gives the same plan.
    xlsx = as_xlsx(rows, ["Mã", "Tên", "Loại", "Mã đơn vị cấp trên", "Sáp nhập vào"])
    r2 = await admin.post("/api/units/import/preview", content=xlsx)
    assert r2.status_code == 200 and r2.json()["digest"] == plan["digest"]


async def test_applying_the_import_keeps_every_history_in_one_transaction(login, restore_tree):
    admin = await login("admin")
    official = await login("xa.iatoi")
    r = await official.post(
        "/api/checklists",
        json={
            "unit_id": await unit_id("KT-147"),
            "template_id": await template_id("monthly_report"),
            "period": "2026-10",
        },
    )
    checklist = r.json()["id"]
    rows = await tree_rows()
    by_code = {r["code"]: r for r in rows}
    by_code["KT-146"]["name"] = "Xã Ia Đal mới"
    by_code["KT-145"]["parent_code"] = "KT-044"
    by_code["KT-147"]["merged_into"] = "KT-146"
    rows.append({"code": "KT-901", "name": "Phường Mới", "kind": "ward", "parent_code": "KT-036", "merged_into": ""})
    rows = [r for r in rows if r["code"] != "KT-104"]
    data = as_csv(rows)
    plan = (await admin.post("/api/units/import/preview", content=data)).json()

    stale = await admin.post("/api/units/import", params={"digest": "0" * 32}, content=data)
    assert stale.status_code == 409 and not await Unit.exists(code="KT-901")
    r = await admin.post("/api/units/import", params={"digest": plan["digest"]}, content=data)
    assert r.status_code == 200, r.text
    assert (await Unit.get(code="KT-146")).name == "Xã Ia Đal mới"
    assert (await Unit.get(code="KT-145")).parent_id == await unit_id("KT-044")  # type: ignore[attr-defined]
    merged = await Unit.get(code="KT-147")
    assert not merged.active and merged.merged_into_id == await unit_id("KT-146")  # type: ignore[attr-defined]
    assert not (await Unit.get(code="KT-104")).active
    assert (await Unit.get(code="KT-901")).level == 2
    history = {(h.unit_id, h.change) for h in await UnitHistory.all()}  # type: ignore[attr-defined]
    assert (await unit_id("KT-104"), "retire") in history and (merged.id, "merge") in history
    # The merged commune's checklist is still there and still found by its official.
    assert (await official.get(f"/api/checklists/{checklist}")).status_code == 200
    log = await AuditLog.get(action="unit.import")
    assert log.detail["digest"] == plan["digest"] and log.detail["retire"] == 1
    # Applying the same file again changes nothing: the tree already is the list.
    again = (await admin.post("/api/units/import/preview", content=data)).json()
    assert again["actions"] == []


async def test_bad_import_files_are_refused_with_the_row_in_vietnamese(login, restore_tree):
    admin = await login("admin")
    rows = await tree_rows()
    rows[5]["kind"] = "làng"
    rows[7]["parent_code"] = "KT-999"
    rows.append(dict(rows[3]))  # a code twice
    r = await admin.post("/api/units/import/preview", content=as_csv(rows))
    assert r.status_code == 422
    body = r.json()
    assert "Dòng 7" in body["message"] and "lỗi" in body["message"]
    assert [e["row"] for e in body["errors"]] == [7, 9, len(rows) + 1]
    assert "KT-999" in body["errors"][1]["message"]
    for data, words in (
        (b"", "rỗng"),
        (b"ma,ten\nKT,Tinh\n", "tiêu đề"),
        ("code,name,kind,parent_code\nKT,Tỉnh,province,\n".encode("utf-16"), "UTF-8"),
        (b"PK\x03\x04not really a workbook", "XLSX"),
    ):
        r = await admin.post("/api/units/import/preview", content=data)
        assert r.status_code == 422 and words in r.json()["message"], r.text
    # A loop (a district under its own commune) is refused too.
    rows = await tree_rows()
    by_code = {r["code"]: r for r in rows}
    by_code["KT-045"]["parent_code"] = "KT-147"
    r = await admin.post("/api/units/import/preview", content=as_csv(rows))
    assert r.status_code == 422 and "vòng lặp" in r.json()["message"]


async def test_the_eiso_command_previews_then_applies_a_new_list(restore_tree, database_url, tmp_path):
    rows = await tree_rows()
    next(r for r in rows if r["code"] == "KT-146")["name"] = "Xã Ia Đal mới"
    path = tmp_path / "don-vi.csv"
    path.write_bytes(as_csv(rows))
    env = {**os.environ, "DATABASE_URL": database_url}

    def eiso(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "server.cli", "import-units", str(path), *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)

    preview = eiso()
    assert preview.returncode == 0, preview.stderr
    assert "Xã Ia Đal → Xã Ia Đal mới" in preview.stdout and "rename: 1" in preview.stdout
    assert (await Unit.get(code="KT-146")).name == "Xã Ia Đal"
    digest = re.search(r"--apply (\w+)", preview.stdout).group(1)
    applied = eiso("--apply", digest)
    assert applied.returncode == 0 and "Đã áp dụng" in applied.stdout, applied.stderr
    assert (await Unit.get(code="KT-146")).name == "Xã Ia Đal mới"
    assert (await AuditLog.get(action="unit.import")).username == "admin"
    path.write_bytes(b"code,name,kind,parent_code\nKT,,tinh,\n")
    bad = eiso()
    assert bad.returncode != 0 and "Dòng 2" in bad.stderr


async def test_the_2025_reform_districts_gone_communes_merged_keeps_every_history(login, restore_tree):
    """Ia H'Drai district goes; its three communes become one, directly under the province."""
    admin = await login("admin")
    official = await login("xa.iatoi")
    old = await official.post(
        "/api/checklists",
        json={
            "unit_id": await unit_id("KT-147"),
            "template_id": await template_id("monthly_report"),
            "period": "2025-05",
        },
    )
    rows = [r for r in await tree_rows() if r["code"] != "KT-045"]
    by_code = {r["code"]: r for r in rows}
    by_code["KT-146"].update(name="Xã Ia Đal (sau sắp xếp)", parent_code="KT")
    by_code["KT-145"]["merged_into"] = "KT-146"
    by_code["KT-147"]["merged_into"] = "KT-146"
    data = as_csv(rows)
    plan = (await admin.post("/api/units/import/preview", content=data)).json()
    assert {k: v for k, v in plan["counts"].items() if v} == {"rename": 1, "move": 1, "merge": 2, "retire": 1}
    assert any("UBND huyện Ia H'Drai" in w for w in plan["warnings"])  # its reviewer still belongs to it
    r = await admin.post("/api/units/import", params={"digest": plan["digest"]}, content=data)
    assert r.status_code == 200, r.text
    survivor = await Unit.get(code="KT-146")
    assert (survivor.parent_id, survivor.level, survivor.active) == (await unit_id("KT"), 1, True)  # type: ignore[attr-defined]
    for code in ("KT-145", "KT-147"):
        merged = await Unit.get(code=code)
        assert (merged.active, merged.merged_into_id, merged.level) == (False, survivor.id, 2)  # type: ignore[attr-defined]
    district = await Unit.get(code="KT-045")
    assert not district.active and not await Unit.filter(parent_id=district.id, active=True).exists()
    # Every unit keeps its history, and the old checklist is found from the new commune.
    changes = {
        code: [h.change for h in await UnitHistory.filter(unit__code=code).order_by("id")]
        for code in ("KT-045", "KT-145", "KT-146", "KT-147")
    }
    assert changes == {
        "KT-045": ["create", "retire"],
        "KT-145": ["create", "merge"],
        "KT-146": ["create", "rename", "move"],
        "KT-147": ["create", "merge"],
    }
    listed = (await official.get("/api/checklists", params={"unit_id": await unit_id("KT-147")})).json()["checklists"]
    assert [c["id"] for c in listed] == [old.json()["id"]]
    assert (await User.get(username="xa.iatoi")).unit_id == survivor.id  # type: ignore[attr-defined]
    history = (await admin.get(f"/api/units/{district.id}")).json()
    assert history["active"] is False and history["history"][-1]["change"] == "retire"
