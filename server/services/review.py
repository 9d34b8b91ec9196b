"""The reviewer's work: the queue of what the units below declared, what changed since a version, a
checklist's timeline, the audit of every comment and decision, and the desk's own device.

Decisions and comments are never written here directly: the desk sends them as edits through the sync
engine (`desk_push`), exactly as a phone does, and every applied comment or decision, from a phone or the
desk, is written to the AuditLog from the push's results (`audit_push`), so `sync/` stays pure.

Scope: a reviewer sees the units strictly below their own (the tree is data: a district over communes,
or a province straight over communes); a checklist outside the caller's scope is `checklist_not_found`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sync import engine
from sync.models import Checklist, Conflict, Device, Edit, ReviewComment
from sync.periods import due_date_of
from sync.protocol import read_push
from sync.rows import loads
from sync.sql import now_ms
from sync.vocabulary import CHECKLIST_STATUSES, DECIDERS

from .. import auth
from ..errors import problem
from ..models import AuditLog, Deadline, Session, Template, TemplateItem, Unit, User
from . import devices
from .checklists import get_checklist, progress_of
from .tree import ancestor_ids, subtree_ids

MAX_QUEUE = 500
DESK_DEVICE_NAME = "Bàn duyệt (trang web)"
QUEUE_STATUSES = (*CHECKLIST_STATUSES, "all")


# ---------------------------------------------------------------------------------------------- queue


async def units_below(user: User) -> set[int]:
    """The units a decider reviews: every unit of their scope but their own."""
    if user.role not in DECIDERS:
        raise problem("forbidden")
    return await auth.scope_unit_ids(user) - {user.unit_id}  # type: ignore[attr-defined]


async def periods_below(units: set[int]) -> list[str]:
    """The periods the units' checklists have, newest first and "once" last: what a filter offers."""
    found = set(await Checklist.filter(unit_id__in=units).distinct().values_list("period", flat=True))
    return sorted(found, key=lambda p: (p != "once", p), reverse=True)


async def _due_dates(checklists: list[Checklist], templates: dict[int, Template]) -> dict[str, date | None]:
    """Each checklist's due date: the earliest deadline of its template set on its unit or above. A rule
    names the latest version of a template; a checklist on an older one is due by it all the same."""
    # the province's binding rules only, read as the deadlines service reads them (sync/periods.py)
    deadlines = [d for d in await Deadline.filter(binding=True, template_id__not_isnull=True) if d.template_id]  # type: ignore[attr-defined]
    codes = dict(await Template.filter(id__in={d.template_id for d in deadlines}).values_list("id", "code"))  # type: ignore[attr-defined]
    units = {u.id: u for u in await Unit.filter(id__in={c.unit_id for c in checklists})}  # type: ignore[attr-defined]
    above: dict[int, list[int]] = {}
    out: dict[str, date | None] = {}
    for c in checklists:
        uid = c.unit_id  # type: ignore[attr-defined]
        if uid not in above:
            above[uid] = await ancestor_ids(uid)
        dues = [
            due
            for d in deadlines
            if codes.get(d.template_id) == templates[c.template_id].code  # type: ignore[attr-defined]
            and d.unit_id in above[uid]  # type: ignore[attr-defined]
            and (d.level is None or d.level == units[uid].level)
            and (due := due_date_of(d.recurrence, d.period_kind, d.period_offset, c.period, d.due_date)) is not None
        ]
        out[c.id] = min(dues) if dues else None
    return out


@dataclass
class QueueFilters:
    unit_id: int | None = None
    template_id: int | None = None
    period: str = ""
    status: str = "submitted"


