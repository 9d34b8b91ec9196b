"""A small province for the reminder tests: a district reviewing two communes, one official each, and one
report due on 15/12/2026 (a one-off rule, so the dates below do not depend on how recurring rules count)."""

from __future__ import annotations

import dataclasses
import time
import uuid
from datetime import date, datetime, timedelta

from server.config import Settings
from server.models import Deadline, Template, Unit, User
from server.reminders import service
from sync.models import Checklist
from sync.periods import VN

DUE = date(2026, 12, 15)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment in Asia/Ho_Chi_Minh."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN)


def days(first: date, last: date):
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


async def _unit(code: str, name: str, level: int, parent: Unit | None) -> Unit:
    return await Unit.create(
        code=code,
        kind="commune" if level == 2 else "district" if level else "province",
        level=level,
        parent=parent,
        source_name=name,
        name=name,
        name_folded=name.lower(),
    )


async def _user(username: str, role: str, unit: Unit) -> User:
    return await User.create(username=username, full_name=username, role=role, unit=unit, password_hash="x")


async def make_world() -> dict:
    province = await _unit("P", "Tỉnh Thử", 0, None)
    district = await _unit("P-D", "Huyện Thử", 1, province)
    c1 = await _unit("P-D-1", "Xã Một <b>&", 2, district)
    c2 = await _unit("P-D-2", "Xã Hai", 2, district)
    tpl = await Template.create(code="report", version=1, title="Báo cáo thử", period_kind="once")
    rule = await Deadline.create(
        code="T-ONCE", title="Báo cáo thử nghiệm «ISO»", template=tpl, unit=province, level=2, due_date=DUE
    )
    return {
        "province": province,
        "district": district,
        "c1": c1,
        "c2": c2,
        "template": tpl,
        "rule": rule,
        "off1": await _user("off1", "official", c1),
        "off2": await _user("off2", "official", c2),
        "rev": await _user("rev", "reviewer", district),
        "admin": await _user("admin1", "admin", province),
    }


async def submit(unit: Unit, template: Template, period: str = "once") -> Checklist:
    ms = int(time.time() * 1000)
    return await Checklist.create(
        id=str(uuid.uuid4()),
        unit=unit,
        template=template,
        period=period,
        status="submitted",
        created_ms=ms,
        updated_ms=ms,
    )


async def subscribe(push_service, name: str, user: User) -> None:
    sub = push_service.subscription(name)
    await service.subscribe(user.id, sub["endpoint"], sub["keys"]["p256dh"], sub["keys"]["auth"], allow_http=True)


def channel_settings(settings: Settings, push_service=None, smtp=None) -> Settings:
    changes = {"push_allow_http": True, "public_url": "https://iso.example.gov.vn"}
    if push_service is not None:
        changes.update(vapid_private_key=push_service.vapid_private, vapid_public_key=push_service.vapid_public)
    if smtp is not None:
        changes.update(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False)
    return dataclasses.replace(settings, **changes)


def channel_env(s: Settings) -> dict[str, str]:
    """The same settings as environment variables, for `eiso remind` in another process."""
    return {
        "DATABASE_URL": s.database_url,
        "EISO_VAPID_PRIVATE_KEY": s.vapid_private_key,
        "EISO_VAPID_PUBLIC_KEY": s.vapid_public_key,
        "EISO_SMTP_HOST": s.smtp_host,
        "EISO_SMTP_PORT": str(s.smtp_port),
        "EISO_SMTP_STARTTLS": "1" if s.smtp_starttls else "0",
        "EISO_PUSH_ALLOW_HTTP": "1",
        "EISO_PUBLIC_URL": s.public_url,
    }
