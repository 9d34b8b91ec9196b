"""Units: the ones in a user's scope, one unit's detail, and renaming, moving and merging them.

A unit outside the caller's scope answers `unit_not_found`, the same as one that does not exist. Only
the provincial admin changes the tree; the changes themselves, each kept in the unit's history, are in
`unit_changes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sync.vocabulary import TREE_ADMINS

from .. import auth
from ..errors import problem
from ..models import Unit, UnitHistory, User
from ..textfold import fold_diacritics
from .unit_changes import merge_unit, move_unit, rename_unit

__all__ = [
    "TREE_ADMINS",
    "UnitDetail",
    "change_unit",
    "matches_word_starts",
    "merge_into",
    "parents_of_same_names",
    "unit_detail",
    "unit_in_scope",
    "units_in_scope",
]

# Where a word starts in a folded name: after a space, a hyphen, an apostrophe ("Ia H'Drai") or a bracket.
_WORD_START = r"(?:^|[\s\-'(/])"


async def units_in_scope(user: User, q: str = "") -> list[Unit]:
    """The user's units, tree order (level, annex number), filtered by `q` ignoring case and diacritics.

    Each word of `q` must begin a word of the name: "dak ha" finds Đăk Hà, "nhan" does not find a name
    that merely has "nhan" inside a word. The database narrows by substring, the word starts are
    checked here (the same rule on SQLite and PostgreSQL, whatever their LIKE and regex dialects).
    """
    scope = await auth.scope_unit_ids(user)
    qs = Unit.filter(id__in=scope)
    words = fold_diacritics(q).split()
    for word in words:
        qs = qs.filter(name_folded__contains=word)
    found = await qs.order_by("level", "annex_no", "id")
    return [u for u in found if matches_word_starts(u.name_folded, words)] if words else list(found)


def matches_word_starts(folded_name: str, words: list[str]) -> bool:
    """Every word of the (folded) query begins some word of the (folded) name."""
    return all(re.search(_WORD_START + re.escape(w), folded_name) for w in words)


async def parents_of_same_names(units: list[Unit]) -> dict[int, str]:
    """Unit id -> its parent's name, for the units whose name another unit also bears, diacritics aside
    (three "Xã Đăk Long" / "Xã Đắk Long"): the parent, the district, is what tells them apart."""
    if not units:
        return {}
    counts: dict[str, int] = {}
    for name in await Unit.all().values_list("name", flat=True):
        key = fold_diacritics(str(name))
        counts[key] = counts.get(key, 0) + 1
    shared = [u for u in units if counts.get(fold_diacritics(u.name), 0) > 1 and u.parent_id]  # type: ignore[attr-defined]
    parent_ids = list({u.parent_id for u in shared})  # type: ignore[attr-defined]
    parents = dict(await Unit.filter(id__in=parent_ids).values_list("id", "name")) if parent_ids else {}
    return {u.id: parents[u.parent_id] for u in shared if u.parent_id in parents}  # type: ignore[attr-defined]


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
