"""Applying a push and serving a pull: the database side of the sync protocol.

`apply_push` handles one batch of edits from one device in ONE transaction, set-based:

1. lock the device row (PostgreSQL `SELECT … FOR UPDATE`; SQLite: the first statement is a write, so the
   transaction holds the database's single write lock from its start),
2. split the batch into duplicates (`seq <= last_seq`: answered from the recorded Edit rows) and new edits
   (must continue at `last_seq + 1`, else the batch stops there with `sequence_gap`),
3. load everything the new edits touch in a few queries (checklists, their answers, the conflicts named,
   open-conflict counts, item types),
4. run the merge rules (`sync/merge.py`) and the workflow (`sync/workflow.py`) edit by edit in Python,
5. write answers, checklists, conflicts, one Edit row per edit and the device's `last_seq` with
   `executemany`, then append the change log (`sync/changelog.py`) last; commit; answer.

`pull_page` pages through the change log (or, after a reset, a snapshot) filtered by the user's current
scope. Nothing here knows HTTP; the routes in `server/api/sync_routes.py` are thin wrappers.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from tortoise.transactions import in_transaction

from .changelog import append_changes
from .clock import clock_offset, effective_ms
from .merge import FIELDS, EditInfo, FieldState, merge_answer
from .protocol import (
    MAX_PULL_LIMIT, MIN_PROTOCOL, AnswerEdit, PushRequest, ResolveEdit, StatusEdit, SyncError, valid_value,
)
from .sql import execute, execute_many, fetch, in_list, is_postgres, now_ms
from .workflow import MESSAGES, Actor, answer_edit, may_edit_answers, may_resolve, transition

CHUNK = 500  # ids per IN (...) list


_encode_str = json.encoder.encode_basestring  # type: ignore[attr-defined]


def dumps(value: Any) -> str:
    """Canonical JSON text of a value: equal values give equal text."""
    if type(value) is str:  # the common case (choices, text), without the general encoder's overhead
        return _encode_str(value)
    if type(value) is int:
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _detail(res: dict) -> str:
    if len(res) == 5 and "version" in res and "checklist_version" in res:
        return '{"checklist_version":%d,"version":%d}' % (res["checklist_version"], res["version"])
    return dumps({k: v for k, v in res.items() if k not in ("seq", "outcome", "reason")})


def loads(text: Optional[str]) -> Any:
    return json.loads(text) if text is not None else None


def _chunks(items: list, n: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


async def _fetch_in(conn: Any, sql: str, ids: Iterable[Any], extra: Iterable[Any] = ()) -> list[dict]:
    """sql has one `{in}` marker placed after any `extra` parameters."""
    ids = list(dict.fromkeys(ids))
    rows: list[dict] = []
    for part in _chunks(ids):
        rows.extend(await fetch(conn, sql.format(**{"in": in_list(len(part))}), [*extra, *part]))
    return rows


# Item types per template id. Templates are versioned: a published version's items never change.
_ITEM_TYPES: dict[int, dict[str, str]] = {}
_TEMPLATE_CODES: dict[int, str] = {}


async def _item_types(conn: Any, template_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    missing = [t for t in set(template_ids) if t not in _ITEM_TYPES]
    if missing:
        found: dict[int, dict[str, str]] = {t: {} for t in missing}
        for r in await _fetch_in(conn, 'SELECT template_id, "key", "type" FROM template_item WHERE template_id IN ({in})', missing):
            found[r["template_id"]][r["key"]] = r["type"]
        _ITEM_TYPES.update(found)
    return _ITEM_TYPES


async def _template_codes(conn: Any, template_ids: Iterable[int]) -> dict[int, str]:
    missing = [t for t in set(template_ids) if t not in _TEMPLATE_CODES]
    if missing:
        for r in await _fetch_in(conn, 'SELECT id, code FROM template WHERE id IN ({in})', missing):
            _TEMPLATE_CODES[r["id"]] = r["code"]
    return _TEMPLATE_CODES


# ---------------------------------------------------------------------------------------------- push

ANSWER_COLS = ("id", "checklist_id", "item_key", "value", "note", "version", "value_ms", "value_by",
               "value_device", "value_seq", "value_version", "note_ms", "note_by", "note_device", "note_seq",
               "note_version", "review_comment", "updated_ms")
CHECKLIST_COLS = ("id", "unit_id", "template_id", "period", "status", "version", "status_by", "status_ms",
                  "status_comment", "approved_version", "updated_ms", "created_ms", "created_by")
CONFLICT_COLS = ("id", "checklist_id", "item_key", "field", "winner_value", "winner_by", "winner_device",
                 "winner_ms", "loser_value", "loser_by", "loser_device", "loser_ms", "status", "resolved_by",
                 "resolved_ms", "resolved_value", "created_ms")


class _Refused(Exception):
    def __init__(self, error: SyncError) -> None:
        self.error = error


def _field_state(a: dict, name: str) -> FieldState:
    return FieldState(a[name], a[f"{name}_ms"], a[f"{name}_by"], a[f"{name}_device"], a[f"{name}_seq"],
                      a[f"{name}_version"])


def _set_field(a: dict, name: str, s: FieldState) -> None:
    a[name] = s.value if name == "value" else (s.value or "")
    a[f"{name}_ms"], a[f"{name}_by"], a[f"{name}_device"] = s.ms, s.by, s.device
    a[f"{name}_seq"], a[f"{name}_version"] = s.seq, s.version


def _blank_answer(checklist_id: str, item_key: str) -> dict:
    a = {c: 0 for c in ANSWER_COLS}
    a.update(id=None, checklist_id=checklist_id, item_key=item_key, value=None, note="", value_by="",
             value_device="", note_by="", note_device="", review_comment="")
    return a


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
        raise SyncError(426, "client_too_old", "Ứng dụng đã cũ: vui lòng cập nhật.", min_protocol=MIN_PROTOCOL)
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
    rows = await fetch(conn, "SELECT id, user_id, last_seq, revoked_ms FROM device WHERE id = ?"
                       + (" FOR UPDATE" if pg else ""), [device_id])
    if not rows or rows[0]["user_id"] != user.id:
        raise _Refused(SyncError(404, "unknown_device", "Thiết bị chưa được đăng ký: hãy đăng ký lại."))
    if rows[0]["revoked_ms"] is not None:
        raise _Refused(SyncError(403, "device_revoked", "Thiết bị này đã bị thu hồi: dữ liệu chưa gửi được lưu lại để xem xét."))
    last_seq = rows[0]["last_seq"]

    # Duplicates: answer with what was recorded.
    results: dict[int, dict] = {}
    dups = [e.seq for e in edits if e.seq <= last_seq]
    if dups:
        for r in await fetch(conn, "SELECT seq, outcome, reason, detail FROM edit WHERE device_id = ? AND seq >= ? "
                                   "AND seq <= ?", [device_id, min(dups), max(dups)]):
            if r["seq"] in dups:
                results[r["seq"]] = {"seq": r["seq"], "outcome": r["outcome"], "reason": r["reason"],
                                     "duplicate": True, **json.loads(r["detail"] or "{}")}
    fresh, expected = [], last_seq + 1
    gap = None
    for e in edits:
        if e.seq <= last_seq:
            continue
        if e.seq != expected:
            gap = expected
            break
        fresh.append(e)
        expected += 1

    actor = Actor(user.username, user.role, user.unit_id)
    if fresh:
        await _merge_batch(conn, actor, scope, device_id, fresh, received, offset, results)
        last_seq = fresh[-1].seq
    await execute(conn, "UPDATE device SET last_seq = ?, clock_offset_ms = ?, last_push_ms = ? WHERE id = ?",
                  [last_seq, offset, received, device_id])
    body = {"last_seq": last_seq, "server_ms": received, "clock_offset_ms": offset,
            "results": [results[e.seq] for e in edits if e.seq in results]}
    if gap is not None:
        body.update(error="sequence_gap", expected_seq=gap,
                    message=f"Thiếu thay đổi số {gap}: hãy gửi lại từ số đó.")
    return body


async def _merge_batch(conn: Any, actor: Actor, scope: set[int], device_id: str, edits: list, received: int,
                       offset: int, results: dict[int, dict]) -> None:
    # ---- load the state the batch touches
    conflict_ids = [e.conflict_id for e in edits if isinstance(e, ResolveEdit)]
    conflicts: dict[str, dict] = {}
    if conflict_ids:
        for r in await _fetch_in(conn, f"SELECT {', '.join(CONFLICT_COLS)} FROM conflict WHERE id IN ({{in}})", conflict_ids):
            conflicts[r["id"]] = r
    checklist_ids = {e.checklist_id for e in edits if not isinstance(e, ResolveEdit)}
    checklist_ids.update(c["checklist_id"] for c in conflicts.values())
    checklists: dict[str, dict] = {}
    # PostgreSQL: lock the checklists (in id order: no deadlocks) before reading their answers, so that two
    # processes merging edits of one checklist take turns. Every answer change also updates its checklist.
    lock = " ORDER BY id FOR UPDATE" if is_postgres(conn) else ""
    for r in await _fetch_in(conn, f"SELECT {', '.join(CHECKLIST_COLS)} FROM checklist WHERE id IN ({{in}}){lock}",
                             sorted(checklist_ids)):
        if r["unit_id"] in scope:
            checklists[r["id"]] = r
    if conflicts and lock:  # read again under the lock: another process may have resolved one meanwhile
        for r in await _fetch_in(conn, f"SELECT {', '.join(CONFLICT_COLS)} FROM conflict WHERE id IN ({{in}})", conflict_ids):
            conflicts[r["id"]] = r
    answer_cl = {e.checklist_id for e in edits if isinstance(e, AnswerEdit)} | {c["checklist_id"] for c in conflicts.values()}
    answer_cl &= set(checklists)
    answers: dict[tuple[str, str], dict] = {}
    for r in await _fetch_in(conn, f"SELECT {', '.join(ANSWER_COLS)} FROM answer WHERE checklist_id IN ({{in}})", answer_cl):
        answers[(r["checklist_id"], r["item_key"])] = r
    # Open conflicts per field: the same disagreement again (a device re-sending its losing value in a new
    # edit) updates the open conflict instead of opening a second one.
    open_by_field: dict[tuple[str, str, str], list[dict]] = {}
    for r in await _fetch_in(conn, f"SELECT {', '.join(CONFLICT_COLS)} FROM conflict WHERE status = ? AND "
                                   "checklist_id IN ({in})", answer_cl, ["open"]):
        open_by_field.setdefault((r["checklist_id"], r["item_key"], r["field"]), []).append(r)
    approve_cl = {e.checklist_id for e in edits if isinstance(e, StatusEdit) and e.action == "approve"} & set(checklists)
    open_conflicts: dict[str, int] = {c: 0 for c in approve_cl}
    if approve_cl:
        for r in await _fetch_in(conn, "SELECT checklist_id, COUNT(*) AS n FROM conflict WHERE status = ? AND "
                                       "checklist_id IN ({in}) GROUP BY checklist_id", approve_cl, ["open"]):
            open_conflicts[r["checklist_id"]] = r["n"]
    types = await _item_types(conn, {c["template_id"] for c in checklists.values()})

    # ---- merge in Python, edit by edit
    dirty_cl: set[str] = set()
    dirty_answers: dict[tuple[str, str], dict] = {}
    new_conflicts: list[dict] = []
    resolved: dict[str, dict] = {}
    edit_rows: list[tuple] = []
    changes: list[tuple[int, str, str, str]] = []

    for e in edits:
        eff = effective_ms(e.device_ms, offset, received)
        res: dict[str, Any] = {"seq": e.seq, "outcome": "applied", "reason": ""}
        item_key = getattr(e, "item_key", "")
        cid = getattr(e, "checklist_id", "")
        reason = ""
        if isinstance(e, ResolveEdit):
            c = conflicts.get(e.conflict_id)
            cid = c["checklist_id"] if c else ""
            item_key = c["item_key"] if c else ""
        cl = checklists.get(cid)
        if cl is None:
            reason = "out_of_scope"
        elif isinstance(e, AnswerEdit):
            reason = _answer(e, cl, actor, device_id, eff, received, types, answers, dirty_answers,
                             new_conflicts, open_by_field, resolved, changes, res)
        elif isinstance(e, StatusEdit):
            d = transition(actor, cl["unit_id"], cl["status"], e.action, seen_version=e.seen_version,
                           version=cl["version"], open_conflicts=open_conflicts.get(cid, 0))
            if not d.ok:
                reason = d.reason
            else:
                if e.action == "approve":
                    cl["approved_version"] = cl["version"]
                cl.update(status=d.new_status, status_by=actor.username, status_ms=received,
                          status_comment=e.comment)
                cl["version"] += 1
                cl["updated_ms"] = received
                res["status"] = d.new_status
        else:  # resolve
            reason = _resolve(e, conflicts[e.conflict_id], cl, actor, device_id, eff, received, types,
                              answers, dirty_answers, resolved, changes, res)
        if reason:
            res = {"seq": e.seq, "outcome": "rejected", "reason": reason, "message": MESSAGES[reason]}
        else:
            dirty_cl.add(cid)
            res["checklist_version"] = cl["version"]
        if cl is not None and not reason:
            changes.append((cl["unit_id"], cid, "checklist", ""))
        results[e.seq] = res
        edit_rows.append((device_id, e.seq, actor.username, e.kind, cid, item_key,
                          e.model_dump_json(exclude_unset=True), e.device_ms, eff, received, res["outcome"],
                          reason, _detail(res)))

    # ---- write set-based
    new_rows = [a for a in dirty_answers.values() if a["id"] is None]
    old_rows = [a for a in dirty_answers.values() if a["id"] is not None]
    cols = ANSWER_COLS[1:]
    if new_rows:
        await execute_many(conn, f"INSERT INTO answer ({', '.join(cols)}) VALUES ({in_list(len(cols))})",
                           [[a[c] for c in cols] for a in new_rows])
    if old_rows:
        upd = [c for c in cols if c not in ("checklist_id", "item_key", "review_comment")]
        await execute_many(conn, f"UPDATE answer SET {', '.join(c + ' = ?' for c in upd)} WHERE id = ?",
                           [[*(a[c] for c in upd), a["id"]] for a in old_rows])
    if dirty_cl:
        upd = ("status", "version", "status_by", "status_ms", "status_comment", "approved_version", "updated_ms")
        await execute_many(conn, f"UPDATE checklist SET {', '.join(c + ' = ?' for c in upd)} WHERE id = ?",
                           [[*(checklists[c][k] for k in upd), c] for c in dirty_cl])
    if new_conflicts:
        await execute_many(conn, f"INSERT INTO conflict ({', '.join(CONFLICT_COLS)}) VALUES ({in_list(len(CONFLICT_COLS))})",
                           [[c[k] for k in CONFLICT_COLS] for c in new_conflicts])
    if resolved:  # conflicts changed: resolved, or the same disagreement met again
        upd = [k for k in CONFLICT_COLS if k not in ("id", "checklist_id", "item_key", "field", "created_ms")]
        await execute_many(conn, f"UPDATE conflict SET {', '.join(k + ' = ?' for k in upd)} WHERE id = ?",
                           [[*(c[k] for k in upd), c["id"]] for c in resolved.values()])
    await execute_many(conn, "INSERT INTO edit (device_id, seq, username, kind, checklist_id, item_key, payload, "
                             "device_ms, effective_ms, received_ms, outcome, reason, detail) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", edit_rows)
    await append_changes(conn, changes)


def _touch(cl: dict, received: int) -> None:
    cl["version"] += 1
    cl["updated_ms"] = received
    if cl["status"] == "returned":  # the next edit of a returned checklist makes it a draft again
        cl["status"] = "draft"


def _answer(e: AnswerEdit, cl: dict, actor: Actor, device_id: str, eff: int, received: int, types: dict,
            answers: dict, dirty: dict, new_conflicts: list, open_by_field: dict, changed_conflicts: dict,
            changes: list, res: dict) -> str:
    if not may_edit_answers(actor):
        return "forbidden"
    item_type = types.get(cl["template_id"], {}).get(e.item_key)
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
    key = (cl["id"], e.item_key)
    a = answers.get(key)
    if a is None:
        a = answers[key] = _blank_answer(cl["id"], e.item_key)
    info = EditInfo(eff, actor.username, device_id, e.seq, e.base_version)
    m = merge_answer({f: _field_state(a, f) for f in FIELDS}, a["version"], new, info)
    res["outcome"] = m.outcome
    if m.fields:
        for name, state in m.fields.items():
            _set_field(a, name, state)
        a["version"] += 1
        a["updated_ms"] = received
        dirty[key] = a
    if m.fields or m.conflicts:
        _touch(cl, received)
        changes.append((cl["unit_id"], cl["id"], "answer", e.item_key))
    if m.conflicts:
        res["won"] = m.won
        ids = []
        for rec in m.conflicts:
            sides = {"winner_value": rec.winner.value, "winner_by": rec.winner.by, "winner_device": rec.winner.device,
                     "winner_ms": rec.winner.ms, "loser_value": rec.loser.value, "loser_by": rec.loser.by,
                     "loser_device": rec.loser.device, "loser_ms": rec.loser.ms}
            pair = {rec.winner.value, rec.loser.value}
            same = [c for c in open_by_field.get((cl["id"], e.item_key, rec.field), ())
                    if {c["winner_value"], c["loser_value"]} == pair]
            if same:
                c = same[0]
                c.update(sides)
                if c not in new_conflicts:
                    changed_conflicts[c["id"]] = c
            else:
                c = {"id": str(uuid.uuid4()), "checklist_id": cl["id"], "item_key": e.item_key, "field": rec.field,
                     **sides, "status": "open", "resolved_by": "", "resolved_ms": None, "resolved_value": None,
                     "created_ms": received}
                new_conflicts.append(c)
                open_by_field.setdefault((cl["id"], e.item_key, rec.field), []).append(c)
            ids.append(c["id"])
            changes.append((cl["unit_id"], cl["id"], "conflict", c["id"]))
        res["conflict_id"] = ids[0]
    res["version"] = a["version"]
    return ""


def _resolve(e: ResolveEdit, c: dict, cl: dict, actor: Actor, device_id: str, eff: int, received: int,
             types: dict, answers: dict, dirty: dict, resolved: dict, changes: list, res: dict) -> str:
    if not may_resolve(actor):
        return "forbidden"
    if c["status"] != "open":
        return "conflict_closed"
    if not answer_edit(cl["status"]).ok:
        return "checklist_locked"
    if c["field"] == "value":
        item_type = types.get(cl["template_id"], {}).get(c["item_key"], "")
        if not valid_value(item_type, e.value):
            return "invalid_value"
        text = dumps(e.value) if e.value is not None else None
    else:
        if e.value is not None and not isinstance(e.value, str):
            return "invalid_value"
        text = e.value or ""
    key = (cl["id"], c["item_key"])
    a = answers.get(key)
    if a is None:
        a = answers[key] = _blank_answer(cl["id"], c["item_key"])
    _set_field(a, c["field"], FieldState(text, eff, actor.username, device_id, e.seq, a["version"] + 1))
    a["version"] += 1
    a["updated_ms"] = received
    dirty[key] = a
    c.update(status="resolved", resolved_by=actor.username, resolved_ms=received, resolved_value=text)
    resolved[c["id"]] = c
    _touch(cl, received)
    changes.append((cl["unit_id"], cl["id"], "answer", c["item_key"]))
    changes.append((cl["unit_id"], cl["id"], "conflict", c["id"]))
    res["version"] = a["version"]
    return ""


# ---------------------------------------------------------------------------------------------- pull

def scope_digest(user: Any, scope: set[int]) -> str:
    text = f"{user.id}:{user.role}:" + ",".join(str(u) for u in sorted(scope))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class Cursor:
    phase: str  # "s" snapshot or "d" delta
    high: int  # snapshot: the change id the snapshot started at; delta: last change id sent
    after: str  # snapshot: last checklist id sent
    digest: str

    def encode(self) -> str:
        return f"{self.phase}.{self.high}.{self.after}.{self.digest}"

    @classmethod
    def parse(cls, text: Optional[str]) -> Optional["Cursor"]:
        if not text:
            return None
        parts = text.split(".")
        if len(parts) != 4 or parts[0] not in ("s", "d"):
            return None
        try:
            return cls(parts[0], int(parts[1]), parts[2], parts[3])
        except ValueError:
            return None


def checklist_out(c: dict, codes: dict[int, str]) -> dict:
    return {"id": c["id"], "unit_id": c["unit_id"], "template_id": c["template_id"],
            "template_code": codes.get(c["template_id"], ""), "period": c["period"], "status": c["status"],
            "version": c["version"], "status_comment": c["status_comment"], "status_by": c["status_by"],
            "status_ms": c["status_ms"], "approved_version": c["approved_version"], "updated_ms": c["updated_ms"]}


def answer_out(a: dict) -> dict:
    return {"checklist_id": a["checklist_id"], "item_key": a["item_key"], "value": loads(a["value"]),
            "note": a["note"], "version": a["version"], "value_by": a["value_by"], "value_ms": a["value_ms"],
            "note_by": a["note_by"], "note_ms": a["note_ms"], "review_comment": a["review_comment"]}


def conflict_out(c: dict) -> dict:
    return {"id": c["id"], "checklist_id": c["checklist_id"], "item_key": c["item_key"], "field": c["field"],
            "status": c["status"], "winner_value": _field_json(c, "winner_value"), "winner_by": c["winner_by"],
            "winner_ms": c["winner_ms"], "loser_value": _field_json(c, "loser_value"), "loser_by": c["loser_by"],
            "loser_ms": c["loser_ms"], "resolved_by": c["resolved_by"],
            "resolved_value": _field_json(c, "resolved_value")}


def _field_json(c: dict, key: str) -> Any:
    return loads(c[key]) if c["field"] == "value" else c[key]


async def _device_for_pull(conn: Any, user: Any, device_id: str) -> dict:
    rows = await fetch(conn, "SELECT id, user_id, last_seq, revoked_ms FROM device WHERE id = ?", [device_id])
    if not rows or rows[0]["user_id"] != user.id:
        raise SyncError(404, "unknown_device", "Thiết bị chưa được đăng ký: hãy đăng ký lại.")
    if rows[0]["revoked_ms"] is not None:
        raise SyncError(403, "device_revoked", "Thiết bị này đã bị thu hồi.")
    return rows[0]


async def pull_page(user: Any, scope: set[int], device_id: str, cursor: Optional[str], limit: int = 500) -> dict:
    """One page of what changed in the user's scope since `cursor` (see docs/sync-protocol.md, Pull)."""
    from tortoise import connections

    conn = connections.get("default")
    limit = max(1, min(int(limit), MAX_PULL_LIMIT))
    device = await _device_for_pull(conn, user, device_id)
    digest = scope_digest(user, scope)
    cur = Cursor.parse(cursor)
    body: dict[str, Any] = {"reset": False, "last_seq": device["last_seq"], "server_ms": now_ms(),
                            "checklists": [], "answers": [], "conflicts": [], "deleted": []}
    if cur is None or cur.digest != digest:
        rows = await fetch(conn, 'SELECT COALESCE(MAX(id), 0) AS m FROM "change"')
        cur = Cursor("s", int(rows[0]["m"]), "", digest)
        body["reset"] = True
        body["my_rejected"] = await _my_rejected(conn, user)
    if cur.phase == "s":
        await _snapshot_page(conn, scope, cur, limit, body)
    else:
        await _delta_page(conn, scope, cur, limit, body)
    return body


