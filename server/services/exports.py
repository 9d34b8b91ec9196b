"""Exports as CSV or XLSX: units, checklists with their answers, the audit log, and the two registers.

An export is a job: the rows are read from the database in pages and handed to a writer thread through a
small bounded queue, so neither the rows nor the file are held whole in memory, and the server keeps
answering while a large sheet is written. The job's state (rows done out of the total) lives in a small
JSON file beside the output in one folder (EISO_EXPORT_DIR), so any server process that sees the folder
can answer the progress poll and serve the file. Files older than `KEEP_SECONDS` are removed whenever a
job starts or is read; the owner may remove theirs at once. Only the user who started a job sees it (anyone else gets
`export_not_found`), and every kind reads only the caller's scope; the audit log only for an admin of a
top unit (it is not kept per unit).
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sync.models import Answer, Checklist
from sync.periods import VN
from sync.vocabulary import AUDITORS

from .. import auth
from ..catalogue import CHECKLIST_STATUS_LABELS, CHOICE_LABELS, QMS_STATUS_LABELS, UNIT_KIND_LABELS, period_label
from ..config import Settings
from ..errors import problem
from ..models import AuditLog, Template, TemplateItem, Unit, User
from . import registers
from .tabular import Column, write_csv, write_xlsx

__all__ = ["EXPORT_KINDS", "FORMATS", "discard", "export_dir", "file_of", "job_of", "start_export"]

FORMATS = ("csv", "xlsx")
KEEP_SECONDS = 3600  # a finished file is kept an hour
STALE_SECONDS = 600  # a job not heard of for this long is taken as dead (its process stopped)
PAGE = 1000
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

# kind -> (title of the sheet and of the page, file name without date)
EXPORT_KINDS: dict[str, tuple[str, str]] = {
    "units": ("Danh sách đơn vị", "don-vi"),
    "checklists": ("Phiếu và câu trả lời", "phieu-va-tra-loi"),
    "audit": ("Nhật ký hệ thống", "nhat-ky-he-thong"),
    "announcements": ("Sổ quyết định công bố", "quyet-dinh-cong-bo"),
    "procedures": ("Sổ thủ tục hành chính", "thu-tuc-hanh-chinh"),
}

_tasks: set[asyncio.Task] = set()  # running jobs, kept so they are not garbage-collected mid-way


def export_dir(settings: Settings) -> Path:
    """The folder of the jobs' state files and finished files (EISO_EXPORT_DIR), made on first use."""
    path = Path(settings.export_dir)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _write_state(folder: Path, state: dict) -> None:
    """Replace the state file in one step, so a reader never sees half of it."""
    state["heard"] = time.time()
    tmp = folder / f"{state['id']}.tmp"
    tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / f"{state['id']}.json")


