"""Applying a push: one batch of edits from one device in ONE transaction, set-based.

1. lock the device row (PostgreSQL `SELECT … FOR UPDATE`; SQLite: the first statement is a write, so the
   transaction holds the database's single write lock from its start),
2. split the batch into duplicates (`seq <= last_seq`: answered from the recorded Edit rows) and new edits
   (must continue at `last_seq + 1`, else the batch stops there with `sequence_gap`),
3. load the state the new edits touch in a few queries (`load_batch_state`: checklists, their answers,
   the conflicts named, open-conflict counts, item types),
4. merge edit by edit in Python (`merge_edit`: the merge rules of `sync/merge.py`, the workflow of
   `sync/workflow.py`), changing that state in memory and noting what changed,
5. write answers, checklists, conflicts, one Edit row per edit (`write_batch`, with `executemany`) and
   the device's `last_seq`, then append the change log (`sync/changelog.py`) last; commit; answer.

A rejected edit is recorded with its reason and the message of `REJECTION_REASONS`; a refusal of the whole
request is a `SyncError` named in `SYNC_ERRORS` (the payload of a refused device is kept in Quarantine).
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

from tortoise.transactions import in_transaction

from .changelog import append_changes
from .clock import clock_offset, effective_ms
from .merge import FIELDS, EditInfo, FieldState, merge_answer
from .protocol import MIN_PROTOCOL, AnswerEdit, PushRequest, ResolveEdit, StatusEdit, SyncError, refusal, valid_value
from .rows import (
    ANSWER_COLS, CHECKLIST_COLS, CONFLICT_COLS, SELECT_ANSWERS_OF, SELECT_CHECKLISTS, SELECT_CONFLICTS, device_refusal,
    dumps, fetch_device, fetch_in, item_types,
)
from .sql import execute, execute_many, fetch, in_list, is_postgres, now_ms
from .vocabulary import REJECTION_REASONS, SYNC_ERRORS
from .workflow import Actor, answer_edit, may_edit_answers, may_resolve, transition

Change = tuple[int, str, str, str]  # (unit_id, checklist_id, entity, entity_key), see sync/changelog.py


class _Refused(Exception):
    """A whole-request refusal found inside the transaction: rolled back, then quarantined."""

    def __init__(self, error: SyncError) -> None:
        self.error = error


async def quarantine(device_id: str, username: str, reason: str, payload: str) -> None:
    async with in_transaction() as conn:
        await execute(conn, "INSERT INTO quarantine (device_id, username, reason, payload, received_ms) "
                            "VALUES (?, ?, ?, ?, ?)", [device_id[:36], username, reason, payload, now_ms()])


async def apply_push(user: Any, scope: set[int], req: PushRequest, *, raw: Optional[str] = None,
                     received_ms: Optional[int] = None) -> dict:
    """Apply one batch. Returns the response body; a body with "error" (sequence gap) is answered 409.

    Raises SyncError for refusals of the whole request (client too old, unknown or revoked device); the
    payload of a refused push from a known-bad device is kept in Quarantine first.
    """
    if req.protocol < MIN_PROTOCOL:
        raise refusal("client_too_old", min_protocol=MIN_PROTOCOL)
    received = received_ms if received_ms is not None else now_ms()
    offset = clock_offset(received, req.client_ms)
    edits = sorted({e.seq: e for e in reversed(req.edits)}.values(), key=lambda e: e.seq)
    try:
        async with in_transaction() as conn:
            return await _apply_in_tx(conn, user, scope, req.device_id, edits, received, offset)
    except _Refused as refused:
        payload = raw if raw is not None else req.model_dump_json()
        await quarantine(req.device_id, user.username, refused.error.code, payload)
        raise refused.error from None


async def _apply_in_tx(conn: Any, user: Any, scope: set[int], device_id: str, edits: list, received: int,
                       offset: int) -> dict:
    pg = is_postgres(conn)
    if not pg:  # take SQLite's write lock first: a read-then-write DEFERRED transaction could fail later
        await execute(conn, "UPDATE device SET last_push_ms = ? WHERE id = ?", [received, device_id])
    device = await fetch_device(conn, device_id, lock=pg)
    problem = device_refusal(device, user)
    if problem:
        raise _Refused(refusal(problem))
    assert device is not None
    last_seq = device["last_seq"]

    results = await _recorded_results(conn, device_id, [e.seq for e in edits if e.seq <= last_seq])
    fresh, gap = _continuing(edits, last_seq)
    if fresh:
        batch = PushContext(Actor(user.username, user.role, user.unit_id), device_id, received, offset)
        await _merge_batch(conn, batch, scope, fresh, results)
        last_seq = fresh[-1].seq
    await execute(conn, "UPDATE device SET last_seq = ?, clock_offset_ms = ?, last_push_ms = ? WHERE id = ?",
                  [last_seq, offset, received, device_id])
    body = {"last_seq": last_seq, "server_ms": received, "clock_offset_ms": offset,
            "results": [results[e.seq] for e in edits if e.seq in results]}
    if gap is not None:
        body.update(error="sequence_gap", expected_seq=gap, message=SYNC_ERRORS["sequence_gap"][1])
    return body


async def _recorded_results(conn: Any, device_id: str, dups: list[int]) -> dict[int, dict]:
    """Duplicates are answered with what was recorded for them."""
    results: dict[int, dict] = {}
    if dups:
        wanted = set(dups)
        for r in await fetch(conn, "SELECT seq, outcome, reason, detail FROM edit WHERE device_id = ? AND seq >= ? "
                                   "AND seq <= ?", [device_id, min(dups), max(dups)]):
            if r["seq"] in wanted:
                results[r["seq"]] = {"seq": r["seq"], "outcome": r["outcome"], "reason": r["reason"],
                                     "duplicate": True, **json.loads(r["detail"] or "{}")}
    return results


def _continuing(edits: list, last_seq: int) -> tuple[list, Optional[int]]:
    """The new edits that continue at last_seq + 1 without a hole, and the first missing seq if any."""
    fresh, expected = [], last_seq + 1
    for e in edits:
        if e.seq <= last_seq:
            continue
        if e.seq != expected:
            return fresh, expected
        fresh.append(e)
        expected += 1
    return fresh, None


# ---------------------------------------------------------------------------------------------- the batch

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


@dataclass
class BatchWrites:
    """What the batch changed, written set-based at its end."""

    checklists: set[str] = field(default_factory=set)
    answers: dict[tuple[str, str], dict] = field(default_factory=dict)
    new_conflicts: list[dict] = field(default_factory=list)
    changed_conflicts: dict[str, dict] = field(default_factory=dict)  # resolved, or met again
    edit_rows: list[tuple] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)


async def _merge_batch(conn: Any, batch: PushContext, scope: set[int], edits: list, results: dict[int, dict]) -> None:
    state = await load_batch_state(conn, scope, edits)
    writes = BatchWrites()
    for e in edits:
        results[e.seq] = merge_edit(e, batch, state, writes)
    await write_batch(conn, state, writes)


async def load_batch_state(conn: Any, scope: set[int], edits: list) -> BatchState:
    """Everything the edits touch, in a few queries; checklists outside `scope` are left out."""
    conflict_ids = [e.conflict_id for e in edits if isinstance(e, ResolveEdit)]
    conflicts: dict[str, dict] = {}
    if conflict_ids:
        conflicts = {r["id"]: r for r in await fetch_in(conn, SELECT_CONFLICTS, conflict_ids)}
    checklist_ids = {e.checklist_id for e in edits if not isinstance(e, ResolveEdit)}
    checklist_ids.update(c["checklist_id"] for c in conflicts.values())
    # PostgreSQL: lock the checklists (in id order: no deadlocks) before reading their answers, so that two
    # processes merging edits of one checklist take turns. Every answer change also updates its checklist.
    lock = " ORDER BY id FOR UPDATE" if is_postgres(conn) else ""
    checklists = {r["id"]: r for r in await fetch_in(conn, SELECT_CHECKLISTS + lock, sorted(checklist_ids))
                  if r["unit_id"] in scope}
    if conflicts and lock:  # read again under the lock: another process may have resolved one meanwhile
        conflicts = {r["id"]: r for r in await fetch_in(conn, SELECT_CONFLICTS, conflict_ids)}
    answered = {e.checklist_id for e in edits if isinstance(e, AnswerEdit)} | {c["checklist_id"] for c in conflicts.values()}
    answered &= set(checklists)
    answers = {(r["checklist_id"], r["item_key"]): r for r in await fetch_in(conn, SELECT_ANSWERS_OF, answered)}
    open_by_field: dict[tuple[str, str, str], list[dict]] = {}
    for r in await fetch_in(conn, f"SELECT {', '.join(CONFLICT_COLS)} FROM conflict WHERE status = ? AND "
                                  "checklist_id IN ({in})", answered, ["open"]):
        open_by_field.setdefault((r["checklist_id"], r["item_key"], r["field"]), []).append(r)
    approved = {e.checklist_id for e in edits if isinstance(e, StatusEdit) and e.action == "approve"} & set(checklists)
    open_conflicts: dict[str, int] = {c: 0 for c in approved}
    if approved:
        for r in await fetch_in(conn, "SELECT checklist_id, COUNT(*) AS n FROM conflict WHERE status = ? AND "
                                      "checklist_id IN ({in}) GROUP BY checklist_id", approved, ["open"]):
            open_conflicts[r["checklist_id"]] = r["n"]
    types = await item_types(conn, {c["template_id"] for c in checklists.values()})
    return BatchState(checklists, answers, conflicts, open_by_field, open_conflicts, types)


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
    cl = state.checklists.get(cid)
    if cl is None:
        reason = "out_of_scope"
    elif isinstance(e, AnswerEdit):
        reason = _answer(e, cl, batch, eff, state, writes, res)
    elif isinstance(e, StatusEdit):
        reason = _status(e, cl, batch, state, res)
    else:
        reason = _resolve(e, state.conflicts[e.conflict_id], cl, batch, eff, state, writes, res)
    if reason:
        res = {"seq": e.seq, "outcome": "rejected", "reason": reason, "message": REJECTION_REASONS[reason]}
    else:
        assert cl is not None
        writes.checklists.add(cid)
        writes.changes.append((cl["unit_id"], cid, "checklist", ""))
        res["checklist_version"] = cl["version"]
    writes.edit_rows.append((batch.device_id, e.seq, batch.actor.username, e.kind, cid, item_key,
                             e.model_dump_json(exclude_unset=True), e.device_ms, eff, batch.received,
                             res["outcome"], reason, _detail(res)))
    return res


async def write_batch(conn: Any, state: BatchState, writes: BatchWrites) -> None:
    """Write what the batch changed with one `executemany` per kind of row; the change log last."""
    new_rows = [a for a in writes.answers.values() if a["id"] is None]
    old_rows = [a for a in writes.answers.values() if a["id"] is not None]
    cols = ANSWER_COLS[1:]
    if new_rows:
        await execute_many(conn, f"INSERT INTO answer ({', '.join(cols)}) VALUES ({in_list(len(cols))})",
                           [[a[c] for c in cols] for a in new_rows])
    if old_rows:
        upd = [c for c in cols if c not in ("checklist_id", "item_key", "review_comment")]
        await execute_many(conn, f"UPDATE answer SET {', '.join(c + ' = ?' for c in upd)} WHERE id = ?",
                           [[*(a[c] for c in upd), a["id"]] for a in old_rows])
    if writes.checklists:
        upd = ("status", "version", "status_by", "status_ms", "status_comment", "approved_version", "updated_ms")
        await execute_many(conn, f"UPDATE checklist SET {', '.join(c + ' = ?' for c in upd)} WHERE id = ?",
                           [[*(state.checklists[c][k] for k in upd), c] for c in writes.checklists])
    if writes.new_conflicts:
        await execute_many(conn, f"INSERT INTO conflict ({', '.join(CONFLICT_COLS)}) VALUES ({in_list(len(CONFLICT_COLS))})",
                           [[c[k] for k in CONFLICT_COLS] for c in writes.new_conflicts])
    if writes.changed_conflicts:
        upd = [k for k in CONFLICT_COLS if k not in ("id", "checklist_id", "item_key", "field", "created_ms")]
        await execute_many(conn, f"UPDATE conflict SET {', '.join(k + ' = ?' for k in upd)} WHERE id = ?",
                           [[*(c[k] for k in upd), c["id"]] for c in writes.changed_conflicts.values()])
    await execute_many(conn, "INSERT INTO edit (device_id, seq, username, kind, checklist_id, item_key, payload, "
                             "device_ms, effective_ms, received_ms, outcome, reason, detail) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", writes.edit_rows)
    await append_changes(conn, writes.changes)


# ---------------------------------------------------------------------------------------------- one edit

def _detail(res: dict) -> str:
    """What the Edit row keeps of a result, to answer a duplicate with it later."""
    if len(res) == 5 and "version" in res and "checklist_version" in res:  # the common case, without json
        return '{"checklist_version":%d,"version":%d}' % (res["checklist_version"], res["version"])
    return dumps({k: v for k, v in res.items() if k not in ("seq", "outcome", "reason")})


def _field_state(a: dict, name: str) -> FieldState:
    return FieldState(a[name], a[f"{name}_ms"], a[f"{name}_by"], a[f"{name}_device"], a[f"{name}_seq"],
                      a[f"{name}_version"])


def _set_field(a: dict, name: str, s: FieldState) -> None:
    a[name] = s.value if name == "value" else (s.value or "")
    a[f"{name}_ms"], a[f"{name}_by"], a[f"{name}_device"] = s.ms, s.by, s.device
    a[f"{name}_seq"], a[f"{name}_version"] = s.seq, s.version


def _answer_row(state: BatchState, checklist_id: str, item_key: str) -> dict:
    """The answer's row, a blank one (id None: inserted) if the item was never answered."""
    key = (checklist_id, item_key)
    a = state.answers.get(key)
    if a is None:
        a = {c: 0 for c in ANSWER_COLS}
        a.update(id=None, checklist_id=checklist_id, item_key=item_key, value=None, note="", value_by="",
                 value_device="", note_by="", note_device="", review_comment="")
        state.answers[key] = a
    return a


