"""Creating a checklist: a server-side action whose result reaches phones through the change log."""
from __future__ import annotations

import re
import uuid

from tortoise.transactions import in_transaction

from .changelog import append_changes
from .models import Checklist
from .sql import now_ms

PERIOD_PATTERNS = {
    "month": re.compile(r"^20\d\d-(0[1-9]|1[0-2])$"),
    "year": re.compile(r"^20\d\d$"),
    "once": re.compile(r"^once$"),
}
PERIOD_EXAMPLES = {"month": "2026-11", "year": "2026", "once": "once"}


def valid_period(period_kind: str, period: str) -> bool:
    pattern = PERIOD_PATTERNS.get(period_kind)
    return bool(pattern and pattern.match(period))


async def create_checklist(unit_id: int, template_id: int, period: str, username: str) -> Checklist:
    """Raises tortoise IntegrityError if the unit already has this template for this period."""
    ms = now_ms()
    async with in_transaction() as conn:
        checklist = await Checklist.create(
            id=str(uuid.uuid4()), unit_id=unit_id, template_id=template_id, period=period,
            status="draft", version=1, created_by=username, created_ms=ms, updated_ms=ms,
            using_db=conn,
        )
        await append_changes(conn, [(unit_id, checklist.id, "checklist", "")])
    return checklist
