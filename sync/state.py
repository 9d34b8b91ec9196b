"""The server's current state of a scope, in the same form as SyncClient.replica(): for convergence checks."""
from __future__ import annotations

from tortoise import connections

from .engine import (ANSWER_COLS, CHECKLIST_COLS, CONFLICT_COLS, _fetch_in, _template_codes, answer_out,
                     checklist_out, conflict_out)


async def server_replica(scope: set[int]) -> dict:
    conn = connections.get("default")
    cls = await _fetch_in(conn, f"SELECT {', '.join(CHECKLIST_COLS)} FROM checklist WHERE unit_id IN ({{in}})", scope)
    ids = [c["id"] for c in cls]
    codes = await _template_codes(conn, {c["template_id"] for c in cls})
    ans = await _fetch_in(conn, f"SELECT {', '.join(ANSWER_COLS)} FROM answer WHERE checklist_id IN ({{in}})", ids)
    cfs = await _fetch_in(conn, f"SELECT {', '.join(CONFLICT_COLS)} FROM conflict WHERE checklist_id IN ({{in}})", ids)
    return {"checklists": {c["id"]: checklist_out(c, codes) for c in cls},
            "answers": {f"{a['checklist_id']}/{a['item_key']}": answer_out(a) for a in ans},
            "conflicts": {c["id"]: conflict_out(c) for c in cfs}}
