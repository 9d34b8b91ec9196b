"""Importing a province's new list of units (CSV or XLSX): a preview of what changes, then all of it in
one transaction.

The file is the whole new list of the admin's subtree, one unit a row, with the columns `code`, `name`,
`kind`, `parent_code` and, for a unit that is merged away, `merged_into` (Vietnamese headers work too:
"Mã", "Tên", "Loại", "Mã đơn vị cấp trên", "Sáp nhập vào"). Compared with the tree today:

- a code not in the tree is created below its parent;
- a known code with another name is renamed, with another parent moved, with another kind re-kinded;
- a known code with `merged_into` is merged into that unit (`unit_changes.merge_unit`: its history and
  checklists stay, it becomes an inactive child of the unit it joins, its accounts move there);
- an active unit of the subtree that the file does not list is retired (inactive, history kept).

Nothing is deleted. The preview's digest names exactly these actions: applying checks that the tree
still gives the same ones, so what the admin saw is what is done (`unit_import_stale` otherwise).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from .. import auth
from ..errors import ApiError, problem
from ..models import AuditLog, Unit, UnitHistory, User
from ..textfold import fold_diacritics
from . import admin_units
from .unit_changes import create_unit, merge_unit, move_unit, rename_unit, retire_unit

MAX_ROWS = 5000
MAX_ERRORS = 50
# Column -> the headers that name it, folded (lower case, no diacritics).
HEADERS = {
    "code": ("code", "ma", "ma don vi"),
    "name": ("name", "ten", "ten don vi"),
    "kind": ("kind", "loai", "loai don vi"),
    "parent_code": ("parent_code", "ma cap tren", "ma don vi cap tren", "cap tren"),
    "merged_into": ("merged_into", "sap nhap vao", "ma don vi sap nhap vao"),
}
REQUIRED = ("code", "name", "kind", "parent_code")
ACTION_ORDER = ("create", "rename", "kind", "move", "merge", "retire")


@dataclass
class Row:
    number: int  # the row in the file, the header being row 1
    code: str
    name: str
    kind: str
    parent_code: str
    merged_into: str


@dataclass
class Action:
    kind: str  # one of ACTION_ORDER
    code: str
    name: str
    row: int | None  # the file's row; None for a retirement (the file does not list the unit)
    old: str = ""  # what it was: old name, old kind, old parent's code
    new: str = ""  # what it becomes: new name, kind, parent's or merging unit's code
    unit_kind: str = ""  # a new unit's kind

    def key(self) -> list:
        return [self.kind, self.code, self.old, self.new, self.unit_kind]


@dataclass
class Plan:
    actions: list[Action]
    rows: int
    warnings: list[str] = field(default_factory=list)

    @property
    def digest(self) -> str:
        data = json.dumps([a.key() for a in self.actions], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(data.encode()).hexdigest()[:32]

    def of(self, kind: str) -> list[Action]:
        return [a for a in self.actions if a.kind == kind]

    def counts(self) -> dict[str, int]:
        return {k: len(self.of(k)) for k in ACTION_ORDER}


# ------------------------------------------------------------------------------------------ reading


def _cells_of_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise problem("unit_import_unreadable", detail="tệp CSV phải được lưu với bảng mã UTF-8.") from None
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    return [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _cells_of_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # only an import needs it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise problem("unit_import_unreadable", detail="tệp XLSX bị hỏng hoặc không phải bảng tính Excel.") from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append(["" if v is None else str(v).strip() for v in values])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        book.close()


def read_rows(data: bytes) -> list[Row]:
    """The file's rows, by column name. A file that is not a list of units is refused in Vietnamese."""
    if not data.strip():
        raise problem("unit_import_unreadable", detail="tệp rỗng.")
    cells = _cells_of_xlsx(data) if data[:4] == b"PK\x03\x04" else _cells_of_csv(data)
    cells = [r for r in cells if any(str(c).strip() for c in r)]
    if not cells:
        raise problem("unit_import_unreadable", detail="tệp rỗng.")
    if len(cells) > MAX_ROWS + 1:
        raise problem("unit_import_unreadable", detail=f"tệp có quá {MAX_ROWS} dòng.")
    header = [fold_diacritics(str(h)) for h in cells[0]]
    where: dict[str, int] = {}
    for column, names in HEADERS.items():
        for i, h in enumerate(header):
            if h in names:
                where[column] = i
                break
    missing = [c for c in REQUIRED if c not in where]
    if missing:
        raise problem(
            "unit_import_unreadable",
            detail="dòng 1 phải là dòng tiêu đề với các cột code, name, kind, parent_code (tuỳ chọn merged_into); "
            f"thiếu cột {', '.join(missing)}.",
        )

    def cell(r: list[str], column: str) -> str:
        i = where.get(column)
        return " ".join(str(r[i]).split()) if i is not None and i < len(r) else ""

    return [
        Row(n, cell(r, "code"), cell(r, "name"), cell(r, "kind"), cell(r, "parent_code"), cell(r, "merged_into"))
        for n, r in enumerate(cells[1:], start=2)
    ]


