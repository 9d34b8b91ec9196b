"""The province's calendar as data: the admin lists, adds and edits deadline rules.

Each rule names its source document (number, date, issuer, the quoted phrase), the template and period it
expects, its due rule (the last day allowed: "trước ngày 22" is day 21) and whether it binds this
province. The API (`api/deadlines.py`) and the page (`pages/deadlines.py`) hand this module plain values;
the checks that make a rule mean something (a monthly rule for a monthly template, one kind of due date)
are made here, once for both. Phones read the result through /api/deadlines on their next sync.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sync.periods import PERIOD_KINDS, RECURRENCE_OF_KIND, valid_recurrence

from ..catalogue import DUE_RULE_LABELS
from ..errors import problem
from ..models import AuditLog, Deadline, Template, User
from .accounts import require_admin
from .tree import subtree_ids
from .units import unit_in_scope

__all__ = ["RULE_FIELDS", "create_rule", "due_rule_text", "list_rules", "require_admin", "rule_for", "update_rule"]

CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,63}$")
# Text fields and their longest value.
TEXT_LIMITS = {
    "title": 255,
    "source_number": 64,
    "source_issuer": 255,
    "source_quote": 2000,
    "reference": 2000,
}
DATE_FIELDS = ("due_date", "source_date", "starts_on")
# Fields a rule always has: sending null for one is refused, not taken as "back to the default".
REQUIRED = ("code", "title", "unit_id", "period_kind", "period_offset", "binding")
RULE_FIELDS = (
    "code",
    "title",
    "template_id",
    "unit_id",
    "level",
    "period_kind",
    "period_offset",
    "recurrence",
    "due_date",
    "binding",
    *(f for f in TEXT_LIMITS if f != "title"),
    "source_date",
    "starts_on",
)


async def list_rules(actor: User) -> list[Deadline]:
    """Every rule set on a unit of the admin's subtree: binding ones first, then by code."""
    require_admin(actor)
    mine = await subtree_ids(actor.unit_id)  # type: ignore[attr-defined]
    rules = await Deadline.filter(unit_id__in=list(mine)).prefetch_related("template", "unit")
    return sorted(rules, key=lambda r: (not r.binding, r.code))


async def rule_for(actor: User, rule_id: int) -> Deadline:
    require_admin(actor)
    rule = await Deadline.get_or_none(id=rule_id)
    if rule is None or rule.unit_id not in await subtree_ids(actor.unit_id):  # type: ignore[attr-defined]
        raise problem("deadline_rule_not_found")
    return rule


def _date(name: str, value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise problem("deadline_rule_date_invalid", field=name) from None


async def _apply(actor: User, rule: Deadline, values: dict[str, Any]) -> None:
    """Set `values` on `rule` (unsaved), each checked, then the rule as a whole."""
    for name in REQUIRED:
        if name in values and values[name] is None:
            raise problem("field_missing", field=name)
    for name in TEXT_LIMITS:
        if name in values:
            text = (values[name] or "").strip()
            if len(text) > TEXT_LIMITS[name]:
                raise problem("deadline_rule_text_too_long", field=name, maximum=TEXT_LIMITS[name])
            setattr(rule, name, text)
    for name in DATE_FIELDS:
        if name in values:
            setattr(rule, name, _date(name, values[name]))
    if "code" in values:
        code = (values["code"] or "").strip().upper()
        if not CODE.match(code):
            raise problem("deadline_rule_code_invalid", field="code")
        same = Deadline.filter(code=code)
        if await (same.exclude(id=rule.id) if rule.id else same).exists():
            raise problem("deadline_rule_code_taken", field="code", code=code)
        rule.code = code
    if "unit_id" in values:
        rule.unit = await unit_in_scope(actor, values["unit_id"], field="unit_id")
    if "template_id" in values:
        tid = values["template_id"]
        template = await Template.get_or_none(id=tid) if tid is not None else None
        if tid is not None and template is None:
            raise problem("template_unknown", field="template_id")
        rule.template = template  # type: ignore[assignment]
    for name in ("level", "period_offset", "binding", "period_kind", "recurrence"):
        if name in values:
            setattr(rule, name, values[name] if values[name] is not None else Deadline._meta.fields_map[name].default)
    if not rule.title:
        raise problem("deadline_rule_text_missing", field="title")
    if rule.period_kind not in PERIOD_KINDS:
        raise problem("field_invalid", field="period_kind", detail=", ".join(PERIOD_KINDS))
    rule.recurrence = (rule.recurrence or "").strip()
    if rule.recurrence and not valid_recurrence(rule.recurrence):
        raise problem("deadline_rule_recurrence_invalid", field="recurrence")
    if rule.recurrence and rule.due_date:
        raise problem("deadline_rule_two_dates", field="due_date")
    if rule.recurrence and rule.recurrence.partition(":")[0] != RECURRENCE_OF_KIND.get(rule.period_kind):
        raise problem("deadline_rule_recurrence_kind", field="recurrence")
    template = await Template.get_or_none(id=rule.template_id) if rule.template_id else None  # type: ignore[attr-defined]
    if template is not None and template.period_kind != rule.period_kind:
        raise problem(
            "deadline_rule_period_kind", field="period_kind", kind=rule.period_kind, template_kind=template.period_kind
        )


async def create_rule(actor: User, values: dict[str, Any]) -> Deadline:
    require_admin(actor)
    for name in ("code", "title", "unit_id"):
        if values.get(name) in (None, ""):
            raise problem("deadline_rule_text_missing", field=name)
    rule = Deadline(title="", period_kind=values.get("period_kind") or "once")
    await _apply(actor, rule, values)
    await rule.save()
    await _audit(actor, "deadline_rule.create", rule, values)
    return rule


async def update_rule(actor: User, rule_id: int, values: dict[str, Any]) -> Deadline:
    rule = await rule_for(actor, rule_id)
    await _apply(actor, rule, values)
    await rule.save()
    await _audit(actor, "deadline_rule.change", rule, values)
    return rule


async def _audit(actor: User, action: str, rule: Deadline, values: dict[str, Any]) -> None:
    detail = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}
    await AuditLog.create(
        username=actor.username, action=action, object_type="deadline_rule", object_id=str(rule.id), detail=detail
    )


def due_rule_text(rule: Deadline) -> str:
    """ "Ngày 21 hằng tháng", "Ngày 29/06 hằng năm", "Ngày 31/12/2030": the last day allowed."""
    kind, _, arg = rule.recurrence.partition(":")
    if kind == "monthly":
        return DUE_RULE_LABELS["monthly"].format(day=int(arg))
    if kind == "yearly":
        month, day = arg.split("-")
        return DUE_RULE_LABELS["yearly"].format(day=day, month=month)
    if rule.due_date:
        return DUE_RULE_LABELS["once"].format(date=rule.due_date.strftime("%d/%m/%Y"))
    return DUE_RULE_LABELS["none"]
