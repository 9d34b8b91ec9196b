"""One batch of edits merged in memory, edit by edit: pure, no database.

`sync/push.py` loads the rows the batch touches into a `BatchState`, calls `merge_edit` for each new edit
in sequence order, then writes what `BatchWrites` collected. `merge_edit` applies the rules: scope, the
role and status rules of `sync/workflow.py`, value types (`sync/protocol.py`), the field merge of
`sync/merge.py`, conflicts (the same disagreement met again updates its open conflict). A rejected edit
gets its reason and the message of `REJECTION_REASONS`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from .clock import effective_ms
from .merge import FIELDS, EditInfo, FieldState, merge_answer
from .protocol import (
    AnswerEdit,
    CommentEdit,
    MalformedEdit,
    ResolveEdit,
    StatusEdit,
    bounded_payload,
    valid_note,
    valid_value,
)
from .rows import ANSWER_COLS, compact_answer, dumps
from .vocabulary import REJECTION_REASONS
from .workflow import (
    NEEDS_REASON,
    Actor,
    answers_locked,
    may_comment,
    may_edit_answers,
    may_reopen_approved,
    may_resolve,
    resolve_refusal,
    transition,
)

Change = tuple[int, str, str, str]  # (unit_id, checklist_id, entity, entity_key), see sync/changelog.py


@dataclass
class PushContext:
    """Who pushes, from which device, and when the server received it."""

    actor: Actor
    device_id: str
    received: int
    offset: int  # the device's clock offset (server minus device), for effective times


@dataclass
class BatchState:
    """The rows a batch's edits touch: loaded once, then changed in memory edit by edit."""

    checklists: dict[str, dict]  # in scope only
    answers: dict[tuple[str, str], dict]  # (checklist_id, item_key) -> answer of a checklist answered
    conflicts: dict[str, dict]  # named by resolve edits
    # Open conflicts per (checklist, item, field): the same disagreement again (a device re-sending its
    # losing value in a new edit) updates the open conflict instead of opening a second one.
    open_by_field: dict[tuple[str, str, str], list[dict]]
    open_conflicts: dict[str, int]  # per checklist an edit approves
    item_types: dict[int, dict[str, str]]
    aliases: dict[str, str] = field(default_factory=dict)  # a phone's checklist id -> the canonical one
    comments: dict[str, dict] = field(default_factory=dict)  # comment id -> its checklist_id, if it exists
    # For a reopen of an approved checklist: the approver's unit (checklist id -> unit id), and the
    # pushing user's scope, to tell whether the reopener is above the approver.
    approver_units: dict[str, int] = field(default_factory=dict)
    scope: set[int] = field(default_factory=set)


@dataclass
class BatchWrites:
    """What the batch changed, written set-based at its end."""

    checklists: set[str] = field(default_factory=set)
    answers: dict[tuple[str, str], dict] = field(default_factory=dict)
    new_conflicts: list[dict] = field(default_factory=list)
    changed_conflicts: dict[str, dict] = field(default_factory=dict)  # resolved, or met again
    edit_rows: list[tuple] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    new_comments: list[dict] = field(default_factory=list)


