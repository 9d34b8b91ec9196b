"""The province's registers: every unit's announcement decision, and the administrative procedures (TTHC)
each unit has brought into its quality system. Both are read within the caller's scope (the province sees
every unit, a district reviewer its subtree) and searched ignoring diacritics ("dak kan" finds Đăk Kan).

Announcement decisions are not typed in twice: they are read from the approved checklists that record
one (roll-out step 12, the 2008→2015 conversion, the annual report, the self-assessment). When several
approved checklists of a unit record one, the most recently approved wins, and the register names it.

The procedures are a list the unit keeps on the server (`Procedure`): the templates only count them.
Officials of the unit and admins above it add and remove entries; a removed entry stays as a row with
who removed it and when, and each change is in the audit log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sync.models import Answer, Checklist
from sync.vocabulary import EDITORS

from .. import auth
from ..errors import problem
from ..models import AuditLog, Procedure, Template, Unit, User
from ..textfold import fold_diacritics
from .tabular import Column
from .units import matches_word_starts

__all__ = [
    "ANNOUNCEMENT_COLUMNS",
    "ANNOUNCEMENT_SOURCES",
    "PROCEDURE_COLUMNS",
    "Announcement",
    "add_procedure",
    "announcement_rows",
    "announcements",
    "procedure_rows",
    "procedures",
    "remove_procedure",
]


@dataclass(frozen=True)
class AnnouncementSource:
    """Where a template records an announcement decision, and what such a decision covers."""

    number_key: str | None
    date_key: str
    file_key: str | None
    tthc_key: str | None  # the count of procedures in the system the same checklist gives
    scope: str


ANNOUNCEMENT_SOURCES: dict[str, AnnouncementSource] = {
    "rollout": AnnouncementSource(
        "s12_announcement_number",
        "s12_announcement_date",
        "s12_announcement_photo",
        "s06_tthc_in_system",
        "Công bố Hệ thống ISO điện tử phù hợp TCVN ISO 9001:2015",
    ),
    "conversion": AnnouncementSource(
        "announcement_number",
        "announcement_date",
        "announcement_photo",
        None,
        "Công bố HTQLCL phù hợp TCVN ISO 9001:2015 (chuyển đổi từ ISO 9001:2008)",
    ),
    "annual_report": AnnouncementSource(
        "announcement_number",
        "announcement_date",
        None,
        "tthc_in_system",
        "Quyết định công bố HTQLCL phù hợp TCVN ISO 9001:2015 đang có hiệu lực (báo cáo năm)",
    ),
    "self_assessment": AnnouncementSource(
        None,
        "x_announcement_date",
        "x_announcement_photo",
        "x_tthc_in_system",
        "Công bố hoặc công bố lại HTQLCL gần nhất (tự đánh giá)",
    ),
}


@dataclass
class Announcement:
    unit_id: int
    unit_code: str
    unit_name: str
    parent_name: str
    number: str
    decided_on: date | None
    scope: str
    tthc_in_system: int | None
    files: list[dict] = field(default_factory=list)  # {"name", "sha256", "url"}
    checklist_id: str = ""
    template_code: str = ""
    template_title: str = ""
    period: str = ""
    approved_at: datetime | None = None
    approved_by: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "unit": {"id": self.unit_id, "code": self.unit_code, "name": self.unit_name, "parent": self.parent_name},
            "number": self.number,
            "date": self.decided_on.isoformat() if self.decided_on else None,
            "scope": self.scope,
            "tthc_in_system": self.tthc_in_system,
            "files": self.files,
            "source": {
                "checklist_id": self.checklist_id,
                "template": self.template_code,
                "template_title": self.template_title,
                "period": self.period,
                "approved_at": self.approved_at.isoformat() if self.approved_at else None,
                "approved_by": self.approved_by,
            },
        }


def _value(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _date(value: Any) -> date | None:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _files(value: Any) -> list[dict]:
    if not isinstance(value, list):
        return []
    found = []
    for v in value:
        if isinstance(v, dict) and isinstance(v.get("sha256"), str):
            sha = v["sha256"]
            found.append({"name": str(v.get("name") or sha[:12]), "sha256": sha, "url": f"/api/evidence/{sha}"})
    return found


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def _units(ids: Iterable[int]) -> tuple[dict[int, Unit], dict[int, str]]:
    """The units by id, and each one's parent name (the district a commune belongs to)."""
    units = {u.id: u for u in await Unit.filter(id__in=list(ids))}
    parent_ids = {u.parent_id for u in units.values() if u.parent_id}  # type: ignore[attr-defined]
    parents = dict(await Unit.filter(id__in=list(parent_ids)).values_list("id", "name")) if parent_ids else {}
    return units, {uid: parents.get(u.parent_id, "") for uid, u in units.items()}  # type: ignore[attr-defined]


def _matches(words: list[str], *texts: str) -> bool:
    return not words or matches_word_starts(fold_diacritics(" ".join(texts)), words)


