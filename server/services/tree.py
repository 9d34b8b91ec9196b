"""Walking the unit tree, which has any depth: the whole tree is small enough to read in one query."""

from __future__ import annotations

from tortoise import connections

from sync.sql import fetch


async def _parents() -> dict[int, int | None]:
    # Asked on every request that checks scope: by hand, the ORM's values_list spent more building the
    # query than SQLite spent answering it.
    rows = await fetch(connections.get("default"), 'SELECT id, parent_id FROM "unit"')
    return {r["id"]: r["parent_id"] for r in rows}


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
