"""The edit log of one checklist for an auditor: every edit the server recorded for it, in the order it
was recorded, with who sent it, from which device and seq, what it was and what became of it.

Read-only, paged by the Edit row's id (`after`), so a dispute ("my answer was there, then it changed") can
be checked without database access. Admins only (`AUDITORS`); a checklist outside the caller's scope is
`checklist_not_found`, as everywhere.
"""

from __future__ import annotations

from sync.models import Checklist, Edit
from sync.rows import edit_payload
from sync.vocabulary import AUDITORS

from .. import auth
from ..errors import problem
from ..models import User

MAX_PAGE = 500


def edit_entry(e: Edit) -> dict:
    return {
        "id": e.id,
        "username": e.username,
        "device_id": e.device_id,
        "seq": e.seq,
        "kind": e.kind,
        "item_key": e.item_key,
        "outcome": e.outcome,
        "reason": e.reason,
        "received_ms": e.received_ms,
        "device_ms": e.device_ms,
        "effective_ms": e.effective_ms,
        "payload": edit_payload(e),  # an applied answer is kept compact (sync/rows.py): put back together
    }


async def edits_of_checklist(user: User, checklist_id: str, *, after: int = 0, limit: int = 100) -> dict:
    """One page of the checklist's edits after Edit id `after`; `next` is the `after` of the next page."""
    if user.role not in AUDITORS:
        raise problem("forbidden")
    checklist = await Checklist.get_or_none(id=checklist_id)
    if checklist is None or not await auth.unit_in_scope(user, checklist.unit_id):  # type: ignore[attr-defined]
        raise problem("checklist_not_found")
    if not 1 <= limit <= MAX_PAGE:
        raise problem("audit_limit_invalid", field="limit", maximum=MAX_PAGE)
    rows = await Edit.filter(checklist_id=checklist_id, id__gt=after).order_by("id").limit(limit + 1)
    page = list(rows[:limit])
    return {
        "checklist_id": checklist_id,
        "edits": [edit_entry(e) for e in page],
        "next": page[-1].id if len(rows) > limit else None,
    }