def merge_edit(e: Any, batch: PushContext, state: BatchState, writes: BatchWrites) -> dict:
    """Merge one edit into the batch's state; returns its result (as sent to the device and recorded)."""
    eff = effective_ms(e.device_ms, batch.offset, batch.received)
    res: dict[str, Any] = {"seq": e.seq, "outcome": "applied", "reason": ""}
    item_key = getattr(e, "item_key", "")
    cid = getattr(e, "checklist_id", "")
    if isinstance(e, ResolveEdit):
        c = state.conflicts.get(e.conflict_id)
        cid = c["checklist_id"] if c else ""
        item_key = c["item_key"] if c else ""
    cid = state.aliases.get(cid, cid)
    cl = state.checklists.get(cid)
    if isinstance(e, MalformedEdit):  # recorded under its seq, so the edits behind it go on
        reason = "malformed"
    elif cl is None:
        reason = "out_of_scope"
    elif isinstance(e, AnswerEdit):
        reason = _answer(e, cl, batch, eff, state, writes, res)
    elif isinstance(e, StatusEdit):
        reason = _status(e, cl, batch, state, res)
    elif isinstance(e, CommentEdit):
        reason = _comment(e, cl, batch, state, writes, res)
    else:
        reason = _resolve(e, state.conflicts[e.conflict_id], cl, batch, eff, state, writes, res)
    if reason:
        kept = {"version": res["version"]} if reason == "version_changed" and "version" in res else {}
        res = {"seq": e.seq, "outcome": "rejected", "reason": reason, "message": REJECTION_REASONS[reason], **kept}
    elif isinstance(e, CommentEdit):  # a comment changes no answer: the checklist's version stays
        assert cl is not None
        res["checklist_version"] = cl["version"]
    else:
        assert cl is not None
        writes.checklists.add(cid)
        writes.changes.append((cl["unit_id"], cid, "checklist", ""))
        res["checklist_version"] = cl["version"]
    if res["reason"] == "out_of_scope":
        # Recorded under no checklist and no item: the row must not name what is outside the sender's scope
        # (a resolve's conflict or an alias would resolve to the foreign checklist's id), nor show up in
        # that checklist's edit log. The payload keeps what the sender wrote, and only that.
        cid, item_key = "", ""
    writes.edit_rows.append(edit_row(e, batch, cid, item_key, eff, res))
    return res


EDIT_ROW_OUTCOME, EDIT_ROW_REASON = 10, 11  # where edit_row puts them (the edit tally reads them)


def edit_row(e: Any, batch: PushContext, checklist_id: str, item_key: str, eff: int, res: dict) -> tuple:
    """The Edit row that records one edit and its result (the payload as the phone sent it)."""
    return (
        batch.device_id,
        e.seq,
        batch.actor.username,
        e.kind,
        checklist_id,
        item_key,
        _payload(e, res["reason"], checklist_id),
        e.device_ms,
        eff,
        batch.received,
        res["outcome"],
        res["reason"],
        _detail(res),
    )


# ---------------------------------------------------------------------------------------------- one edit


def _payload(e: Any, reason: str, checklist_id: str) -> str:
    """The edit as kept: whole when applied (its values are bounded), cut to a bounded form when rejected.
    An applied answer keeps only what its row's columns do not hold (`compact_answer`)."""
    if isinstance(e, MalformedEdit):
        return e.payload
    if not reason and isinstance(e, AnswerEdit):
        return compact_answer(e, checklist_id)
    text = e.model_dump_json(exclude_unset=True)
    return bounded_payload(text) if reason else text


def _detail(res: dict) -> str:
    """What the Edit row keeps of a result, to answer a duplicate with it later."""
    if len(res) == 5 and "version" in res and "checklist_version" in res:  # the common case, without json
        return '{"checklist_version":%d,"version":%d}' % (res["checklist_version"], res["version"])
    return dumps({k: v for k, v in res.items() if k not in ("seq", "outcome", "reason")})


# The column names of each field (value, value_ms, …), made once: read and written for every answer edit.
_FIELD_COLS = {f: (f, f"{f}_ms", f"{f}_by", f"{f}_device", f"{f}_seq", f"{f}_version") for f in FIELDS}


def _field_state(a: dict, name: str) -> FieldState:
    v, ms, by, device, seq, version = _FIELD_COLS[name]
    return FieldState(a[v], a[ms], a[by], a[device], a[seq], a[version])


def _set_field(a: dict, name: str, s: FieldState) -> None:
    v, ms, by, device, seq, version = _FIELD_COLS[name]
    a[v] = s.value if name == "value" else (s.value or "")
    a[ms], a[by], a[device], a[seq], a[version] = s.ms, s.by, s.device, s.seq, s.version