async def announcements(user: User, q: str = "") -> tuple[list[Announcement], int]:
    """The announcement decision of every unit in scope that has one, the latest approved first in
    tree order, filtered by `q` (unit, district, decision number); and how many units are in scope."""
    scope = await auth.scope_unit_ids(user)
    templates = {
        t.id: t for t in await Template.filter(code__in=list(ANNOUNCEMENT_SOURCES)).only("id", "code", "title")
    }
    checklists = await Checklist.filter(
        status="approved", unit_id__in=list(scope), template_id__in=list(templates)
    ).order_by("-status_ms", "-updated_ms")
    keys = {k for s in ANNOUNCEMENT_SOURCES.values() for k in (s.number_key, s.date_key, s.file_key, s.tthc_key) if k}
    answers: dict[str, dict[str, Any]] = {}
    ids = [c.id for c in checklists]
    for start in range(0, len(ids), 500):
        for cid, key, raw in await Answer.filter(
            checklist_id__in=ids[start : start + 500], item_key__in=list(keys)
        ).values_list("checklist_id", "item_key", "value"):
            answers.setdefault(cid, {})[key] = _value(raw)

    chosen: dict[int, tuple[Checklist, AnnouncementSource, dict[str, Any]]] = {}
    for c in checklists:  # the latest approved first: the first one found for a unit wins
        unit_id = c.unit_id  # type: ignore[attr-defined]
        if unit_id in chosen:
            continue
        template = templates[c.template_id]  # type: ignore[attr-defined]
        source = ANNOUNCEMENT_SOURCES[template.code]
        values = answers.get(c.id, {})
        number = values.get(source.number_key) if source.number_key else None
        decided_on = _date(values.get(source.date_key))
        if not (isinstance(number, str) and number.strip()) and decided_on is None:
            continue  # approved, but it records no decision (not announced yet)
        chosen[unit_id] = (c, source, values)

    units, parents = await _units(chosen)
    words = fold_diacritics(q).split()
    found = []
    for unit_id, (c, source, values) in chosen.items():
        unit, template = units[unit_id], templates[c.template_id]  # type: ignore[attr-defined]
        number = values.get(source.number_key) if source.number_key else None
        a = Announcement(
            unit_id=unit_id,
            unit_code=unit.code,
            unit_name=unit.name,
            parent_name=parents[unit_id],
            number=number.strip() if isinstance(number, str) else "",
            decided_on=_date(values.get(source.date_key)),
            scope=f"{unit.name}: {source.scope}",
            tthc_in_system=_count(values.get(source.tthc_key)) if source.tthc_key else None,
            files=_files(values.get(source.file_key)) if source.file_key else [],
            checklist_id=c.id,
            template_code=template.code,
            template_title=template.title,
            period=c.period,
            approved_at=datetime.fromtimestamp(c.status_ms / 1000, tz=UTC) if c.status_ms else None,
            approved_by=c.status_by,
        )
        if _matches(words, a.unit_name, a.parent_name, a.number, unit.source_name):
            found.append((unit.level, unit.annex_no or 0, unit.id, a))
    found.sort(key=lambda t: t[:3])
    return [t[3] for t in found], len(scope)


ANNOUNCEMENT_COLUMNS = [
    Column("unit_code", "Mã đơn vị"),
    Column("unit_name", "Đơn vị"),
    Column("parent_name", "Trực thuộc"),
    Column("number", "Số, ký hiệu quyết định"),
    Column("date", "Ngày ký", "date"),
    Column("scope", "Phạm vi công bố"),
    Column("tthc_in_system", "Số TTHC trong hệ thống", "number"),
    Column("files", "Tệp quyết định", "link"),
    Column("template", "Lấy từ phiếu"),
    Column("period", "Kỳ"),
    Column("approved_at", "Duyệt lúc", "datetime"),
    Column("approved_by", "Người duyệt"),
]


def announcement_rows(items: list[Announcement], base_url: str = "") -> Iterable[tuple]:
    from ..catalogue import period_label

    for a in items:
        yield (
            a.unit_code,
            a.unit_name,
            a.parent_name,
            a.number,
            a.decided_on,
            a.scope,
            a.tthc_in_system,
            "\n".join(base_url + f["url"] for f in a.files),
            a.template_title,
            period_label(a.period),
            a.approved_at,
            a.approved_by,
        )


# --- the procedures each unit brought into its system ---


@dataclass
class ProcedureRow:
    procedure: Procedure
    unit: Unit
    parent_name: str

    def as_json(self) -> dict[str, Any]:
        p = self.procedure
        return {
            "id": p.id,
            "unit": {"id": self.unit.id, "code": self.unit.code, "name": self.unit.name, "parent": self.parent_name},
            "code": p.code,
            "name": p.name,
            "field": p.field,
            "in_system_on": p.in_system_on.isoformat() if p.in_system_on else None,
            "note": p.note,
            "created_by": p.created_by,
            "created_at": p.created_at.isoformat() if p.created_at else None,
        }


