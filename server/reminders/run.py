"""One reminder run: work out who should hear what today, claim each message in the ledger, then send.

At most once: a message is a ledger row whose unique key is (rule, period, stage, recipient, channel). A
run inserts the rows it wants with its own claim token (INSERT … ON CONFLICT DO NOTHING, committed at once)
and sends only the rows that carry its token afterwards; another process, or a restart, finds them taken.
Sending happens after that commit, outside any transaction. A channel that fails is retried later with
backoff by claiming its row again (an UPDATE only one process can win); the other channels stay sent.
A row left "sending" by a crash is never resent: at most once beats twice.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from sync.models import Checklist
from sync.periods import VN

from .. import mail
from ..catalogue import REMINDER_TEXTS
from ..config import Settings
from ..models import Deadline, Template, Unit, User
from ..push import PushOutcome, PushSender
from .due import due_items
from .messages import Text, deadline_text, summary_text
from .models import InboxMessage, NotifyPrefs, PushSubscription, ReminderLedger
from .policy import Policy, in_quiet_hours, load_policy, stage_of

SUMMARY = "summary"
MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(minutes=5)
PUSH_CONCURRENCY = 20
REMINDED_ROLES = ("official",)
SUMMARY_ROLES = ("reviewer",)


@dataclass
class RunReport:
    held: bool = False  # quiet hours: nothing sent, the next run after them sends
    claimed: int = 0
    sent: dict[str, int] = field(default_factory=lambda: {"inbox": 0, "email": 0, "push": 0})
    failed: int = 0
    gone: int = 0


def backoff(attempts: int) -> timedelta:
    return BACKOFF_BASE * (2 ** (attempts - 1))


async def _wanted(settings: Settings, policy: Policy, today: date) -> list[dict]:
    """Every message today's calendar asks for, one dict per (rule, period, stage, recipient, channel)."""
    items = [i for i in await due_items(today) if i.status != "done"]
    staged = [(i, stage_of(policy, i.days_left)) for i in items]
    staged = [(i, s) for i, s in staged if s]
    users = await User.filter(active=True).values("id", "unit_id", "role")
    prefs = {p.user_id: p for p in await NotifyPrefs.all()}
    subs: dict[int, list[int]] = {}
    for sid, uid in await PushSubscription.all().values_list("id", "user_id"):
        subs.setdefault(uid, []).append(sid)

    def channels(uid: int) -> list[str]:
        p = prefs.get(uid)
        out = ["inbox"]
        if settings.smtp_host and p and p.email and p.email_address:
            out.append("email")
        if settings.vapid_private_key and (p is None or p.push):
            out.extend(f"push:{sid}" for sid in subs.get(uid, ()))
        return out

    by_unit: dict[int, list[int]] = {}
    for u in users:
        if u["role"] in REMINDED_ROLES:
            by_unit.setdefault(u["unit_id"], []).append(u["id"])
    rows = []
    for item, stage in staged:
        for uid in by_unit.get(item.unit_id, ()):
            for ch in channels(uid):
                rows.append(
                    dict(
                        rule=str(item.rule_id),
                        period=item.period,
                        stage=stage,
                        recipient_id=uid,
                        channel=ch,
                        unit_id=item.unit_id,
                        due=item.due,
                    )
                )
    if policy.reviewer_summary:
        late_units = {i.unit_id for i in items if i.status == "overdue"}
        if late_units:
            parents = dict(await Unit.all().values_list("id", "parent_id"))
            for u in users:
                if u["role"] not in SUMMARY_ROLES or not _late_below(u["unit_id"], late_units, parents):
                    continue
                for ch in channels(u["id"]):
                    rows.append(
                        dict(
                            rule=SUMMARY,
                            period=today.isoformat(),
                            stage="daily",
                            recipient_id=u["id"],
                            channel=ch,
                            unit_id=u["unit_id"],
                            due=None,
                        )
                    )
    return rows


def _ancestors(uid: int, parents: dict) -> set[int]:
    seen, cur = set(), parents.get(uid)
    while cur is not None and cur not in seen:
        seen.add(cur)
        cur = parents.get(cur)
    return seen


def _late_below(reviewer_unit: int, late_units: set[int], parents: dict) -> bool:
    return any(reviewer_unit in _ancestors(u, parents) for u in late_units)


