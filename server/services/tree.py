"""Walking the unit tree, which has any depth: the whole tree is small enough to read in one query."""

from __future__ import annotations

from ..models import Unit


async def _parents() -> dict[int, int | None]:
    return dict(await Unit.all().values_list("id", "parent_id"))


async def subtree_ids(unit_id: int) -> set[int]:
    """The unit and every unit below it."""
    children: dict[int | None, list[int]] = {}
    for uid, parent in (await _parents()).items():
        children.setdefault(parent, []).append(uid)
    found, stack = set(), [unit_id]
    while stack:
        uid = stack.pop()
        if uid not in found:
            found.add(uid)
            stack.extend(children.get(uid, ()))
    return found


async def ancestor_ids(unit_id: int) -> list[int]:
    """The unit and every unit above it, nearest first."""
    parents = await _parents()
    chain: list[int] = []
    uid: int | None = unit_id
    while uid is not None and uid not in chain:
        chain.append(uid)
        uid = parents.get(uid)
    return chain