async def procedures(user: User, q: str = "", unit_id: int | None = None) -> list[ProcedureRow]:
    """The procedures listed (and not removed) by units in scope, tree order then code, filtered by `q`
    (procedure name or code, field, unit, district) and optionally by one unit in scope."""
    scope = await auth.scope_unit_ids(user)
    if unit_id is not None:
        if unit_id not in scope:
            raise problem("unit_not_found", field="unit_id")
        scope = {unit_id}
    rows = await Procedure.filter(unit_id__in=list(scope), removed_at=None).order_by("unit_id", "code", "id")
    units, parents = await _units({p.unit_id for p in rows})  # type: ignore[attr-defined]
    words = fold_diacritics(q).split()
    found = []
    for p in rows:
        unit = units[p.unit_id]  # type: ignore[attr-defined]
        if _matches(words, p.name, p.code, p.field, unit.name, parents[unit.id], unit.source_name):
            found.append(ProcedureRow(p, unit, parents[unit.id]))
    found.sort(key=lambda r: (r.unit.level, r.unit.annex_no or 0, r.unit.id, r.procedure.code, r.procedure.id))
    return found


async def editable_units(user: User) -> list[Unit]:
    """The units whose list this user may change: officials their own unit(s), admins their subtree."""
    if user.role not in EDITORS:
        return []
    scope = await auth.scope_unit_ids(user)
    return list(await Unit.filter(id__in=list(scope), active=True).order_by("level", "annex_no", "id"))


async def _require_editor(user: User, unit_id: int) -> Unit:
    if user.role not in EDITORS:
        raise problem("forbidden")
    if not await auth.unit_in_scope(user, unit_id):
        raise problem("unit_not_found", field="unit_id")
    return await Unit.get(id=unit_id)


async def add_procedure(
    user: User,
    unit_id: int,
    name: str,
    code: str = "",
    field: str = "",
    in_system_on: str | None = None,
    note: str = "",
) -> Procedure:
    """List a procedure for a unit in scope; the same code twice in one unit is refused."""
    unit = await _require_editor(user, unit_id)
    name, code, field, note = name.strip(), code.strip(), field.strip(), note.strip()
    if not name:
        raise problem("procedure_name_missing", field="name")
    when = None
    if in_system_on:
        try:
            when = date.fromisoformat(in_system_on)
        except ValueError:
            raise problem("procedure_date_invalid", field="in_system_on") from None
    same = Procedure.filter(unit_id=unit.id, removed_at=None)
    if code and await same.filter(code=code).exists():
        raise problem("procedure_exists", field="code", code=code)
    if not code and await same.filter(name_folded=fold_diacritics(name)).exists():
        raise problem("procedure_exists", field="name", code=name)
    p = await Procedure.create(
        unit=unit,
        code=code,
        name=name,
        name_folded=fold_diacritics(name),
        field=field,
        in_system_on=when,
        note=note,
        created_by=user.username,
    )
    await AuditLog.create(
        username=user.username,
        action="procedure.add",
        object_type="procedure",
        object_id=str(p.id),
        detail={"unit": unit.code, "code": code, "name": name},
    )
    return p


async def remove_procedure(user: User, procedure_id: int) -> Procedure:
    """Take a procedure off its unit's list (the row stays, marked removed)."""
    p = await Procedure.get_or_none(id=procedure_id, removed_at=None)
    if p is None or not await auth.unit_in_scope(user, p.unit_id):  # type: ignore[attr-defined]
        raise problem("procedure_not_found")
    await _require_editor(user, p.unit_id)  # type: ignore[attr-defined]
    p.removed_at, p.removed_by = datetime.now(UTC), user.username
    await p.save(update_fields=["removed_at", "removed_by"])
    await AuditLog.create(
        username=user.username,
        action="procedure.remove",
        object_type="procedure",
        object_id=str(p.id),
        detail={"code": p.code, "name": p.name},
    )
    return p


PROCEDURE_COLUMNS = [
    Column("unit_code", "Mã đơn vị"),
    Column("unit_name", "Đơn vị"),
    Column("parent_name", "Trực thuộc"),
    Column("code", "Mã TTHC"),
    Column("name", "Tên thủ tục hành chính"),
    Column("field", "Lĩnh vực"),
    Column("in_system_on", "Đưa vào hệ thống ngày", "date"),
    Column("note", "Ghi chú"),
    Column("created_by", "Người nhập"),
    Column("created_at", "Nhập lúc", "datetime"),
]


def procedure_rows(items: list[ProcedureRow]) -> Iterable[tuple]:
    for r in items:
        p = r.procedure
        yield (
            r.unit.code,
            r.unit.name,
            r.parent_name,
            p.code,
            p.name,
            p.field,
            p.in_system_on,
            p.note,
            p.created_by,
            p.created_at,
        )