# ------------------------------------------------------------------------------------------ planning


class _Errors:
    def __init__(self) -> None:
        self.found: list[dict] = []

    def add(self, row: int, message: str) -> None:
        self.found.append({"row": row, "message": message})

    def check(self, row: int, fn, value: str) -> str:
        try:
            return fn(value)
        except ApiError as exc:
            self.add(row, exc.message)
            return value

    def raise_any(self) -> None:
        if self.found:
            self.found.sort(key=lambda e: e["row"])
            first = self.found[0]
            raise problem(
                "unit_import_invalid",
                count=len(self.found),
                row=first["row"],
                first=first["message"],
                errors=self.found[:MAX_ERRORS],
            )


async def plan_of(actor: User, data: bytes) -> Plan:
    """What applying the file would do, or `unit_import_invalid` listing each bad row."""
    admin_units.require_province_admin(actor)
    rows = read_rows(data)
    root: Unit = actor.unit
    scope = await auth.scope_unit_ids(actor)
    units = {u.code: u for u in await Unit.filter(id__in=scope)}
    by_id = {u.id: u for u in units.values()}
    elsewhere = set(await Unit.exclude(id__in=scope).values_list("code", flat=True))
    errors = _Errors()

    listed: dict[str, Row] = {}
    for r in rows:
        r.code = errors.check(r.number, admin_units.check_code, r.code)
        r.name = errors.check(r.number, admin_units.check_name, r.name)
        r.kind = errors.check(r.number, admin_units.check_kind, r.kind)
        if r.code in listed:
            errors.add(r.number, f"mã {r.code} đã có ở dòng {listed[r.code].number}.")
            continue
        if r.code in elsewhere:
            errors.add(r.number, f"mã {r.code} đã dùng cho một đơn vị ngoài phạm vi của bạn.")
        known = units.get(r.code)
        already_merged = (
            known is not None and r.merged_into in units and known.merged_into_id == units[r.merged_into].id  # type: ignore[attr-defined]
        )
        if known is not None and not known.active and not already_merged:
            errors.add(r.number, f"đơn vị {r.code} đã ngừng hoạt động, không thể đưa lại vào danh sách.")
        listed[r.code] = r
    kept = {c: r for c, r in listed.items() if not r.merged_into}
    for r in listed.values():
        if r.merged_into:
            if r.code not in units:
                errors.add(r.number, f"đơn vị mới {r.code} không thể sáp nhập vào đơn vị khác.")
            elif r.merged_into == r.code or r.merged_into not in kept:
                errors.add(r.number, f"đơn vị sáp nhập vào ({r.merged_into}) phải là một đơn vị còn lại trong tệp.")
            elif r.code == root.code:
                errors.add(r.number, "không thể sáp nhập đơn vị gốc.")
        elif r.code == root.code:
            if r.parent_code:
                errors.add(r.number, f"đơn vị gốc {root.code} không có đơn vị cấp trên trong tệp này.")
        elif not r.parent_code:
            errors.add(r.number, "thiếu mã đơn vị cấp trên.")
        elif r.parent_code not in kept and r.parent_code != root.code:
            errors.add(r.number, f"đơn vị cấp trên {r.parent_code} không có trong tệp hoặc bị sáp nhập.")
    errors.raise_any()

    # The new tree must have no loop (A under B under A).
    for r in kept.values():
        seen, code = set(), r.code
        while code in kept and code != root.code and code not in seen:
            seen.add(code)
            code = kept[code].parent_code
        if code in seen:
            errors.add(r.number, f"đơn vị {r.code} nằm dưới chính nó (vòng lặp qua mã đơn vị cấp trên).")
    errors.raise_any()

    def depth(code: str) -> int:
        d = 0
        while code in kept and code != root.code:
            code, d = kept[code].parent_code, d + 1
        return d

    actions: list[Action] = []
    for r in sorted(kept.values(), key=lambda r: (depth(r.code), r.number)):
        known = units.get(r.code)
        if known is None:
            actions.append(Action("create", r.code, r.name, r.number, "", r.parent_code, r.kind))
            continue
        if known.name != r.name:
            actions.append(Action("rename", r.code, r.name, r.number, known.name, r.name))
        if known.kind != r.kind:
            actions.append(Action("kind", r.code, r.name, r.number, known.kind, r.kind))
        old_parent = by_id[known.parent_id].code if known.parent_id in by_id else ""  # type: ignore[attr-defined]
        if r.code != root.code and old_parent != r.parent_code:
            actions.append(Action("move", r.code, r.name, r.number, old_parent, r.parent_code))
    for r in listed.values():
        if r.merged_into and units[r.code].active:
            actions.append(Action("merge", r.code, units[r.code].name, r.number, "", r.merged_into))
    gone = [u for u in units.values() if u.active and u.code not in listed and u.id != root.id]
    for u in sorted(gone, key=lambda u: (-u.level, u.code)):
        actions.append(Action("retire", u.code, u.name, None))
    plan = Plan(actions, len(rows))
    retiring = {units[a.code].id: a for a in plan.of("retire")}
    if retiring:
        for uid in await User.filter(unit_id__in=list(retiring), active=True).values_list("unit_id", flat=True):
            a = retiring[uid]
            plan.warnings.append(f"Đơn vị {a.name} ({a.code}) sẽ ngừng hoạt động nhưng còn tài khoản đang hoạt động.")
        plan.warnings = sorted(set(plan.warnings))
    return plan


