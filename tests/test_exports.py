"""Exports as jobs: the file read back cell by cell, progress on a large one, scope on every kind, and
only the owner sees a job."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
import uuid
from datetime import datetime

import pytest
from openpyxl import load_workbook

from server.catalogue import PROBLEMS
from server.services import exports
from sync.models import Answer, Checklist

from .conftest import template_id, unit_id
from .registers_world import build_world


@pytest.fixture
def export_files(settings):
    """Removes whatever export files a test made (jobs are finished before the test ends)."""
    before = set(exports.export_dir(settings).iterdir())
    yield
    for path in set(exports.export_dir(settings).iterdir()) - before:
        path.unlink(missing_ok=True)


async def finish(client, job: dict, seen: list[int] | None = None, timeout: float = 120) -> dict:
    """Poll the job until it is no longer running; `seen` collects the rows-done figures polled."""
    end = time.monotonic() + timeout
    while True:
        r = await client.get(job["url"])
        assert r.status_code == 200, r.text
        job = r.json()
        if seen is not None:
            seen.append(job["done"])
        if job["status"] != "running":
            return job
        assert time.monotonic() < end, job
        await asyncio.sleep(0.02)


async def export(client, kind: str, fmt: str = "xlsx", **filters) -> tuple[dict, bytes]:
    r = await client.post("/api/exports", json={"kind": kind, "format": fmt, "filters": filters})
    assert r.status_code == 202, r.text
    job = await finish(client, r.json())
    assert job["status"] == "done", job
    r = await client.get(job["file_url"])
    assert r.status_code == 200
    return job, r.content


def sheet(content: bytes):
    return load_workbook(io.BytesIO(content)).active


async def test_units_export_reads_back_with_vietnamese_a_frozen_header_and_the_tree(login, export_files):
    admin = await login("admin")
    job, content = await export(admin, "units")
    assert job["filename"].startswith("don-vi-") and job["filename"].endswith(".xlsx")
    ws = sheet(content)
    assert ws.title == "Danh sách đơn vị" and ws.freeze_panes == "A2" and ws["A1"].font.b
    header = [c.value for c in ws[1]]
    assert header[:4] == ["Mã đơn vị", "Tên đơn vị", "Tên theo văn bản", "Loại"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == job["total"] == job["done"] > 140
    dakkan = rows["KT-086"]
    assert dakkan[1] == "Xã Đăk Kan" and dakkan[5] == "KT-038"
    assert dakkan[6] == "Tỉnh Kon Tum › UBND huyện Ngọc Hồi"
    assert ws.column_dimensions["B"].width >= len("Ủy ban nhân dân huyện Ia H'Drai") - 10
    # The stored status date is a date cell in dd/mm/yyyy.
    dated = [r for r in ws.iter_rows(min_row=2) if r[9].value is not None]
    assert dated and isinstance(dated[0][9].value, datetime) and dated[0][9].number_format == "dd/mm/yyyy"


async def test_a_reviewer_exports_its_district_only_and_as_csv(login, export_files):
    reviewer = await login("huyen.iahdrai")
    job, content = await export(reviewer, "units", "csv")
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][0] == "Mã đơn vị"
    assert {r[0] for r in rows[1:]} == {"KT-045", "KT-145", "KT-146", "KT-147"}
    assert any(r[1] == "Xã Ia Tơi" for r in rows[1:])
    official = await login("xa.iatoi")
    _, content = await export(official, "units", "csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["KT-147"]


async def test_checklists_export_has_one_row_per_answer_with_typed_values(login, export_files):
    world = await build_world()
    admin = await login("admin")
    job, content = await export(admin, "checklists", template="rollout")
    ws = sheet(content)
    header = [c.value for c in ws[1]]
    assert header == [c.title for c in exports.CHECKLIST_COLUMNS]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == job["done"] == 7  # Đăk Kan's five answers and Tu Mơ Rông's two
    by_key = {(r[0], r[6]): r for r in rows}
    date_row = by_key[("KT-086", "s12_announcement_date")]
    assert date_row[8] == datetime(2026, 3, 15)  # a date answer is a date cell
    assert date_row[7] == "Ngày ký quyết định công bố" and date_row[4] == "Một lần"
    assert date_row[5] == "Đã duyệt" and date_row[10] == "xa.iatoi" and isinstance(date_row[11], datetime)
    assert by_key[("KT-086", "s12_announced")][8] == "Có"
    assert by_key[("KT-086", "s06_tthc_in_system")][8] == 87
    assert by_key[("KT-086", "s12_announcement_photo")][8] == "qd-cong-bo.jpg"
    assert by_key[("KT-097", "s12_announcement_number")][12] == world["tumorong"].id
    # Filters narrow it; a district reviewer sees only its own units' answers.
    _, content = await export(admin, "checklists", status="approved", template="rollout")
    assert {r[0] for r in sheet(content).iter_rows(min_row=2, values_only=True)} == {"KT-086"}
    _, content = await export(await login("huyen.iahdrai"), "checklists")
    assert {r[0] for r in sheet(content).iter_rows(min_row=2, values_only=True)} == {"KT-147"}


async def test_registers_export_with_the_search_applied(login, export_files):
    await build_world()
    admin = await login("admin")
    _, content = await export(admin, "announcements", q="dak kan")
    ws = sheet(content)
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in rows] == ["Xã Đăk Kan", "Xã Đắk Tờ Kan"]
    assert rows[0][3] == "12/QĐ-UBND" and rows[0][4] == datetime(2026, 3, 15)
    assert rows[0][7] == "/api/evidence/" + "ab" * 32
    iatoi = await unit_id("KT-147")
    await admin.post(
        "/api/registers/procedures", json={"unit_id": iatoi, "name": "Đăng ký khai sinh", "code": "1.001193"}
    )
    _, content = await export(admin, "procedures", "csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[1][:5] == ["KT-147", "Xã Ia Tơi", "UBND huyện Ia H'Drai", "1.001193", "Đăng ký khai sinh"]


async def test_the_audit_log_is_for_the_provinces_admin_only(login, export_files):
    admin = await login("admin")
    job, content = await export(admin, "audit", "csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["Thời điểm", "Tài khoản", "Thao tác", "Loại đối tượng", "Mã đối tượng", "Chi tiết"]
    assert any(r[1] == "admin" and r[2] == "login" for r in rows[1:])
    for who in ("huyen.iahdrai", "xa.iatoi"):
        r = await (await login(who)).post("/api/exports", json={"kind": "audit"})
        assert r.status_code == 403 and r.json()["message"] == PROBLEMS["forbidden"][2]


async def test_a_job_is_seen_by_its_owner_only_and_bad_requests_are_explained(login, anon, settings, export_files):
    admin, other = await login("admin"), await login("huyen.iahdrai")
    job, _ = await export(admin, "units", "csv")
    for method, path in (("GET", job["url"]), ("GET", job["url"] + "/file"), ("DELETE", job["url"])):
        r = await other.request(method, path)
        assert r.status_code == 404 and r.json()["message"] == PROBLEMS["export_not_found"][2]
        assert (await anon.request(method, path)).status_code == 401
    assert (await anon.post("/api/exports", json={"kind": "units"})).status_code == 401
    r = await admin.post("/api/exports", json={"kind": "secrets"})
    assert r.status_code == 422 and "secrets" in r.json()["message"]
    r = await admin.post("/api/exports", json={"kind": "units", "format": "pdf"})
    assert r.status_code == 422 and r.json()["message"] == PROBLEMS["export_format_unknown"][2]
    assert (await admin.post("/api/exports", json={"kind": "units", "filters": {"x": 1}})).status_code == 422
    assert (await admin.get("/api/exports/../../etc")).status_code == 404
    assert (await admin.get("/api/exports/short")).status_code == 404
    # The owner removes the file; it is gone for good.
    assert (await admin.delete(job["url"])).status_code == 204
    assert (await admin.get(job["url"])).status_code == 404
    assert not list(exports.export_dir(settings).glob(job["id"] + ".*"))


async def test_old_export_files_are_purged(login, settings, export_files):
    admin = await login("admin")
    job, _ = await export(admin, "units", "csv")
    assert list(exports.export_dir(settings).glob(job["id"] + ".*"))
    exports.purge_old(settings, now=time.time() + exports.KEEP_SECONDS + 1)
    assert not list(exports.export_dir(settings).glob(job["id"] + ".*"))
    assert (await admin.get(job["url"])).status_code == 404


async def test_a_large_export_reports_progress_and_finishes(login, export_files):
    """About 6,000 answers: polled while written, the rows done climb from below the total to it."""
    uid, tid = await unit_id("KT-147"), await template_id("monthly_report")
    checklists = [
        Checklist(
            id=str(uuid.uuid4()),
            unit_id=uid,
            template_id=tid,
            period=f"{2000 + i // 12}-{i % 12 + 1:02d}",
            status="approved",
            created_ms=1,
            updated_ms=1,
        )
        for i in range(300)
    ]
    await Checklist.bulk_create(checklists)
    keys = [f"k{j:02d}" for j in range(20)]
    answers = [
        Answer(checklist_id=c.id, item_key=k, value=json.dumps(f"Ghi chú số {j} của Xã Ia Tơi"), updated_ms=1)
        for c in checklists
        for j, k in enumerate(keys)
    ]
    await Answer.bulk_create(answers, batch_size=2000)
    admin = await login("admin")
    r = await admin.post("/api/exports", json={"kind": "checklists", "format": "xlsx"})
    assert r.status_code == 202
    job = r.json()
    assert job["total"] == 6000 and job["status"] == "running"
    # A second export while the first runs is refused (one at a time per person).
    busy = await admin.post("/api/exports", json={"kind": "units"})
    assert busy.status_code in (202, 429)
    if busy.status_code == 202:
        await finish(admin, busy.json())
    seen: list[int] = []
    job = await finish(admin, job, seen)
    assert job["status"] == "done" and job["done"] == 6000
    assert any(0 < n < 6000 for n in seen), seen
    assert seen == sorted(seen)
    r = await admin.get(job["file_url"])
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    assert sum(1 for _ in wb.active.iter_rows()) == 6001
    wb.close()


async def test_the_exports_pages_start_a_job_and_show_it(login, anon, export_files):
    admin = await login("admin")
    page = (await admin.get("/exports")).text
    assert "Nhật ký hệ thống" in page and "Phiếu và câu trả lời" in page
    reviewer = await login("huyen.iahdrai")
    assert "Nhật ký hệ thống" not in (await reviewer.get("/exports")).text
    r = await admin.post("/exports", data={"kind": "units", "format": "csv"})
    assert r.status_code == 303 and r.headers["location"].startswith("/exports/")
    job_id = r.headers["location"].rsplit("/", 1)[1]
    await finish(admin, {"url": f"/api/exports/{job_id}"})
    page = (await admin.get(r.headers["location"])).text
    assert "Danh sách đơn vị (CSV)" in page and f"/api/exports/{job_id}/file" in page and "/static/exports.js" in page
    assert (await reviewer.get(r.headers["location"])).status_code == 404
    r = await admin.post("/exports", data={"kind": "units", "format": "doc"})
    assert r.status_code == 422 and PROBLEMS["export_format_unknown"][2] in r.text
    assert (await reviewer.post("/exports", data={"kind": "audit", "format": "csv"})).status_code == 403
    for path in ("/exports", f"/exports/{job_id}"):
        r = await anon.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
