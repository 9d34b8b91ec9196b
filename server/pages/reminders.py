"""Page: the province's reminder policy (/reminders, admins): when reminders go out, and the last ones
sent. The form POSTs (the Origin check guards it) and comes back with what was saved."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..errors import ApiError, problem
from ..reminders.models import ReminderLedger
from ..reminders.policy import Policy, load_policy, save_policy
from ..services import accounts
from . import user_or_login
from .render import render

RECENT = 50
_HM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


async def reminders_page(request: Request, error: str | None = None, form: dict | None = None, status_code=200):
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    accounts.require_admin(actor)
    policy = await load_policy()
    f = form or {
        "before_days": ", ".join(str(d) for d in policy.before_days),
        "after_first": policy.after_first,
        "after_every": policy.after_every,
        "reviewer_summary": policy.reviewer_summary,
        "quiet_start": policy.quiet_start,
        "quiet_end": policy.quiet_end,
    }
    recent = await ReminderLedger.all().order_by("-id").limit(RECENT)
    return render(
        request,
        "reminders.html",
        {"user": actor, "f": f, "recent": recent, "error": error, "saved": request.query_params.get("saved") == "1"},
        status_code=status_code,
    )


def _days(text: str, name: str, low: int) -> int:
    if not text.strip().isdigit() or not low <= int(text) <= 60:
        raise problem(name)
    return int(text)


def policy_from_form(form) -> Policy:
    """The policy a form describes, or the problem naming what is wrong, in words."""
    parts = [p.strip() for p in str(form.get("before_days", "")).split(",") if p.strip()]
    if not parts or len(parts) > 10 or not all(p.isdigit() and int(p) <= 60 for p in parts):
        raise problem("reminder_before_days_invalid")
    quiet = [str(form.get(k, "")).strip() for k in ("quiet_start", "quiet_end")]
    if not all(_HM.match(q) for q in quiet):
        raise problem("reminder_quiet_hours_invalid")
    return Policy(
        before_days=[int(p) for p in parts],
        after_first=_days(str(form.get("after_first", "")), "reminder_after_days_invalid", 1),
        after_every=_days(str(form.get("after_every", "")), "reminder_after_days_invalid", 1),
        reviewer_summary=form.get("reviewer_summary") == "1",
        quiet_start=quiet[0],
        quiet_end=quiet[1],
    )


async def save_reminders(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    accounts.require_admin(actor)
    form = await request.form()
    try:
        policy = policy_from_form(form)
    except ApiError as exc:
        return await reminders_page(request, error=exc.message, form=dict(form), status_code=exc.status)
    await save_policy(policy, actor.username)
    return RedirectResponse("/reminders?saved=1", status_code=303)


routes = [
    Route("/reminders", reminders_page, methods=["GET"]),
    Route("/reminders", save_reminders, methods=["POST"]),
]