async def apply(actor: User, data: bytes, digest: str) -> Plan:
    """Apply the file in one transaction, if its plan is still the one previewed (`digest`)."""
    plan = await plan_of(actor, data)
    if plan.digest != digest:
        raise problem("unit_import_stale", field="digest")
    by = actor.username
    async with in_transaction():
        for a in plan.actions:
            unit = await Unit.get_or_none(code=a.code)
            if a.kind == "create":
                await create_unit(await Unit.get(code=a.new), a.code, a.name, a.unit_kind, by)
            elif a.kind == "rename":
                await rename_unit(unit, a.new, by)
            elif a.kind == "kind":
                await Unit.filter(id=unit.id).update(kind=a.new)
                await UnitHistory.create(
                    unit=unit, change="kind", old={"kind": a.old}, new={"kind": a.new}, by_username=by
                )
                await AuditLog.create(
                    username=by, action="unit.kind", object_type="unit", object_id=str(unit.id), detail=a.key()
                )
            elif a.kind == "move":
                await move_unit(unit, await Unit.get(code=a.new), by)
            elif a.kind == "merge":
                await merge_unit(unit, await Unit.get(code=a.new), by)
            elif a.kind == "retire":
                await retire_unit(unit, by)
        await AuditLog.create(
            username=by,
            action="unit.import",
            object_type="unit",
            object_id=str(actor.unit.id),
            detail={"digest": plan.digest, "rows": plan.rows, **plan.counts()},
        )
    return plan