async def queue(user: User, f: QueueFilters) -> dict:
    """Checklists of the units below the caller, oldest deadline first (then longest waiting), with counts
    per status (under the other filters) and per unit (waiting for review)."""
    below = await units_below(user)
    if f.status not in QUEUE_STATUSES:
        raise problem("review_status_invalid", field="status")
    if f.unit_id is not None:
        if f.unit_id not in below:
            raise problem("unit_not_found", field="unit_id")
        below = await subtree_ids(f.unit_id) & below
    qs = Checklist.filter(unit_id__in=below)
    if f.template_id is not None:  # the template's every version: the filter offers the published one
        picked = await Template.get_or_none(id=f.template_id)
        qs = qs.filter(template__code=picked.code) if picked else qs.filter(template_id=f.template_id)
    if f.period:
        qs = qs.filter(period=f.period)
    by_status = {s: 0 for s in CHECKLIST_STATUSES}
    waiting: dict[int, int] = {}
    for status, uid in await qs.values_list("status", "unit_id"):  # counts over every row, cheaply
        by_status[status] = by_status.get(status, 0) + 1
        if status == "submitted":
            waiting[uid] = waiting.get(uid, 0) + 1
    chosen_qs = qs if f.status == "all" else qs.filter(status=f.status)
    # the longest waiting first when there are more than a page holds; then sorted by deadline below
    chosen = list(await chosen_qs.order_by("updated_ms").limit(MAX_QUEUE * 4))
    templates = {t.id: t for t in await Template.filter(id__in={c.template_id for c in chosen})}  # type: ignore[attr-defined]
    dues = await _due_dates(chosen, templates)
    chosen.sort(key=lambda c: (dues[c.id] is None, dues[c.id] or date.max, c.status_ms or c.updated_ms, c.id))
    chosen = chosen[:MAX_QUEUE]
    units = await _unit_names({c.unit_id for c in chosen} | set(waiting))  # type: ignore[attr-defined]
    progress = await progress_of(chosen)
    return {
        "checklists": [
            {
                "id": c.id,
                "unit": units[c.unit_id],  # type: ignore[attr-defined]
                "template": {
                    "id": c.template_id,
                    "code": templates[c.template_id].code,
                    "title": templates[c.template_id].title,
                },  # type: ignore[attr-defined]
                "period": c.period,
                "status": c.status,
                "reopened": c.status == "draft" and c.last_action == "reopen",
                "version": c.version,
                "status_by": c.status_by,
                "status_ms": c.status_ms,
                "status_comment": c.status_comment,
                "due": dues[c.id].isoformat() if dues[c.id] else None,
                "progress": progress[c.id],
            }
            for c in chosen
        ],
        "counts": {
            "by_status": by_status,
            "by_unit": sorted(
                ({**units[u], "waiting": n} for u, n in waiting.items()), key=lambda x: (-x["waiting"], x["name"])
            ),
        },
        "filters": {"unit_id": f.unit_id, "template_id": f.template_id, "period": f.period, "status": f.status},
    }


async def _unit_names(ids: set[int]) -> dict[int, dict]:
    """id -> {"id", "name", "parent_name"}: communes of the same name are told apart by their parent."""
    units = list(await Unit.filter(id__in=ids))
    parents = {u.id: u.name for u in await Unit.filter(id__in={u.parent_id for u in units if u.parent_id})}  # type: ignore[attr-defined]
    return {u.id: {"id": u.id, "name": u.name, "parent_name": parents.get(u.parent_id, "")} for u in units}  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------- changes


async def _checklist_in_scope(user: User, checklist_id: str) -> Checklist:
    detail = await get_checklist(user, checklist_id)  # follows aliases; checklist_not_found outside scope
    return detail.checklist


def _detail(e: Edit) -> dict:
    try:
        return json.loads(e.detail or "{}")
    except ValueError:
        return {}


