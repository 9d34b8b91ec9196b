"""The reminder policy as data, and the pure rules that read it: which stage a due item is at today,
and whether now is inside quiet hours. No database here (tested directly)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sync.periods import VN

from .models import ReminderPolicy

POLICY_KEY = "default"


class Policy(BaseModel):
    """Before the deadline: days ahead (7, 3, 1). After it: the first day late, then every `after_every`
    days. Reviewers get a daily summary of what is late below them. Nothing goes out in quiet hours."""

    model_config = ConfigDict(strict=True, extra="forbid")

    before_days: list[Annotated[int, Field(ge=0, le=60)]] = Field(default=[7, 3, 1], max_length=10)
    after_first: int = Field(default=1, ge=1, le=60)
    after_every: int = Field(default=7, ge=1, le=60)
    reviewer_summary: bool = True
    quiet_start: str = Field(default="21:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    quiet_end: str = Field(default="07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")

    @model_validator(mode="after")
    def _nearest_last(self) -> Policy:
        self.before_days = sorted(set(self.before_days), reverse=True)
        return self


def stage_of(policy: Policy, days_left: int) -> str | None:
    """The stage a not-yet-submitted item is at: the nearest "before" mark reached (a missed day gives the
    next mark, never the ones skipped), or the latest "after" mark once late; None when nothing is due."""
    if days_left >= 0:
        reached = [d for d in policy.before_days if d >= days_left]
        return f"before-{min(reached)}" if reached else None
    late = -days_left
    if late < policy.after_first:
        return None
    mark = policy.after_first + (late - policy.after_first) // policy.after_every * policy.after_every
    return f"after-{mark}"


def _hm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def in_quiet_hours(policy: Policy, now: datetime) -> bool:
    """Whether `now` (aware) falls in the quiet hours, counted in Asia/Ho_Chi_Minh."""
    local = now.astimezone(VN).time()
    start, end = _hm(policy.quiet_start), _hm(policy.quiet_end)
    if start <= end:
        return start <= local < end
    return local >= start or local < end


async def load_policy() -> Policy:
    row = await ReminderPolicy.get_or_none(key=POLICY_KEY)
    return Policy.model_validate(row.policy) if row else Policy()


async def save_policy(policy: Policy, by: str) -> Policy:
    row = await ReminderPolicy.get_or_none(key=POLICY_KEY)
    if row is None:
        await ReminderPolicy.create(key=POLICY_KEY, policy=policy.model_dump(), updated_by=by)
    else:
        row.policy, row.updated_by = policy.model_dump(), by
        await row.save()
    return policy
