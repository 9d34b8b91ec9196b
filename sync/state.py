"""The server's current state of a scope, in the same form as SyncClient.replica(): for convergence checks."""

from __future__ import annotations

from tortoise import connections

from .rows import (
    CHECKLIST_COLS,
    SELECT_ANSWERS_OF,
    SELECT_CONFLICTS_OF,
    answer_out,
    checklist_out,
    conflict_out,
    fetch_in,
    template_codes,
)


async def server_replica(scope: set[int]) -> dict:
    conn = connections.get("default")
    cls = await fetch_in(conn, f"SELECT {', '.join(CHECKLIST_COLS)} FROM checklist WHERE unit_id IN ({{in}})", scope)
    ids = [c["id"] for c in cls]
    codes = await template_codes(conn, {c["template_id"] for c in cls})
    ans = await fetch_in(conn, SELECT_ANSWERS_OF, ids)
    cfs = await fetch_in(conn, SELECT_CONFLICTS_OF, ids)
    return {
        "checklists": {c["id"]: checklist_out(c, codes) for c in cls},
        "answers": {f"{a['checklist_id']}/{a['item_key']}": answer_out(a) for a in ans},
        "conflicts": {c["id"]: conflict_out(c) for c in cfs},
    }