def _payload(e: Edit) -> dict:
    try:
        data = json.loads(e.payload)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def default_since(user: User, checklist: Checklist) -> int:
    """The version the caller last returned this checklist at, else the one of the submit before last,
    else 0 (everything is new)."""
    status_edits = [
        (e, _payload(e), _detail(e))
        for e in await Edit.filter(checklist_id=checklist.id, kind="status", outcome="applied").order_by("id")
    ]
    mine = [d for e, p, d in status_edits if e.username == user.username and p.get("action") == "return"]
    if mine:
        return int(mine[-1].get("checklist_version", 0))
    submits = [d for _e, p, d in status_edits if p.get("action") == "submit"]
    if len(submits) >= 2:
        return int(submits[-2].get("checklist_version", 0))
    return 0


async def changes(user: User, checklist_id: str, since: int | None = None) -> dict:
    """Per item: the value and note at checklist version `since` (old) and now (new), and who changed it
    last and when, replayed from the edit log. Items that read the same at both are left out."""
    checklist = await _checklist_in_scope(user, checklist_id)
    if since is None:
        since = await default_since(user, checklist)
    edits = list(
        await Edit.filter(
            checklist_id=checklist.id, kind__in=("answer", "resolve"), outcome__in=("applied", "merged", "conflict")
        ).order_by("id")
    )
    conflict_ids = [p.get("conflict_id") for e in edits if e.kind == "resolve" for p in [_payload(e)]]
    fields_of = {c.id: c.field for c in await Conflict.filter(id__in=[c for c in conflict_ids if c])}
    old: dict[str, dict[str, Any]] = {}
    last: dict[str, tuple[str, int]] = {}
    for e in edits:
        d, p = _detail(e), _payload(e)
        if e.outcome == "conflict" and not d.get("won", True):
            continue  # the losing value was kept as a conflict, not set
        if e.kind == "resolve":
            set_fields = {fields_of.get(p.get("conflict_id", ""), "value"): p.get("value")}
        else:
            set_fields = {}
            if "value" in p:
                set_fields["value"] = p["value"]
            if p.get("note") is not None:
                set_fields["note"] = p["note"]
        if int(d.get("checklist_version", 0)) <= since:
            old.setdefault(e.item_key, {}).update(set_fields)
        else:
            last[e.item_key] = (e.username, e.received_ms)
    items = {i.key: i for i in await TemplateItem.filter(template_id=checklist.template_id)}  # type: ignore[attr-defined]
    detail = await get_checklist(user, checklist.id)
    now = {a.item_key: {"value": loads(a.value), "note": a.note or ""} for a in detail.answers}
    names = await _full_names({u for u, _ms in last.values()})
    out = []
    for key in sorted(set(old) | set(now), key=lambda k: (items[k].position if k in items else 10**6, k)):
        o = {"value": old.get(key, {}).get("value"), "note": old.get(key, {}).get("note") or ""}
        n = now.get(key, {"value": None, "note": ""})
        if o == n or key not in last:
            continue
        by, at = last[key]
        out.append(
            {
                "item_key": key,
                "label": items[key].label if key in items else key,
                "type": items[key].type if key in items else "text",
                "old_value": o["value"],
                "new_value": n["value"],
                "old_note": o["note"],
                "new_note": n["note"],
                "by": by,
                "by_name": names.get(by, ""),
                "at_ms": at,
            }
        )
    return {"checklist_id": checklist.id, "since": since, "version": checklist.version, "items": out}


async def _full_names(usernames: set[str]) -> dict[str, str]:
    return dict(await User.filter(username__in=usernames).values_list("username", "full_name")) if usernames else {}


# ---------------------------------------------------------------------------------------------- timeline