def _touch(cl: dict, received: int) -> None:
    cl["version"] += 1
    cl["updated_ms"] = received
    if cl["status"] == "returned":  # the next edit of a returned checklist makes it a draft again
        cl["status"] = "draft"


def _status(e: StatusEdit, cl: dict, batch: PushContext, state: BatchState, res: dict) -> str:
    d = transition(batch.actor, cl["unit_id"], cl["status"], e.action, seen_version=e.seen_version,
                   version=cl["version"], open_conflicts=state.open_conflicts.get(cl["id"], 0))
    if not d.ok:
        return d.reason
    if e.action == "approve":
        cl["approved_version"] = cl["version"]
    cl.update(status=d.new_status, status_by=batch.actor.username, status_ms=batch.received,
              status_comment=e.comment)
    cl["version"] += 1
    cl["updated_ms"] = batch.received
    res["status"] = d.new_status
    return ""


def _answer(e: AnswerEdit, cl: dict, batch: PushContext, eff: int, state: BatchState, writes: BatchWrites,
            res: dict) -> str:
    if not may_edit_answers(batch.actor):
        return "forbidden"
    item_type = state.item_types.get(cl["template_id"], {}).get(e.item_key)
    if item_type is None:
        return "not_found"
    new: dict[str, Optional[str]] = {}
    if "value" in e.model_fields_set:
        if not valid_value(item_type, e.value):
            return "invalid_value"
        new["value"] = dumps(e.value) if e.value is not None else None
    if e.note is not None:
        new["note"] = e.note
    if not new:
        return "invalid_value"
    if not answer_edit(cl["status"]).ok:
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