async def _my_rejected(conn: Any, user: Any) -> list[dict]:
    rows = await fetch(conn, "SELECT device_id, seq, kind, checklist_id, item_key, reason, payload FROM edit "
                             "WHERE username = ? AND outcome = ? ORDER BY id DESC LIMIT 200", [user.username, "rejected"])
    return [{"device_id": r["device_id"], "seq": r["seq"], "kind": r["kind"], "checklist_id": r["checklist_id"],
             "item_key": r["item_key"], "reason": r["reason"], "message": MESSAGES.get(r["reason"], ""),
             "payload": json.loads(r["payload"])} for r in rows]


async def _states(conn: Any, checklist_ids: list[str], answer_keys: Optional[set] , conflict_ids: Optional[list],
                  body: dict, all_of_checklists: bool) -> None:
    cls = await _fetch_in(conn, f"SELECT {', '.join(CHECKLIST_COLS)} FROM checklist WHERE id IN ({{in}})", checklist_ids)
    codes = await _template_codes(conn, {c["template_id"] for c in cls})
    body["checklists"].extend(checklist_out(c, codes) for c in sorted(cls, key=lambda c: c["id"]))
    if all_of_checklists:
        ans = await _fetch_in(conn, f"SELECT {', '.join(ANSWER_COLS)} FROM answer WHERE checklist_id IN ({{in}})", checklist_ids)
        cfs = await _fetch_in(conn, f"SELECT {', '.join(CONFLICT_COLS)} FROM conflict WHERE checklist_id IN ({{in}})", checklist_ids)
    else:
        wanted_cl = {k[0] for k in answer_keys or ()}
        ans = [a for a in await _fetch_in(conn, f"SELECT {', '.join(ANSWER_COLS)} FROM answer WHERE checklist_id IN ({{in}})", wanted_cl)
               if (a["checklist_id"], a["item_key"]) in answer_keys]
        cfs = await _fetch_in(conn, f"SELECT {', '.join(CONFLICT_COLS)} FROM conflict WHERE id IN ({{in}})", conflict_ids or [])
    body["answers"].extend(answer_out(a) for a in ans)
    body["conflicts"].extend(conflict_out(c) for c in cfs)


