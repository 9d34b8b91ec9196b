"""Demo data: accounts for each role, the progress one district reported, checklists to fill in.

`load_demo(report, password, progress)` (called by `load_seed(demo=True)`) creates the demo accounts
once, all with one password, and sets the quality-system status of the communes the Ngọc Hồi report
names, never over progress recorded since. `ensure_demo_checklists()` (called by `eiso seed --demo`)
gives the demo communes this period's checklists, so the demo officials have something to fill in on
their phones. Both are idempotent.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime

from server.auth import hash_password
from server.models import Template, Unit, UnitHistory, User
from server.services.checklists import create_checklist
from sync.models import Checklist
from sync.periods import current_period, today_vn

from .report import SEED_USER, Progress, SeedReport

DEMO_USERS = (
    # username, role, unit code, full name
    ("admin", "admin", "KT", "Nguyễn Văn Minh (Sở Khoa học và Công nghệ)"),
    ("huyen.iahdrai", "reviewer", "KT-045", "Lê Thị Thu Hà"),
    ("huyen.tumorong", "reviewer", "KT-040", "A Thuyên"),
    ("xa.iatoi", "official", "KT-147", "Rơ Châm Hạnh"),
    ("xa.tumorong", "official", "KT-097", "Y Liên"),
)

_S000 = (
    "Báo cáo của UBND huyện Ngọc Hồi về tình hình triển khai xây dựng, áp dụng HTQLCL theo TCVN ISO 9001 "
    "đối với cấp xã (thực hiện Công văn số 585/SKHCN-TĐC ngày 27/7/2020 của Sở Khoa học và Công nghệ), mục 2"
)
# The report carries no date of its own; it answers the letter of 27/7/2020 and expects completion by
# October 2020, so the status is dated to that letter.
DEMO_STATUS_DATE = date(2020, 7, 27)
DEMO_STATUSES = (
    # code, status, note
    *(
        (
            code,
            "iso2015",
            f"{_S000}: đã hoàn thành chuyển đổi và áp dụng HTQLCL theo ISO 9001:2015 "
            f"(báo cáo không ghi ngày; lấy ngày của Công văn 585/SKHCN-TĐC).",
        )
        for code in ("KT-086", "KT-085", "KT-083", "KT-081", "KT-080")
    ),  # Đăk Kan, Sa Loong, Đăk Xú, Đăk Dục, Đăk Ang
    *(
        (
            code,
            "converting",
            f"{_S000}: đang chuyển đổi từ ISO 9001:2008 sang ISO 9001:2015 "
            f"(báo cáo không ghi ngày; lấy ngày của Công văn 585/SKHCN-TĐC).",
        )
        for code in ("KT-082", "KT-084", "KT-079")
    ),  # Đăk Nông, Pờ Y, thị trấn Plei Kần
)

DEMO_UNITS = ("KT-147", "KT-097")  # xã Ia Tơi, xã Tu Mơ Rông
DEMO_TEMPLATES = ("monthly_report", "rollout", "self_assessment")


async def load_demo(report: SeedReport, password: str | None, progress: Progress | None) -> None:
    """The demo accounts (a password is generated when none is given) and the reported statuses."""
    units = {
        u.code: u
        for u in await Unit.filter(code__in=[c for _, _, c, _ in DEMO_USERS] + [c for c, _, _ in DEMO_STATUSES])
    }
    total = len(DEMO_USERS) + len(DEMO_STATUSES)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress:
            progress("Dữ liệu demo", done, total)

    await _demo_users(units, report, password, step)
    await _demo_statuses(units, report, step)


async def _demo_users(
    units: dict[str, Unit], report: SeedReport, password: str | None, step: Callable[[], None]
) -> None:
    existing = {u.username for u in await User.filter(username__in=[u for u, *_ in DEMO_USERS])}
    for username, role, unit_code, full_name in DEMO_USERS:
        unit = units[unit_code]
        if username not in existing:
            if password is None:
                password = secrets.token_urlsafe(9)
                report.demo_password = password
            await User.create(
                username=username, full_name=full_name, role=role, unit=unit, password_hash=hash_password(password)
            )
            report.users_created += 1
        report.logins.append(f"{username:<16} {role:<9} {unit.name}")
        step()


async def _demo_statuses(units: dict[str, Unit], report: SeedReport, step: Callable[[], None]) -> None:
    for code, status, note in DEMO_STATUSES:
        unit = units[code]
        if unit.qms_status == "none":  # never overwrite progress recorded since
            old = {"qms_status": unit.qms_status, "qms_status_date": None}
            unit.qms_status = status
            unit.qms_status_date = DEMO_STATUS_DATE
            unit.qms_note = note
            await unit.save()
            await UnitHistory.create(
                unit=unit,
                change="status",
                old=old,
                by_username=SEED_USER,
                new={"qms_status": status, "qms_status_date": DEMO_STATUS_DATE.isoformat(), "note": note},
            )
            report.statuses_set += 1
            report.history_written += 1
        step()


async def ensure_demo_checklists(now: datetime | None = None) -> int:
    """This month's report, the roll-out steps and this year's self-assessment for each demo commune."""
    today = today_vn(now)
    created = 0
    for code in DEMO_UNITS:
        unit = await Unit.get(code=code)
        for template_code in DEMO_TEMPLATES:
            template = await Template.filter(code=template_code).order_by("-version").first()
            if template is None:
                continue
            period = current_period(template.period_kind, today)
            # any version counts: after a new version the unit's checklist of this period stays the one
            if not await Checklist.exists(unit_id=unit.id, template__code=template_code, period=period):
                await create_checklist(unit.id, template.id, period, "seed")
                created += 1
    return created
