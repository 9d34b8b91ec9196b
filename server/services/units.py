"""Units: the ones in a user's scope, one unit's detail, and renaming, moving and merging them.

A unit outside the caller's scope answers `unit_not_found`, the same as one that does not exist. The tree
is data: each change is a history row, nothing is lost. Checklists stay attached to their unit; a merged
unit becomes an inactive child of the unit it merged into, so its past checklists stay in the new unit's
scope and its history stays readable. Only the provincial admin changes the tree.
"""
from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from .. import auth
from ..errors import problem
from ..models import AuditLog, Unit, UnitHistory, User
from ..textfold import fold_diacritics
from .tree import subtree_ids

TREE_ADMINS = ("admin",)


async def units_in_scope(user: User, q: str = "") -> list[Unit]:
    """The user's units, tree order (level, annex number), filtered by `q` ignoring case and diacritics."""
    scope = await auth.scope_unit_ids(user)
    qs = Unit.filter(id__in=scope)
    for word in fold_diacritics(q).split():
        qs = qs.filter(name_folded__contains=word)
    return await qs.order_by("level", "annex_no", "id")


async def unit_in_scope(user: User, unit_id: int, *, field: str | None = None) -> Unit:
    """The unit, or `unit_not_found` (naming `field` when given) if it is not in the user's scope."""
    if not await auth.unit_in_scope(user, unit_id):
        raise problem("unit_not_found", field=field) if field else problem("unit_not_found")
    return await Unit.get(id=unit_id)


@dataclass
class UnitDetail:
    unit: Unit
    parent: Unit | None
    children: list[Unit]
    history: list[UnitHistory]


async def unit_detail(user: User, unit_id: int) -> UnitDetail:
    unit = await unit_in_scope(user, unit_id)
    parent = await Unit.get_or_none(id=unit.parent_id) if unit.parent_id else None  # type: ignore[attr-defined]
    children = await Unit.filter(parent_id=unit_id).order_by("annex_no", "id")
    history = await UnitHistory.filter(unit_id=unit_id).order_by("id")
    return UnitDetail(unit, parent, list(children), list(history))


async def change_unit(user: User, unit_id: int, *, name: str | None = None, parent_id: int | None = None) -> Unit:
    """Rename and/or move a unit (provincial admin); each change is kept in the unit's history."""
    unit = await _unit_to_change(user, unit_id)
    target = await _target(user, parent_id, "parent_id") if parent_id is not None else None
    if name is not None:
        unit = await rename_unit(unit, name, user.username)
    if target is not None:
        unit = await move_unit(unit, target, user.username)
    return unit


async def merge_into(user: User, unit_id: int, into_id: int) -> Unit:
    unit = await _unit_to_change(user, unit_id)
    into = await _target(user, into_id, "into_id")
    return await merge_unit(unit, into, user.username)


async def _unit_to_change(user: User, unit_id: int) -> Unit:
    if user.role not in TREE_ADMINS:
        raise problem("forbidden")
    return await unit_in_scope(user, unit_id)


async def _target(user: User, unit_id: int, field: str) -> Unit:
    if not await auth.unit_in_scope(user, unit_id):
        raise problem("unit_target_unknown", field=field)
    return await Unit.get(id=unit_id)


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
        await AuditLog.create(username=by, action="unit.rename", object_type="unit", object_id=str(unit.id),
                              detail={"old": old, "new": name})
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
        await UnitHistory.create(unit=unit, change="move", old={"parent_id": old}, new={"parent_id": new_parent.id},
                                 by_username=by)
        await AuditLog.create(username=by, action="unit.move", object_type="unit", object_id=str(unit.id),
                              detail={"old_parent": old, "new_parent": new_parent.id})
    await unit.refresh_from_db()
    return unit


async def merge_unit(unit: Unit, into: Unit, by: str) -> Unit:
    if unit.id == into.id or into.id in await subtree_ids(unit.id):
        raise problem("unit_merge_into_self", field="into_id")
    if not unit.active:
        raise problem("unit_already_merged")
    async with in_transaction():
        old_parent = unit.parent_id  # type: ignore[attr-defined]
        # Its own children move to the unit it merges into; it stays as an inactive child, for history.
        for child in await Unit.filter(parent_id=unit.id):
            await move_unit(child, into, by)
        unit.active, unit.merged_into, unit.parent = False, into, into
        await unit.save(update_fields=["active", "merged_into_id", "parent_id", "updated_at"])
        await _relevel(unit.id, into.level + 1)
        await UnitHistory.create(unit=unit, change="merge", old={"parent_id": old_parent},
                                 new={"merged_into": into.id}, by_username=by)
        await AuditLog.create(username=by, action="unit.merge", object_type="unit", object_id=str(unit.id),
                              detail={"into": into.id})
    await unit.refresh_from_db()
    return unit