def _answer_row(state: BatchState, checklist_id: str, item_key: str) -> dict:
    """The answer's row, a blank one (id None: inserted) if the item was never answered."""
    key = (checklist_id, item_key)
    a = state.answers.get(key)
    if a is None:
        a = {c: 0 for c in ANSWER_COLS}
        a.update(
            id=None,
            checklist_id=checklist_id,
            item_key=item_key,
            value=None,
            note="",
            value_by="",
            value_device="",
            note_by="",
            note_device="",
            review_comment="",
        )
        state.answers[key] = a
    return a


def _touch(cl: dict, received: int) -> None:
    cl["version"] += 1
    cl["updated_ms"] = received
    if cl["status"] == "returned":  # the next edit of a returned checklist makes it a draft again
        cl["status"] = "draft"


def _status(e: StatusEdit, cl: dict, batch: PushContext, state: BatchState, res: dict) -> str:
    if e.action == "reopen" and cl["status"] == "approved":
        if not may_reopen_approved(batch.actor, state.approver_units.get(cl["id"]), state.scope):
            return "reopen_above_only"
    d = transition(
        batch.actor,
        cl["unit_id"],
        cl["status"],
        e.action,
        seen_version=e.seen_version,
        version=cl["version"],
        open_conflicts=state.open_conflicts.get(cl["id"], 0),
        comment=e.comment,
        submitted_by=cl["status_by"] if cl["status"] == "submitted" else "",
    )
    if not d.ok:
        if d.reason == "version_changed":  # the client shows what changed since the version it saw
            res["version"] = cl["version"]
        return d.reason
    if e.action == "approve":
        cl["approved_version"] = cl["version"]
    cl.update(status=d.new_status, status_by=batch.actor.username, status_ms=batch.received, last_action=e.action)
    if e.action in NEEDS_REASON:  # status_comment is the last return/reopen reason, shown with the status
        cl["status_comment"] = e.comment.strip()
    cl["version"] += 1
    cl["updated_ms"] = batch.received
    res["status"] = d.new_status
    return ""


def _answer(
    e: AnswerEdit, cl: dict, batch: PushContext, eff: int, state: BatchState, writes: BatchWrites, res: dict
) -> str:
    if not may_edit_answers(batch.actor):
        return "forbidden"
    item_type = state.item_types.get(cl["template_id"], {}).get(e.item_key)
    if item_type is None:
        return "not_found"
    new: dict[str, str | None] = {}
    if "value" in e.model_fields_set:
        if not valid_value(item_type, e.value):
            return "invalid_value"
        new["value"] = dumps(e.value) if e.value is not None else None
    if e.note is not None:
        new["note"] = e.note
    if not new:
        return "invalid_value"
    if answers_locked(cl["status"]):
        return "checklist_locked"
    a = _answer_row(state, cl["id"], e.item_key)
    info = EditInfo(eff, batch.actor.username, batch.device_id, e.seq, e.base_version)
    m = merge_answer({f: _field_state(a, f) for f in FIELDS}, a["version"], new, info)
    res["outcome"] = m.outcome
    if m.fields:
        for name, fstate in m.fields.items():
            _set_field(a, name, fstate)
        a["version"] += 1
        a["updated_ms"] = batch.received
        writes.answers[(cl["id"], e.item_key)] = a
    if m.fields or m.conflicts:
        _touch(cl, batch.received)
        writes.changes.append((cl["unit_id"], cl["id"], "answer", e.item_key))
    if m.conflicts:
        res["won"] = m.won
        res["conflict_id"] = _record_conflicts(m.conflicts, cl, e.item_key, batch.received, state, writes)[0]
    res["version"] = a["version"]
    return ""