async def _snapshot_page(conn: Any, scope: set[int], cur: Cursor, limit: int, body: dict) -> None:
    per_page = max(1, limit // 25)  # about 25 rows (answers, conflicts) per checklist
    ids: list[str] = []
    for part in _chunks(sorted(scope)):
        ids.extend(r["id"] for r in await fetch(
            conn, f"SELECT id FROM checklist WHERE id > ? AND unit_id IN ({in_list(len(part))}) ORDER BY id LIMIT ?",
            [cur.after, *part, per_page + 1]))
    ids.sort()
    page = ids[:per_page]
    if page:
        await _states(conn, page, None, None, body, all_of_checklists=True)
    if len(ids) > per_page:
        body.update(cursor=Cursor("s", cur.high, page[-1], cur.digest).encode(), more=True)
    else:  # the snapshot is complete: continue with the change log from where it started
        body.update(cursor=Cursor("d", cur.high, "", cur.digest).encode(), more=True)


async def _delta_page(conn: Any, scope: set[int], cur: Cursor, limit: int, body: dict) -> None:
    rows = await fetch(conn, 'SELECT id, unit_id, checklist_id, entity, entity_key, op FROM "change" '
                             "WHERE id > ? ORDER BY id LIMIT ?", [cur.high, limit])
    high = rows[-1]["id"] if rows else cur.high
    cl_ids: dict[str, None] = {}
    answer_keys: set[tuple[str, str]] = set()
    conflict_ids: dict[str, None] = {}
    for r in rows:
        if r["unit_id"] not in scope:
            continue
        if r["op"] == "delete":
            body["deleted"].append({"entity": r["entity"], "id": r["entity_key"] or r["checklist_id"],
                                    "checklist_id": r["checklist_id"]})
            continue
        cl_ids[r["checklist_id"]] = None
        if r["entity"] == "answer":
            answer_keys.add((r["checklist_id"], r["entity_key"]))
        elif r["entity"] == "conflict":
            conflict_ids[r["entity_key"]] = None
    if cl_ids:
        await _states(conn, list(cl_ids), answer_keys, list(conflict_ids), body, all_of_checklists=False)
    body.update(cursor=Cursor("d", high, "", cur.digest).encode(), more=len(rows) == limit)
