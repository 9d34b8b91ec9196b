"""Idempotent loader for the Kon Tum seed: units, checklist templates, deadlines and (optionally) demo data.

Run inside an initialised Tortoise (the caller does `Tortoise.init`)::

    report = await load_seed(demo=True, demo_password="...")

Seeding twice changes nothing: units are upserted by code, templates by (code, version) and their items by key,
deadlines by code, demo users by username. Rows are only written when a seeded value differs, so `updated_at`
and the unit history stay still on a re-run.

The seed data is authoritative only for what it changed: a unit renamed or moved in the application after it was
seeded keeps its local value until the seed data itself changes that field (the last seeded values are read back
from the unit's history rows written by "seed").

The data files are read by `seed.read`, their oddities listed by `seed.anomalies` into `SeedReport.anomalies`,
and the demo accounts made by `seed.demo`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tortoise.transactions import in_transaction

from server.models import AuditLog, Deadline, Template, TemplateItem, Unit, UnitHistory
from server.textfold import fold_diacritics
from sync.models import Checklist

from .anomalies import analyse_units
from .demo import load_demo
from .read import UnitRow, read_annex_totals, read_deadlines, read_templates, read_units
from .report import SEED_USER, Progress, SeedReport

# ------------------------------------------------------------------------------------------------ units

_SNAPSHOT_FIELDS = ("name", "source_name", "parent_code", "kind", "level", "target_year", "annex_no")
# How a change of these fields is recorded in the unit's history.
_HISTORY_CHANGES = (
    ("rename", ("name", "source_name")),
    ("move", ("parent_code", "level")),
    ("update", ("kind", "target_year", "annex_no")),
)


def _snapshot(row: UnitRow, level: int) -> dict[str, Any]:
    return {
        "name": row.name,
        "source_name": row.source_name,
        "parent_code": row.parent_code,
        "kind": row.kind,
        "level": level,
        "target_year": row.target_year,
        "annex_no": row.annex_no,
    }


async def _last_seeded_values() -> dict[int, dict[str, Any]]:
    """unit id -> the values the seed last wrote, read back from its own history rows."""
    seeded: dict[int, dict[str, Any]] = defaultdict(dict)
    for h in await UnitHistory.filter(by_username=SEED_USER).order_by("id").values("unit_id", "new"):
        if isinstance(h["new"], dict):
            seeded[h["unit_id"]].update({k: v for k, v in h["new"].items() if k in _SNAPSHOT_FIELDS})
    return seeded


def _fields_to_apply(
    code: str, have: dict[str, Any], want: dict[str, Any], last: dict[str, Any], report: SeedReport
) -> dict[str, Any]:
    """The fields the seed data changed since it last wrote them; a field changed only in the application is
    kept, and said so in the report."""
    apply: dict[str, Any] = {}
    for f in _SNAPSHOT_FIELDS:
        if want[f] == last.get(f, have[f]):
            if have[f] != want[f] and f != "level":
                report.anomalies.append(
                    f"{code}: '{f}' đã được đổi trong ứng dụng ({have[f]!r}, dữ liệu gốc {want[f]!r}); "
                    "giữ giá trị hiện tại."
                )
            continue
        if have[f] != want[f]:
            apply[f] = want[f]
    return apply


async def _create_unit(row: UnitRow, parent: Unit | None, level: int, report: SeedReport) -> Unit:
    unit = await Unit.create(
        code=row.code,
        kind=row.kind,
        level=level,
        parent=parent,
        source_name=row.source_name,
        name=row.name,
        name_folded=row.folded(),
        target_year=row.target_year,
        annex_no=row.annex_no,
    )
    await UnitHistory.create(unit=unit, change="create", old=None, new=_snapshot(row, level), by_username=SEED_USER)
    report.units_created += 1
    report.history_written += 1
    return unit


async def _update_unit(
    unit: Unit,
    row: UnitRow,
    parent: Unit | None,
    level: int,
    last_seeded: dict[str, Any],
    code_by_id: dict[int, str],
    report: SeedReport,
) -> None:
    have = {
        "name": unit.name,
        "source_name": unit.source_name,
        "parent_code": code_by_id.get(unit.parent_id) if unit.parent_id else None,  # type: ignore[attr-defined]
        "kind": unit.kind,
        "level": unit.level,
        "target_year": unit.target_year,
        "annex_no": unit.annex_no,
    }
    apply = _fields_to_apply(row.code, have, _snapshot(row, level), last_seeded or have, report)
    history = [
        (change, {f: have[f] for f in fields if f in apply}, {f: apply[f] for f in fields if f in apply})
        for change, fields in _HISTORY_CHANGES
        if any(f in apply for f in fields)
    ]
    for f, v in apply.items():
        if f == "parent_code":
            unit.parent = parent  # type: ignore[assignment]
        elif f == "level":
            unit.level = level
        else:
            setattr(unit, f, v)
    folded = fold_diacritics(f"{unit.name} {unit.source_name}")[:255]
    if folded != unit.name_folded:
        unit.name_folded = folded
        apply["name_folded"] = folded
    if apply:
        await unit.save()
        report.units_updated += 1
        for change, old, new in history:
            await UnitHistory.create(unit=unit, change=change, old=old, new=new, by_username=SEED_USER)
            report.history_written += 1


async def _load_units(rows: list[UnitRow], report: SeedReport, progress: Progress | None) -> None:
    existing = {u.code: u for u in await Unit.all()}
    code_by_id = {u.id: u.code for u in existing.values()}
    seeded = await _last_seeded_values()
    for done, row in enumerate(rows, 1):
        parent = existing.get(row.parent_code) if row.parent_code else None
        if row.parent_code and parent is None:
            raise ValueError(f"unit {row.code}: parent {row.parent_code} missing")
        level = parent.level + 1 if parent else 0
        unit = existing.get(row.code)
        if unit is None:
            unit = existing[row.code] = await _create_unit(row, parent, level, report)
            code_by_id[unit.id] = row.code
        else:
            await _update_unit(unit, row, parent, level, seeded.get(unit.id, {}), code_by_id, report)
        if progress:
            progress("Đơn vị", done, len(rows))


# -------------------------------------------------------------------------------------------- templates

_TEMPLATE_FIELDS = ("title", "description", "period_kind", "legal_basis")
_ITEM_FIELDS = ("position", "section", "type", "required", "label", "help", "reference")


def _wanted_items(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "key": it["key"],
            "position": pos,
            "section": it["section"],
            "type": it["type"],
            "required": it["required"],
            "label": it["label"],
            "help": it.get("help", ""),
            "reference": it["reference"],
        }
        for pos, it in enumerate(data["items"], 1)
    ]


async def _update_template(
    template: Template,
    data: dict[str, Any],
    fields: dict[str, Any],
    wanted_items: list[dict[str, Any]],
    report: SeedReport,
) -> None:
    """Bring a template version not yet used by any checklist in line with its data file; a version in use
    is never changed (the data file should raise its version), which the report says."""
    items = {i.key: i for i in await TemplateItem.filter(template_id=template.id)}
    template_changes = {f: v for f, v in fields.items() if getattr(template, f) != v}
    new_items = [it for it in wanted_items if it["key"] not in items]
    changed_items = [
        it
        for it in wanted_items
        if it["key"] in items and any(getattr(items[it["key"]], f) != it[f] for f in _ITEM_FIELDS)
    ]
    wanted_keys = {it["key"] for it in wanted_items}
    gone = [k for k in items if k not in wanted_keys]
    if not (template_changes or new_items or changed_items or gone):
        return
    if await Checklist.filter(template_id=template.id).exists():
        report.anomalies.append(
            f"Mẫu phiếu {data['code']} phiên bản {data['version']} đã có phiếu sử dụng nhưng khác dữ liệu "
            f"gốc; không sửa phiên bản đang dùng, hãy tăng version trong seed/data/templates."
        )
        return
    if template_changes:
        for f, v in template_changes.items():
            setattr(template, f, v)
        await template.save()
    report.templates_updated += 1
    for it in changed_items:
        item = items[it["key"]]
        for f in _ITEM_FIELDS:
            setattr(item, f, it[f])
        await item.save()
    if gone:
        await TemplateItem.filter(template_id=template.id, key__in=gone).delete()
    if new_items:
        await TemplateItem.bulk_create([TemplateItem(template=template, **it) for it in new_items])
    report.items_created += len(new_items)
    report.items_updated += len(changed_items)
    report.items_deleted += len(gone)


async def _load_templates(templates: list[dict[str, Any]], report: SeedReport, progress: Progress | None) -> None:
    for done, data in enumerate(templates, 1):
        wanted_items = _wanted_items(data)
        fields = {f: data.get(f, "") for f in _TEMPLATE_FIELDS}
        template = await Template.get_or_none(code=data["code"], version=data["version"])
        if template is None:
            template = await Template.create(code=data["code"], version=data["version"], **fields)
            await TemplateItem.bulk_create([TemplateItem(template=template, **it) for it in wanted_items])
            report.templates_created += 1
            report.items_created += len(wanted_items)
        else:
            await _update_template(template, data, fields, wanted_items, report)
        if progress:
            progress("Mẫu phiếu", done, len(templates))


# -------------------------------------------------------------------------------------------- deadlines


async def _load_deadlines(rows: list[dict[str, Any]], report: SeedReport, progress: Progress | None) -> None:
    units = {u.code: u for u in await Unit.all()}
    latest: dict[str, Template] = {}
    for t in await Template.all().order_by("version"):
        latest[t.code] = t
    existing = {d.code: d for d in await Deadline.all()}
    # A rule the province has edited (/deadlines, /api/deadline-rules) is the province's now: seeding
    # again does not put the seed's values back over it.
    edited = set(await AuditLog.filter(object_type="deadline_rule").values_list("object_id", flat=True))
    for done, r in enumerate(rows, 1):
        unit = units.get(r["unit_code"])
        if unit is None:
            raise ValueError(f"deadline {r['code']}: unknown unit {r['unit_code']}")
        template = latest.get(r["template_code"]) if r["template_code"] else None
        if r["template_code"] and template is None:
            raise ValueError(f"deadline {r['code']}: unknown template {r['template_code']}")
        want = {
            "title": r["title"],
            "template_id": template.id if template else None,
            "unit_id": unit.id,
            "level": r["level"],
            "recurrence": r["recurrence"],
            "due_date": r["due_date"],
            "reference": r["reference"],
            **{
                k: r[k]
                for k in (
                    "period_kind",
                    "period_offset",
                    "binding",
                    "source_number",
                    "source_date",
                    "source_issuer",
                    "source_quote",
                    "starts_on",
                )
            },
        }
        d = existing.get(r["code"])
        if d is None:
            await Deadline.create(code=r["code"], **want)
            report.deadlines_created += 1
        elif str(d.id) not in edited:
            changes = {f: v for f, v in want.items() if getattr(d, f) != v}
            if changes:
                for f, v in changes.items():
                    setattr(d, f, v)
                await d.save()
                report.deadlines_updated += 1
        if progress:
            progress("Hạn báo cáo", done, len(rows))


# ------------------------------------------------------------------------------------------------ entry


async def load_seed(
    *,
    demo: bool = False,
    demo_password: str | None = None,
    progress: Progress | None = None,
) -> SeedReport:
    """Upsert the seed into the initialised database; see the module docstring."""
    report = SeedReport()
    unit_rows = read_units()
    templates = read_templates()
    deadlines = read_deadlines()
    report.anomalies.extend(analyse_units(unit_rows, read_annex_totals()))
    async with in_transaction():
        await _load_units(unit_rows, report, progress)
    async with in_transaction():
        await _load_templates(templates, report, progress)
    async with in_transaction():
        await _load_deadlines(deadlines, report, progress)
    if demo:
        async with in_transaction():
            await load_demo(report, demo_password, progress)
    return report


__all__ = ["SeedReport", "load_seed"]