async def timeline(user: User, checklist_id: str) -> dict:
    """Submit, return, approve and reopen decisions and comments, in the order the server received them
    (one push's edits in their device's order)."""
    checklist = await _checklist_in_scope(user, checklist_id)
    events: list[dict] = []
    for e in await Edit.filter(checklist_id=checklist.id, kind="status", outcome="applied").order_by("id"):
        p, d = _payload(e), _detail(e)
        action = p.get("action", "")
        after = int(d.get("checklist_version", 0))
        events.append(
            {
                "kind": action,
                "by": e.username,
                "at_ms": e.received_ms,
                # the version decided on: the one the reviewer saw for an approval, else the one acted on
                "version": p.get("seen_version") if action == "approve" else max(after - 1, 0),
                "text": p.get("comment", "") or "",
                "item_key": "",
                "order": (e.received_ms, e.device_id, e.seq),
            }
        )
    for c in await ReviewComment.filter(checklist_id=checklist.id):
        events.append(
            {
                "kind": "comment",
                "by": c.author,
                "at_ms": c.created_ms,
                "version": c.checklist_version,
                "text": c.text,
                "item_key": c.item_key,
                "comment_id": c.id,
                "order": (c.created_ms, c.device_id, c.seq),
            }
        )
    events.sort(key=lambda x: x.pop("order"))
    names = await _full_names({x["by"] for x in events})
    for x in events:
        x["by_name"] = names.get(x["by"], "")
    return {"checklist_id": checklist.id, "events": events}


async def comments_of(checklist_id: str) -> list[ReviewComment]:
    return list(await ReviewComment.filter(checklist_id=checklist_id).order_by("created_ms", "seq"))


# ---------------------------------------------------------------------------------------------- audit

_AUDITED = {"comment", "status"}


async def audit_push(user: User, device_id: str, edits: list, body: dict) -> None:
    """An AuditLog row for every comment and decision this push applied (a duplicate was audited when it
    was first applied): who, when (the row's time), from which device and seq, at which version."""
    results = {r["seq"]: r for r in body.get("results", [])}
    rows = []
    for e in edits:
        kind = getattr(e, "kind", "")
        res = results.get(e.seq)
        if kind not in _AUDITED or not res or res.get("outcome") != "applied":
            continue
        if res.get("duplicate") or res.get("repeated"):  # audited when it was first applied
            continue
        detail: dict[str, Any] = {
            "device_id": device_id,
            "seq": e.seq,
            "checklist_version": res.get("checklist_version"),
        }
        if kind == "comment":
            action = "checklist.comment"
            detail.update(comment_id=e.comment_id, item_key=e.item_key, text=e.text)
        else:
            action = f"checklist.{e.action}"
            detail.update(comment=e.comment, seen_version=e.seen_version, status=res.get("status"))
        rows.append(
            AuditLog(
                username=user.username, action=action, object_type="checklist", object_id=e.checklist_id, detail=detail
            )
        )
    if rows:
        await AuditLog.bulk_create(rows)


# ---------------------------------------------------------------------------------------------- the desk


async def desk_device(user: User, session: Session | None) -> Device:
    """The desk's device of this session: registered once per session (its Idempotency-Key names it)."""
    if session is None:
        raise problem("not_authenticated")
    device, _created = await devices.register(user, session, DESK_DEVICE_NAME, f"desk-{session.id}")
    return device


async def desk_push(user: User, session: Session | None, edits: list[dict]) -> list[dict]:
    """Send edits from the desk through the sync engine, numbered after the desk device's last seq.
    Returns the results, one per edit, as a phone would receive them."""
    scope = await auth.scope_unit_ids(user)
    for _attempt in range(2):
        device = await desk_device(user, session)
        received = now_ms()
        numbered = [{**e, "seq": device.last_seq + 1 + i, "device_ms": received} for i, e in enumerate(edits)]
        req = read_push(
            {"protocol": 1, "device_id": device.id, "client_ms": received, "edits": numbered}, received_ms=received
        )
        body = await engine.apply_push(user, scope, req, received_ms=received)
        await audit_push(user, device.id, req.edits, body)
        results = body.get("results", [])
        # Two forms of one session sent at once took the same seq: the other one's edit stands; send again.
        if not any(r.get("reason") == "duplicate_mismatch" for r in results):
            break
    return results


def new_comment_id() -> str:
    return str(uuid.uuid4())