async def _claim(rows: list[dict], token: str, now: datetime) -> list[ReminderLedger]:
    """Insert the wanted rows (others' rows stay theirs), take failed rows due for a retry; return ours."""
    if rows:
        taken = set(
            await ReminderLedger.filter(period__in=list({r["period"] for r in rows})).values_list(
                "rule", "period", "stage", "recipient_id", "channel"
            )
        )
        fresh = [r for r in rows if (r["rule"], r["period"], r["stage"], r["recipient_id"], r["channel"]) not in taken]
        for i in range(0, len(fresh), 500):
            await ReminderLedger.bulk_create(
                [ReminderLedger(**r, claim=token) for r in fresh[i : i + 500]], ignore_conflicts=True
            )
    await ReminderLedger.filter(status="failed", next_try_at__lte=now, attempts__lt=MAX_ATTEMPTS).update(
        status="sending", claim=token, attempts=F("attempts") + 1
    )
    return await ReminderLedger.filter(claim=token, status="sending").order_by("id")


class _Texts:
    """Renders each (rule, period, stage, unit) once per run, whoever and wherever it goes."""

    def __init__(self, today: date):
        self.today = today
        self.cache: dict[tuple, Text] = {}

    async def load(self, rows: list[ReminderLedger]) -> None:
        rule_ids = {int(r.rule) for r in rows if r.rule != SUMMARY}
        self.deadlines = {d.id: d for d in await Deadline.filter(id__in=list(rule_ids))}
        self.units = dict(await Unit.all().values_list("id", "name"))
        self.parents = dict(await Unit.all().values_list("id", "parent_id"))
        tpl_ids = {d.template_id for d in self.deadlines.values() if d.template_id}
        self.templates = dict(await Template.filter(id__in=list(tpl_ids)).values_list("id", "title"))
        # a rule names the latest version; the unit's checklist of the period may be on an older one
        self.codes = dict(await Template.filter(id__in=list(tpl_ids)).values_list("id", "code"))
        self.checklists = {
            (u, code, p): cid
            for cid, u, code, p in await Checklist.filter(template__code__in=list(set(self.codes.values())))
            .order_by("-created_ms")
            .values_list("id", "unit_id", "template__code", "period")
        }

    async def text(self, row: ReminderLedger) -> Text:
        key = (row.rule, row.period, row.stage, row.unit_id if row.rule != SUMMARY else row.recipient_id)
        if key not in self.cache:
            self.cache[key] = await (self._summary(row) if row.rule == SUMMARY else self._deadline(row))
        return self.cache[key]

    async def _deadline(self, row: ReminderLedger) -> Text:
        d = self.deadlines.get(int(row.rule))
        title = d.title if d else row.rule
        cid = self.checklists.get((row.unit_id, self.codes.get(d.template_id) if d else None, row.period))  # type: ignore[attr-defined]
        return deadline_text(
            row.stage,
            unit=self.units.get(row.unit_id, ""),
            title=title,
            period=row.period,
            due=row.due,
            today=self.today,
            checklist_id=cid,
        )

    async def _summary(self, row: ReminderLedger) -> Text:
        if not hasattr(self, "overdue"):  # read once per run, however many reviewers
            self.overdue = [i for i in await due_items(self.today) if i.status == "overdue"]
        items = self.overdue
        late = []
        for i in items:
            if row.unit_id in _ancestors(i.unit_id, self.parents):
                d = self.deadlines.get(i.rule_id) or await Deadline.get_or_none(id=i.rule_id)
                late.append(
                    {
                        "unit": self.units.get(i.unit_id, ""),
                        "title": d.title if d else "",
                        "period": i.period,
                        "due": i.due,
                    }
                )
        late.sort(key=lambda x: (x["due"], x["unit"]))
        return summary_text(self.today, late)


def _inbox_key(row: ReminderLedger) -> str:
    return f"{row.rule}/{row.period}/{row.stage}"


async def _record(results: dict[int, tuple[str, str]], rows: dict[int, ReminderLedger], now: datetime) -> None:
    """Write each row's outcome: sent, gone (subscription deleted) or failed with its next try."""
    sent = [i for i, (s, _) in results.items() if s == "sent"]
    if sent:
        await ReminderLedger.filter(id__in=sent).update(status="sent", sent_at=now, last_error="")
    for i, (status, detail) in results.items():
        if status == "sent":
            continue
        row = rows[i]
        if status == "gone":
            await ReminderLedger.filter(id=i).update(status="gone", last_error=detail)
            continue
        retry = now + backoff(row.attempts) if row.attempts < MAX_ATTEMPTS else None
        await ReminderLedger.filter(id=i).update(status="failed", last_error=detail, next_try_at=retry)


