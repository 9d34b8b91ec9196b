"""Checklists: create one for a unit, template and period; progress; the list in scope; one with answers.

`create_checklist` is the bare write (the seed's demo checklists use it too): the row and its change-log
entry in one transaction, so phones receive it on their next pull. `create_for` is what a person asks
for: it checks the role, the unit's scope, the template and the period (period rules are the protocol's,
`sync/periods.py`) and answers an existing checklist with `checklist_exists` naming its id. A unit has one
checklist per template CODE and period: one made on an older version of the template is that checklist
(the rule of `sync/create.py`, which phones' creates follow too).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from sync.changelog import append_changes
from sync.create import checklists_of_key, key_locks, lock_key
from sync.models import Answer, Checklist, ChecklistAlias, Conflict
from sync.periods import PERIOD_EXAMPLES, valid_period
from sync.rows import side_value
from sync.sql import fetch, now_ms
from sync.vocabulary import CREATORS

from .. import auth
from ..errors import problem
from ..models import AuditLog, Template, TemplateItem, Unit, User
from .units import unit_in_scope


class ChecklistExists(IntegrityError):
    """The unit already has a checklist of this template code (on any version) for this period."""

    def __init__(self, checklist_id: str) -> None:
        super().__init__(f"checklist {checklist_id} exists")
        self.checklist_id = checklist_id


async def create_checklist(unit_id: int, template_id: int, period: str, username: str) -> Checklist:
    """Raises ChecklistExists (a tortoise IntegrityError) naming the checklist if the unit already has
    one of this template's code, on any version, for this period."""
    ms = now_ms()
    # phones may be creating it too (sync/create.py): take turns per (unit, template code, period); the
    # unique index only covers one version, so the check is made here, under the locks
    async with key_locks([(unit_id, template_id, period)]), in_transaction() as conn:
        rows = await fetch(conn, "SELECT code FROM template WHERE id = ?", [template_id])
        if not rows:
            raise IntegrityError(f"template {template_id} does not exist")
        key = (unit_id, rows[0]["code"], period)
        await lock_key(conn, key)
        existing = await checklists_of_key(conn, key, template_id)
        if existing:
            raise ChecklistExists(existing[0])
        checklist = await Checklist.create(
            id=str(uuid.uuid4()),
            unit_id=unit_id,
            template_id=template_id,
            period=period,
            status="draft",
            version=1,
            created_by=username,
            created_ms=ms,
            updated_ms=ms,
            using_db=conn,
        )
        await append_changes(conn, [(unit_id, checklist.id, "checklist", "")])
    return checklist


async def create_for(user: User, unit_id: int, template_id: int, period: str) -> Checklist:
    """Checks role, scope, template and period, then creates; the audit log records who did it."""
    if user.role not in CREATORS:
        raise problem("forbidden")
    await unit_in_scope(user, unit_id, field="unit_id")
    template = await Template.get_or_none(id=template_id, published=True)
    if template is None:
        raise problem("template_unknown", field="template_id")
    period = period.strip()
    if not valid_period(template.period_kind, period):
        raise problem("period_invalid", field="period", period=period, example=PERIOD_EXAMPLES[template.period_kind])
    try:
        checklist = await create_checklist(unit_id, template.id, period, user.username)
    except ChecklistExists as exc:  # on this version or an older one, by anyone, phones included
        raise problem("checklist_exists", checklist_id=exc.checklist_id) from None
    await AuditLog.create(
        username=user.username,
        action="checklist.create",
        object_type="checklist",
        object_id=checklist.id,
        detail={"unit_id": unit_id, "template": template.code, "period": period},
    )
    return checklist


async def progress_of(checklists: list[Checklist]) -> dict[str, dict]:
    """Answered items out of all items, per checklist, in two queries."""
    if not checklists:
        return {}
    template_ids = {c.template_id for c in checklists}  # type: ignore[attr-defined]
    totals: dict[int, int] = {}
    for tid in await TemplateItem.filter(template_id__in=template_ids).values_list("template_id", flat=True):
        totals[tid] = totals.get(tid, 0) + 1
    answered: dict[str, int] = {}
    rows = (
        await Answer.filter(checklist_id__in=[c.id for c in checklists])
        .exclude(value=None)
        .values_list("checklist_id", flat=True)
    )
    for cid in rows:
        answered[cid] = answered.get(cid, 0) + 1
    return {
        c.id: {"answered": answered.get(c.id, 0), "total": totals.get(c.template_id, 0)}  # type: ignore[attr-defined]
        for c in checklists
    }