def _read_state(folder: Path, job_id: str) -> dict | None:
    if not _ID.match(job_id):
        return None
    try:
        return json.loads((folder / f"{job_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _remove(folder: Path, job_id: str) -> None:
    for path in folder.glob(f"{job_id}.*"):
        path.unlink(missing_ok=True)


def purge_old(settings: Settings, now: float | None = None) -> int:
    """Remove the files of jobs finished (or dead) longer ago than KEEP_SECONDS. Returns how many jobs."""
    return _purge(export_dir(settings), now)


def _purge(folder: Path, now: float | None = None) -> int:
    now = now or time.time()
    removed = 0
    for path in folder.glob("*.json"):
        try:
            heard = json.loads(path.read_text(encoding="utf-8")).get("heard", 0)
        except (OSError, ValueError):
            heard = 0
        if now - heard > KEEP_SECONDS:
            _remove(folder, path.stem)
            removed += 1
    return removed


def _public(state: dict) -> dict:
    """What the owner is told of a job."""
    return {
        "id": state["id"],
        "kind": state["kind"],
        "title": EXPORT_KINDS[state["kind"]][0],
        "format": state["format"],
        "status": state["status"],
        "done": state["done"],
        "total": state["total"],
        "filename": state["filename"],
        "started": state["started"],
        "finished": state.get("finished"),
        "url": f"/api/exports/{state['id']}",
        "file_url": f"/api/exports/{state['id']}/file" if state["status"] == "done" else None,
    }


async def job_of(settings: Settings, user: User, job_id: str) -> dict:
    """The caller's job, or `export_not_found` (whoever else's it is)."""
    folder = export_dir(settings)
    _purge(folder)
    state = _read_state(folder, job_id)
    if state is None or state["owner"] != user.id:
        raise problem("export_not_found")
    if state["status"] == "running" and time.time() - state["heard"] > STALE_SECONDS:
        state.update(status="failed", error="stale")
        _write_state(folder, state)
    return _public(state)


async def file_of(settings: Settings, user: User, job_id: str) -> tuple[Path, str, str]:
    """The finished file of the caller's job: its path, its download name and its media type."""
    job = await job_of(settings, user, job_id)
    if job["status"] != "done":
        raise problem("export_not_ready")
    path = export_dir(settings) / f"{job_id}.{job['format']}"
    if not path.exists():
        raise problem("export_not_found")
    media = (
        "text/csv; charset=utf-8"
        if job["format"] == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return path, job["filename"], media


async def discard(settings: Settings, user: User, job_id: str) -> None:
    await job_of(settings, user, job_id)
    _remove(export_dir(settings), job_id)


async def _check_rights(user: User, kind: str) -> None:
    if kind == "audit":
        # The audit log is not kept per unit: only an admin of a top unit (the whole province) reads it.
        if user.role not in AUDITORS or user.unit.parent_id is not None:  # type: ignore[attr-defined]
            raise problem("forbidden")


async def start_export(
    settings: Settings, user: User, kind: str, fmt: str, filters: dict[str, str] | None = None
) -> dict:
    """Start an export of `kind` as `fmt` within the caller's scope; returns the job as `job_of` does."""
    if kind not in EXPORT_KINDS:
        raise problem("export_kind_unknown", field="kind", kind=kind)
    if fmt not in FORMATS:
        raise problem("export_format_unknown", field="format")
    await user.fetch_related("unit")
    await _check_rights(user, kind)
    folder = export_dir(settings)
    _purge(folder)
    for path in folder.glob("*.json"):
        other = _read_state(folder, path.stem)
        if other and other["owner"] == user.id and other["status"] == "running":
            if time.time() - other["heard"] <= STALE_SECONDS:
                raise problem("export_busy")
    filters = filters or {}
    columns, total, batches = await _source(user, kind, filters)
    job_id = secrets.token_urlsafe(18)
    stamp = datetime.now(UTC).astimezone(VN).strftime("%Y-%m-%d-%H%M")
    state = {
        "id": job_id,
        "owner": user.id,
        "username": user.username,
        "kind": kind,
        "format": fmt,
        "status": "running",
        "done": 0,
        "total": total,
        "filename": f"{EXPORT_KINDS[kind][1]}-{stamp}.{fmt}",
        "started": datetime.now(UTC).isoformat(),
    }
    _write_state(folder, state)
    task = asyncio.create_task(_run(folder, state, columns, batches))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return _public(state)


async def _run(folder: Path, state: dict, columns: Sequence[Column], batches: AsyncIterator[list[tuple]]) -> None:
    """Feed the writer thread page by page; record progress and the outcome in the state file."""
    loop = asyncio.get_running_loop()
    pages: queue.Queue = queue.Queue(maxsize=4)
    path = folder / f"{state['id']}.{state['format']}"

    ended = False

    def rows():
        nonlocal ended
        while not ended:
            page = pages.get()
            if page is None:
                ended = True
                return
            yield from page

    def progress(n: int) -> None:
        state["done"] = n
        _write_state(folder, state)

    def write() -> int:
        try:
            writer: Callable[..., int] = write_xlsx if state["format"] == "xlsx" else write_csv
            extra = {"sheet_title": EXPORT_KINDS[state["kind"]][0]} if state["format"] == "xlsx" else {}
            return writer(path, columns, rows(), progress=progress, **extra)
        finally:
            for _ in rows():  # a failed writer still drains the queue, so the reader never blocks on it
                pass

    writing = loop.run_in_executor(None, write)
    failed = False
    try:
        async for page in batches:
            await loop.run_in_executor(None, pages.put, page)
    except Exception:  # noqa: BLE001 - the job records the failure; the owner sees "failed"
        failed = True
    finally:
        await loop.run_in_executor(None, pages.put, None)
    try:
        n = await writing
    except Exception:  # noqa: BLE001
        failed = True
        n = state["done"]
    state.update(
        status="failed" if failed else "done",
        done=n,
        total=max(state["total"], n) if not failed else state["total"],
        finished=datetime.now(UTC).isoformat(),
    )
    if failed:
        path.unlink(missing_ok=True)
    _write_state(folder, state)


# --- the sources: columns, a count for the progress bar, and the rows page by page ---


async def _source(user: User, kind: str, filters: dict[str, str]):
    if kind == "units":
        return await _units_source(user)
    if kind == "checklists":
        return await _checklists_source(user, filters)
    if kind == "audit":
        return await _audit_source()
    if kind == "announcements":
        items, _ = await registers.announcements(user, filters.get("q", ""))
        return registers.ANNOUNCEMENT_COLUMNS, len(items), _one_page(list(registers.announcement_rows(items)))
    items = await registers.procedures(user, filters.get("q", ""))
    return registers.PROCEDURE_COLUMNS, len(items), _one_page(list(registers.procedure_rows(items)))


async def _one_page(rows: list[tuple]) -> AsyncIterator[list[tuple]]:
    for start in range(0, len(rows), PAGE):
        yield rows[start : start + PAGE]


UNIT_COLUMNS = [
    Column("code", "Mã đơn vị"),
    Column("name", "Tên đơn vị"),
    Column("source_name", "Tên theo văn bản"),
    Column("kind", "Loại"),
    Column("level", "Cấp", "number"),
    Column("parent_code", "Mã đơn vị cấp trên"),
    Column("path", "Thuộc"),
    Column("target_year", "Năm phải hoàn thành", "number"),
    Column("qms_status", "Tình trạng HTQLCL (đã lưu)"),
    Column("qms_status_date", "Ngày của tình trạng", "date"),
    Column("qms_note", "Ghi chú tình trạng"),
    Column("annex_no", "Số thứ tự trong phụ lục", "number"),
    Column("active", "Còn hoạt động"),
    Column("merged_into", "Đã sáp nhập vào"),
]


async def _units_source(user: User):
    scope = await auth.scope_unit_ids(user)
    units = list(await Unit.filter(id__in=list(scope)).order_by("level", "annex_no", "id"))
    every = {u.id: u for u in await Unit.all().only("id", "code", "name", "parent_id")}

    def path_of(u: Unit) -> str:
        names, pid = [], u.parent_id  # type: ignore[attr-defined]
        while pid and pid in every and len(names) < 20:
            names.append(every[pid].name)
            pid = every[pid].parent_id  # type: ignore[attr-defined]
        return " › ".join(reversed(names))

    rows = [
        (
            u.code,
            u.name,
            u.source_name,
            UNIT_KIND_LABELS.get(u.kind, u.kind),
            u.level,
            every[u.parent_id].code if u.parent_id in every else "",  # type: ignore[attr-defined]
            path_of(u),
            u.target_year,
            QMS_STATUS_LABELS.get(u.qms_status, u.qms_status),
            u.qms_status_date,
            u.qms_note,
            u.annex_no,
            u.active,
            every[u.merged_into_id].code if u.merged_into_id in every else "",  # type: ignore[attr-defined]
        )
        for u in units
    ]
    return UNIT_COLUMNS, len(rows), _one_page(rows)


CHECKLIST_COLUMNS = [
    Column("unit_code", "Mã đơn vị"),
    Column("unit", "Đơn vị"),
    Column("template", "Mẫu phiếu"),
    Column("version", "Phiên bản mẫu", "number"),
    Column("period", "Kỳ"),
    Column("status", "Trạng thái"),
    Column("item_key", "Mã mục"),
    Column("label", "Nội dung mục"),
    Column("value", "Trả lời"),
    Column("note", "Ghi chú"),
    Column("by", "Người trả lời"),
    Column("at", "Thời điểm", "datetime"),
    Column("checklist_id", "Mã phiếu"),
]


def answer_cell(raw: str | None, item_type: str) -> Any:
    """An answer as a cell: choices in words, dates as dates, numbers as numbers, files by name."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    if item_type == "choice":
        return CHOICE_LABELS.get(value, str(value))
    if item_type == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if item_type == "evidence" and isinstance(value, list):
        return ", ".join(str(v.get("name") or v.get("sha256", "")[:12]) for v in value if isinstance(v, dict))
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return value
    return json.dumps(value, ensure_ascii=False)


async def _checklists_source(user: User, filters: dict[str, str]):
    scope = await auth.scope_unit_ids(user)
    qs = Checklist.filter(unit_id__in=list(scope))
    if filters.get("template"):
        qs = qs.filter(template__code=filters["template"])
    if filters.get("period"):
        qs = qs.filter(period=filters["period"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    ids = [c for c in await qs.values_list("id", flat=True)]
    total = 0
    for start in range(0, len(ids), 500):
        total += await Answer.filter(checklist_id__in=ids[start : start + 500]).count()
    return CHECKLIST_COLUMNS, total, _checklist_pages(ids)


async def _checklist_pages(ids: list[str]) -> AsyncIterator[list[tuple]]:
    units: dict[int, Unit] = {}
    templates: dict[int, Template] = {}
    items: dict[int, dict[str, TemplateItem]] = {}
    checklists = []
    for start in range(0, len(ids), 500):
        checklists += list(await Checklist.filter(id__in=ids[start : start + 500]))
    for uid_chunk in _chunks(list({c.unit_id for c in checklists}), 500):  # type: ignore[attr-defined]
        units.update({u.id: u for u in await Unit.filter(id__in=uid_chunk)})
    for t in await Template.filter(id__in=list({c.template_id for c in checklists})):  # type: ignore[attr-defined]
        templates[t.id] = t
        items[t.id] = {i.key: i for i in await TemplateItem.filter(template_id=t.id)}
    checklists.sort(
        key=lambda c: (
            units[c.unit_id].level,  # type: ignore[attr-defined]
            units[c.unit_id].annex_no or 0,  # type: ignore[attr-defined]
            c.unit_id,  # type: ignore[attr-defined]
            templates[c.template_id].code,  # type: ignore[attr-defined]
            c.period,
        )
    )
    page: list[tuple] = []
    for chunk in _chunks(checklists, 200):
        by_id = {c.id: c for c in chunk}
        order = {cid: i for i, cid in enumerate(by_id)}
        answers = await Answer.filter(checklist_id__in=list(by_id)).order_by("id")
        answers = sorted(answers, key=lambda a: order[a.checklist_id])  # type: ignore[attr-defined]
        for a in answers:
            c = by_id[a.checklist_id]  # type: ignore[attr-defined]
            unit, template = units[c.unit_id], templates[c.template_id]  # type: ignore[attr-defined]
            item = items[template.id].get(a.item_key)
            page.append(
                (
                    unit.code,
                    unit.name,
                    template.title,
                    template.version,
                    period_label(c.period),
                    CHECKLIST_STATUS_LABELS.get(c.status, c.status),
                    a.item_key,
                    item.label if item else "",
                    answer_cell(a.value, item.type if item else "text"),
                    a.note,
                    a.value_by,
                    datetime.fromtimestamp(a.value_ms / 1000, tz=UTC) if a.value_ms else None,
                    c.id,
                )
            )
            if len(page) >= PAGE:
                yield page
                page = []
    if page:
        yield page


def _chunks(seq: list, n: int):
    for start in range(0, len(seq), n):
        yield seq[start : start + n]


AUDIT_COLUMNS = [
    Column("at", "Thời điểm", "datetime"),
    Column("username", "Tài khoản"),
    Column("action", "Thao tác"),
    Column("object_type", "Loại đối tượng"),
    Column("object_id", "Mã đối tượng"),
    Column("detail", "Chi tiết"),
]


async def _audit_source():
    return AUDIT_COLUMNS, await AuditLog.all().count(), _audit_pages()


async def _audit_pages() -> AsyncIterator[list[tuple]]:
    last = 0
    while True:
        rows = await AuditLog.filter(id__gt=last).order_by("id").limit(PAGE)
        if not rows:
            return
        last = rows[-1].id
        yield [
            (
                r.at,
                r.username,
                r.action,
                r.object_type,
                r.object_id,
                json.dumps(r.detail, ensure_ascii=False) if r.detail is not None else "",
            )
            for r in rows
        ]
