"""Demo checklists, so the demo officials have something to fill in on their phones."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from server.models import Template, Unit
from server.services.checklists import create_checklist
from sync.models import Checklist

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DEMO_UNITS = ("KT-147", "KT-097")  # xã Ia Tơi, xã Tu Mơ Rông


def demo_periods(now: datetime | None = None) -> dict[str, str]:
    now = (now or datetime.now(VN)).astimezone(VN)
    return {"month": now.strftime("%Y-%m"), "year": str(now.year), "once": "once"}


async def ensure_demo_checklists(now: datetime | None = None) -> int:
    """This month's report, the roll-out steps and this year's self-assessment for each demo commune."""
    periods = demo_periods(now)
    created = 0
    for code in DEMO_UNITS:
        unit = await Unit.get(code=code)
        for template_code in ("monthly_report", "rollout", "self_assessment"):
            template = await Template.filter(code=template_code).order_by("-version").first()
            if template is None:
                continue
            period = periods[template.period_kind]
            if not await Checklist.exists(unit_id=unit.id, template_id=template.id, period=period):
                await create_checklist(unit.id, template.id, period, "seed")
                created += 1
    return created