def _record_conflicts(
    records: list, cl: dict, item_key: str, received: int, state: BatchState, writes: BatchWrites
) -> list[str]:
    """Open a conflict per record, or update the open one of the same two values; returns their ids."""
    ids = []
    for rec in records:
        sides = {
            "winner_value": rec.winner.value,
            "winner_by": rec.winner.by,
            "winner_device": rec.winner.device,
            "winner_ms": rec.winner.ms,
            "loser_value": rec.loser.value,
            "loser_by": rec.loser.by,
            "loser_device": rec.loser.device,
            "loser_ms": rec.loser.ms,
        }
        pair = {rec.winner.value, rec.loser.value}
        open_ = state.open_by_field.setdefault((cl["id"], item_key, rec.field), [])
        same = [c for c in open_ if {c["winner_value"], c["loser_value"]} == pair]
        if same:
            c = same[0]
            c.update(sides)
            if c not in writes.new_conflicts:
                writes.changed_conflicts[c["id"]] = c
        else:
            c = {
                "id": str(uuid.uuid4()),
                "checklist_id": cl["id"],
                "item_key": item_key,
                "field": rec.field,
                **sides,
                "status": "open",
                "resolved_by": "",
                "resolved_ms": None,
                "resolved_value": None,
                "created_ms": received,
            }
            writes.new_conflicts.append(c)
            open_.append(c)
        ids.append(c["id"])
        writes.changes.append((cl["unit_id"], cl["id"], "conflict", c["id"]))
    return ids


def _resolve(
    e: ResolveEdit, c: dict, cl: dict, batch: PushContext, eff: int, state: BatchState, writes: BatchWrites, res: dict
) -> str:
    if c["status"] != "open":
        return "conflict_closed" if may_resolve(batch.actor) else "forbidden"
    if c["field"] == "value":
        item_type = state.item_types.get(cl["template_id"], {}).get(c["item_key"], "")
        if not valid_value(item_type, e.value):
            return "invalid_value"
        text = dumps(e.value) if e.value is not None else None
        entered: tuple[str | None, ...] = (c["winner_value"], c["loser_value"])
    else:
        if not valid_note(e.value):
            return "invalid_value"
        text = e.value or ""
        entered = (c["winner_value"] or "", c["loser_value"] or "")
    refusal = resolve_refusal(batch.actor, cl["status"], text, entered)
    if refusal:
        return refusal
    a = _answer_row(state, cl["id"], c["item_key"])
    _set_field(a, c["field"], FieldState(text, eff, batch.actor.username, batch.device_id, e.seq, a["version"] + 1))
    a["version"] += 1
    a["updated_ms"] = batch.received
    writes.answers[(cl["id"], c["item_key"])] = a
    c.update(status="resolved", resolved_by=batch.actor.username, resolved_ms=batch.received, resolved_value=text)
    writes.changed_conflicts[c["id"]] = c
    _touch(cl, batch.received)
    writes.changes.append((cl["unit_id"], cl["id"], "answer", c["item_key"]))
    writes.changes.append((cl["unit_id"], cl["id"], "conflict", c["id"]))
    res["version"] = a["version"]
    return ""


def _comment(e: CommentEdit, cl: dict, batch: PushContext, state: BatchState, writes: BatchWrites, res: dict) -> str:
    if not may_comment(batch.actor):
        return "forbidden"
    if e.item_key and e.item_key not in state.item_types.get(cl["template_id"], {}):
        return "not_found"
    res["comment_id"] = e.comment_id
    known = state.comments.get(e.comment_id)
    if known is not None:  # the same comment sent again (another seq): it stands once
        if known["checklist_id"] != cl["id"]:
            return "comment_id_taken"
        res["repeated"] = True  # applied before: nothing new is written (nor audited)
        return ""
    row = {
        "id": e.comment_id,
        "checklist_id": cl["id"],
        "item_key": e.item_key,
        "text": e.text,
        "author": batch.actor.username,
        "author_role": batch.actor.role,
        "device_id": batch.device_id,
        "seq": e.seq,
        "created_ms": batch.received,
        "checklist_version": cl["version"],
    }
    state.comments[e.comment_id] = row
    writes.new_comments.append(row)
    writes.changes.append((cl["unit_id"], cl["id"], "comment", e.comment_id))
    return ""
