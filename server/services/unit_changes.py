"""Renaming, moving and merging units. The tree is data: each change is a history row, nothing is lost.

Checklists stay attached to their unit; a merged unit becomes an inactive child of the unit it merged
into, so its past checklists stay in the new unit's scope and its history stays readable. The caller
(`services.units`) has checked the role and the scope.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from ..errors import problem
from ..models import AuditLog, Unit, UnitHistory, User
from ..textfold import fold_diacritics
from .tree import subtree_ids


async def rename_unit(unit: Unit, name: str, by: str) -> Unit:
    name = " ".join(name.split())
    if not name:
        raise problem("unit_name_empty", field="name")
    if name == unit.name:
        return unit
    async with in_transaction():
        old = unit.name
        unit.name = name
        unit.name_folded = fold_diacritics(f"{name} {unit.source_name}")
        await unit.save(update_fields=["name", "name_folded", "updated_at"])
        await UnitHistory.create(unit=unit, change="rename", old={"name": old}, new={"name": name}, by_username=by)
        await AuditLog.create(
            username=by,
            action="unit.rename",
            object_type="unit",
            object_id=str(unit.id),
            detail={"old": old, "new": name},
        )
    return unit


async def _relevel(unit_id: int, level: int) -> None:
    """A moved subtree's levels follow its new parent."""
    await Unit.filter(id=unit_id).update(level=level)
    for child in await Unit.filter(parent_id=unit_id).values_list("id", flat=True):
        await _relevel(child, level + 1)


async def move_unit(unit: Unit, new_parent: Unit, by: str) -> Unit:
    if new_parent.id in await subtree_ids(unit.id):
        raise problem("unit_move_into_self", field="parent_id")
    if unit.parent_id == new_parent.id:  # type: ignore[attr-defined]
        return unit
    async with in_transaction():
        old = unit.parent_id  # type: ignore[attr-defined]
        unit.parent = new_parent
        await unit.save(update_fields=["parent_id", "updated_at"])
        await _relevel(unit.id, new_parent.level + 1)
        await UnitHistory.create(
            unit=unit, change="move", old={"parent_id": old}, new={"parent_id": new_parent.id}, by_username=by
        )
        await AuditLog.create(
            username=by,
            action="unit.move",
            object_type="unit",
            object_id=str(unit.id),
            detail={"old_parent": old, "new_parent": new_parent.id},
        )
    await unit.refresh_from_db()
    return unit


async def merge_unit(unit: Unit, into: Unit, by: str) -> Unit:
    """Both histories stay: the merged unit keeps its own history rows and checklists and becomes an
    inactive child of `into`, so they stay in the scope of `into` and above. Its accounts move to `into`
    (the people now work there), each move written to the audit log."""
    if unit.id == into.id or into.id in await subtree_ids(unit.id):
        raise problem("unit_merge_into_self", field="into_id")
    if not unit.active:
        raise problem("unit_already_merged")
    if not into.active:
        raise problem("unit_retired", field="into_id")
    async with in_transaction():
        for username in await User.filter(unit_id=unit.id).values_list("username", flat=True):
            await AuditLog.create(
                username=by,
                action="user.unit",
                object_type="user",
                object_id=username,
                detail={"old": unit.id, "new": into.id, "why": "merge"},
            )
        await User.filter(unit_id=unit.id).update(unit_id=into.id)
        old_parent = unit.parent_id  # type: ignore[attr-defined]
        # Its own children move to the unit it merges into; it stays as an inactive child, for history.
        for child in await Unit.filter(parent_id=unit.id):
            await move_unit(child, into, by)
        unit.active, unit.merged_into, unit.parent = False, into, into
        await unit.save(update_fields=["active", "merged_into_id", "parent_id", "updated_at"])
        await _relevel(unit.id, into.level + 1)
        await UnitHistory.create(
            unit=unit, change="merge", old={"parent_id": old_parent}, new={"merged_into": into.id}, by_username=by
        )
        await AuditLog.create(
            username=by, action="unit.merge", object_type="unit", object_id=str(unit.id), detail={"into": into.id}
        )
    await unit.refresh_from_db()
    return unit


async def create_unit(parent: Unit, code: str, name: str, kind: str, by: str, target_year: int | None = None) -> Unit:
    """A new unit below `parent`; the caller has checked the code, kind and scope."""
    async with in_transaction():
        unit = await Unit.create(
            code=code,
            kind=kind,
            level=parent.level + 1,
            parent=parent,
            source_name=name,
            name=name,
            name_folded=fold_diacritics(f"{name} {name}")[:255],
            target_year=target_year,
        )
        await UnitHistory.create(
            unit=unit, change="create", new={"code": code, "name": name, "parent_id": parent.id}, by_username=by
        )
        await AuditLog.create(
            username=by,
            action="unit.create",
            object_type="unit",
            object_id=str(unit.id),
            detail={"code": code, "name": name, "kind": kind, "parent": parent.id},
        )
    return unit


async def retire_unit(unit: Unit, by: str) -> Unit:
    """A unit that no longer exists (absent from a province's new list): inactive, kept with its history,
    checklists and accounts so nothing is lost; it cannot keep active units below it."""
    if not unit.active:
        return unit
    if await Unit.filter(parent_id=unit.id, active=True).exists():
        raise problem("unit_has_active_children")
    async with in_transaction():
        unit.active = False
        await unit.save(update_fields=["active", "updated_at"])
        await UnitHistory.create(
            unit=unit, change="retire", old={"active": True}, new={"active": False}, by_username=by
        )
        await AuditLog.create(username=by, action="unit.retire", object_type="unit", object_id=str(unit.id))
    return unit