def _record_conflicts(records: list, cl: dict, item_key: str, received: int, state: BatchState,
                      writes: BatchWrites) -> list[str]:
    """Open a conflict per record, or update the open one of the same two values; returns their ids."""
    ids = []
    for rec in records:
        sides = {"winner_value": rec.winner.value, "winner_by": rec.winner.by, "winner_device": rec.winner.device,
                 "winner_ms": rec.winner.ms, "loser_value": rec.loser.value, "loser_by": rec.loser.by,
                 "loser_device": rec.loser.device, "loser_ms": rec.loser.ms}
        pair = {rec.winner.value, rec.loser.value}
        open_ = state.open_by_field.setdefault((cl["id"], item_key, rec.field), [])
        same = [c for c in open_ if {c["winner_value"], c["loser_value"]} == pair]
        if same:
            c = same[0]
            c.update(sides)
            if c not in writes.new_conflicts:
                writes.changed_conflicts[c["id"]] = c
        else:
            c = {"id": str(uuid.uuid4()), "checklist_id": cl["id"], "item_key": item_key, "field": rec.field,
                 **sides, "status": "open", "resolved_by": "", "resolved_ms": None, "resolved_value": None,
                 "created_ms": received}
            writes.new_conflicts.append(c)
            open_.append(c)
        ids.append(c["id"])
        writes.changes.append((cl["unit_id"], cl["id"], "conflict", c["id"]))
    return ids


def _resolve(e: ResolveEdit, c: dict, cl: dict, batch: PushContext, eff: int, state: BatchState,
             writes: BatchWrites, res: dict) -> str:
    if not may_resolve(batch.actor):
        return "forbidden"
    if c["status"] != "open":
        return "conflict_closed"
    if not answer_edit(cl["status"]).ok:
        return "checklist_locked"
    if c["field"] == "value":
        item_type = state.item_types.get(cl["template_id"], {}).get(c["item_key"], "")
        if not valid_value(item_type, e.value):
            return "invalid_value"
        text = dumps(e.value) if e.value is not None else None
    else:
        if e.value is not None and not isinstance(e.value, str):
            return "invalid_value"
        text = e.value or ""
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
