"""Approved (and not approved) checklists that record announcement decisions, for the register tests."""

from __future__ import annotations

import json
import uuid

from sync.models import Answer, Checklist

from .conftest import template_id, unit_id

PHOTO = {"sha256": "ab" * 32, "name": "qd-cong-bo.jpg", "size": 1234, "type": "image/jpeg"}


async def checklist(
    code: str, template: str, period: str, answers: dict, *, status: str = "approved", approved_ms: int = 0
) -> Checklist:
    """A checklist of unit `code` with these answers, in `status` (approved at `approved_ms`)."""
    c = await Checklist.create(
        id=str(uuid.uuid4()),
        unit_id=await unit_id(code),
        template_id=await template_id(template),
        period=period,
        status=status,
        created_by="seed",
        created_ms=1_700_000_000_000,
        updated_ms=1_700_000_000_000,
        status_by="huyen.iahdrai" if status == "approved" else "",
        status_ms=approved_ms or None,
    )
    await Answer.bulk_create(
        [
            Answer(
                checklist_id=c.id,
                item_key=k,
                value=json.dumps(v, ensure_ascii=False),
                value_by="xa.iatoi",
                value_ms=1_767_000_000_000,
                updated_ms=1_767_000_000_000,
            )
            for k, v in answers.items()
        ]
    )
    return c


async def build_world() -> dict[str, Checklist]:
    """KT-086 Xã Đăk Kan: roll-out approved with a decision. KT-147 Xã Ia Tơi: a conversion approved in
    2021 and an annual report approved later (the later one wins). KT-103 Xã Đắk Tờ Kan: a self-assessment
    with a date only. KT-097 Xã Tu Mơ Rông: a roll-out with a decision, submitted but not approved."""
    return {
        "dakkan": await checklist(
            "KT-086",
            "rollout",
            "once",
            {
                "s12_announced": "yes",
                "s12_announcement_number": "12/QĐ-UBND",
                "s12_announcement_date": "2026-03-15",
                "s12_announcement_photo": [PHOTO],
                "s06_tthc_in_system": 87,
            },
            approved_ms=1_773_000_000_000,
        ),
        "iatoi_old": await checklist(
            "KT-147",
            "conversion",
            "once",
            {"announcement_number": "05/QĐ-UBND", "announcement_date": "2021-06-01"},
            approved_ms=1_623_000_000_000,
        ),
        "iatoi_new": await checklist(
            "KT-147",
            "annual_report",
            "2025",
            {"announcement_number": "30/QĐ-UBND", "announcement_date": "2025-05-10", "tthc_in_system": 102},
            approved_ms=1_750_000_000_000,
        ),
        "dakto": await checklist(
            "KT-103", "self_assessment", "2026", {"x_announcement_date": "2026-01-20"}, approved_ms=1_770_000_000_000
        ),
        "tumorong": await checklist(
            "KT-097",
            "rollout",
            "once",
            {"s12_announcement_number": "99/QĐ-UBND", "s12_announcement_date": "2026-02-02"},
            status="submitted",
        ),
    }