@dataclass
class ChecklistRow:
    checklist: Checklist
    template: Template
    progress: dict


async def list_in_scope(
    user: User, *, unit_id: int | None = None, status: str | None = None, limit: int = 500
) -> list[ChecklistRow]:
    """The checklists of the user's units, most recently changed first."""
    qs = Checklist.filter(unit_id__in=await auth.scope_unit_ids(user))
    if unit_id is not None:
        qs = qs.filter(unit_id=unit_id)
    if status:
        qs = qs.filter(status=status)
    return await _rows(list(await qs.order_by("-updated_ms").limit(limit)))


async def of_unit(unit: Unit) -> list[ChecklistRow]:
    """A unit's checklists (the caller has checked the scope), most recently changed first."""
    return await _rows(list(await Checklist.filter(unit_id=unit.id).order_by("-updated_ms")))


async def _rows(checklists: list[Checklist]) -> list[ChecklistRow]:
    templates = {t.id: t for t in await Template.filter(id__in={c.template_id for c in checklists})}  # type: ignore[attr-defined]
    progress = await progress_of(checklists)
    return [ChecklistRow(c, templates[c.template_id], progress[c.id]) for c in checklists]  # type: ignore[attr-defined]


@dataclass
class ChecklistDetail:
    checklist: Checklist
    template: Template
    unit: Unit
    answers: list[Answer]
    conflicts: list[Conflict]  # the open ones
    progress: dict

    def values(self) -> dict:
        """Each answered item's value, decoded from its JSON."""
        return {a.item_key: json.loads(a.value) if a.value is not None else None for a in self.answers}

    def conflicts_by_item(self) -> dict[str, list[dict]]:
        """The open conflicts per item key, both sides decoded (a note side is plain text, not JSON)."""
        out: dict[str, list[dict]] = {}
        for c in self.conflicts:
            out.setdefault(c.item_key, []).append(
                {
                    "field": c.field,
                    "winner_value": side_value(c.field, c.winner_value),
                    "winner_by": c.winner_by,
                    "winner_ms": c.winner_ms,
                    "loser_value": side_value(c.field, c.loser_value),
                    "loser_by": c.loser_by,
                    "loser_ms": c.loser_ms,
                }
            )
        return out


async def get_checklist(user: User, checklist_id: str) -> ChecklistDetail:
    """One checklist with its answers and open conflicts, or `checklist_not_found` outside the scope."""
    checklist = await Checklist.get_or_none(id=checklist_id)
    if checklist is None:  # a phone's id for a checklist another phone created first (sync/create.py)
        alias = await ChecklistAlias.get_or_none(alias_id=checklist_id)
        checklist = alias and await Checklist.get_or_none(id=alias.checklist_id)  # type: ignore[attr-defined]
    if checklist is None or not await auth.unit_in_scope(user, checklist.unit_id):  # type: ignore[attr-defined]
        raise problem("checklist_not_found")
    template = await Template.get(id=checklist.template_id)  # type: ignore[attr-defined]
    unit = await Unit.get(id=checklist.unit_id)  # type: ignore[attr-defined]
    answers = await Answer.filter(checklist_id=checklist.id).order_by("item_key")
    conflicts = await Conflict.filter(checklist_id=checklist.id, status="open").order_by("created_ms")
    progress = await progress_of([checklist])
    return ChecklistDetail(checklist, template, unit, list(answers), list(conflicts), progress[checklist.id])


async def template_sections(template: Template) -> list[tuple[str, list[TemplateItem]]]:
    """The template's items in order, grouped by section as a page shows them."""
    sections: list[tuple[str, list[TemplateItem]]] = []
    for item in await TemplateItem.filter(template_id=template.id).order_by("position"):
        if not sections or sections[-1][0] != item.section:
            sections.append((item.section, []))
        sections[-1][1].append(item)
    return sections