async def run_once(settings: Settings, now: datetime | None = None) -> RunReport:
    """One run at `now` (aware; default the real clock). Safe to run in several processes at once."""
    now = now or datetime.now(UTC)
    report = RunReport()
    policy = await load_policy()
    if in_quiet_hours(policy, now):
        report.held = True
        return report
    today = now.astimezone(VN).date()
    token = secrets.token_hex(8)
    rows = await _claim(await _wanted(settings, policy, today), token, now)
    report.claimed = len(rows)
    if not rows:
        return report
    texts = _Texts(today)
    await texts.load(rows)
    by_id = {r.id: r for r in rows}
    results: dict[int, tuple[str, str]] = {}

    # The inbox is our own table: the message and its ledger row are written in one transaction.
    inbox = [r for r in rows if r.channel == "inbox"]
    if inbox:
        messages = []
        for r in inbox:
            t = await texts.text(r)
            messages.append(
                InboxMessage(
                    user_id=r.recipient_id, key=_inbox_key(r), title=t.title, body="\n".join(t.lines), url=t.path
                )
            )
        async with in_transaction():
            await InboxMessage.bulk_create(messages, ignore_conflicts=True)
            await ReminderLedger.filter(id__in=[r.id for r in inbox]).update(status="sent", sent_at=now)
        report.sent["inbox"] = len(inbox)

    email = [r for r in rows if r.channel == "email"]
    if email:
        prefs = {
            p.user_id: p.email_address for p in await NotifyPrefs.filter(user_id__in=[r.recipient_id for r in email])
        }
        mails = []
        for r in email:
            t = await texts.text(r)
            mails.append(
                mail.Mail(
                    to=prefs.get(r.recipient_id, ""),
                    subject=t.title,
                    lines=[*t.lines, REMINDER_TEXTS["footer"]],
                    link=settings.public_url.rstrip("/") + t.path,
                    link_label=REMINDER_TEXTS["open_link"],
                )
            )
        try:
            errors = await mail.send_batch(settings, mails)
        except Exception as exc:  # noqa: BLE001 - never leave claimed rows "sending": retry them later
            errors = [f"{exc.__class__.__name__}: {exc}"[:250]] * len(mails)
        for r, err in zip(email, errors):
            results[r.id] = ("failed", err) if err else ("sent", "")

    pushes = [r for r in rows if r.channel.startswith("push:")]
    if pushes:
        await _send_pushes(settings, pushes, texts, results)

    await _record(results, by_id, now)
    for status, _ in results.values():
        report.failed += status == "failed"
        report.gone += status == "gone"
    report.sent["email"] = sum(1 for r in email if results[r.id][0] == "sent")
    report.sent["push"] = sum(1 for r in pushes if results[r.id][0] == "sent")
    return report


async def _send_pushes(settings: Settings, rows, texts: _Texts, results: dict) -> None:
    subs = {s.id: s for s in await PushSubscription.filter(id__in=[int(r.channel[5:]) for r in rows])}
    gate = asyncio.Semaphore(PUSH_CONCURRENCY)
    async with PushSender(settings) as sender:

        async def one(r: ReminderLedger) -> None:
            sub = subs.get(int(r.channel[5:]))
            if sub is None or sub.user_id != r.recipient_id:  # deleted, or the phone now belongs to another
                results[r.id] = ("gone", "subscription deleted or moved")
                return
            t = await texts.text(r)
            payload = {"title": t.title, "body": " ".join(t.lines), "url": t.path, "tag": f"{r.rule}/{r.period}"}
            urgency = "high" if r.stage.startswith("after") or r.stage == "before-1" else "normal"
            async with gate:
                try:
                    out = await sender.send(
                        {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}},
                        payload,
                        topic=f"{r.rule}-{r.period}",
                        urgency=urgency,
                    )
                except Exception as exc:  # noqa: BLE001 - a bad subscription key fails this push alone
                    out = PushOutcome("failed", f"{exc.__class__.__name__}: {exc}"[:250])
            results[r.id] = (out.status, out.detail)
            if out.status == "gone":
                await PushSubscription.filter(id=sub.id).delete()

        await asyncio.gather(*(one(r) for r in rows))
