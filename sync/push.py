"""Applying a push: one batch of edits from one device in ONE transaction, set-based.

1. lock the device row (PostgreSQL `SELECT … FOR UPDATE`; SQLite: the first statement is a write, so the
   transaction holds the database's single write lock from its start),
2. split the batch into duplicates (`seq <= last_seq`: answered from the recorded Edit rows) and new edits
   (must continue at `last_seq + 1`, else the batch stops there with `sequence_gap`),
3. load the state the new edits touch in a few queries (`load_batch_state`: checklists, their answers,
   the conflicts named, open-conflict counts, item types),
4. merge edit by edit in memory (`sync/batch.py`, `merge_edit`: the merge rules of `sync/merge.py`, the
   workflow of `sync/workflow.py`), changing that state and noting what changed; a `create` edit is
   applied on its own between runs of other edits (`sync/create.py`), and edits sent to a phone's alias
   of a checklist land on the canonical one,
5. write answers, checklists, conflicts, one Edit row per edit (`write_batch`, with `executemany`) and
   the device's `last_seq`, then append the change log (`sync/changelog.py`) and count the edits in
   `edit_tally` (what /metrics reads) last; commit; answer.

A rejected edit is recorded with its reason and the message of `REJECTION_REASONS`; a refusal of the whole
request is a `SyncError` named in `SYNC_ERRORS` (the payload of a refused device is kept in Quarantine).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from tortoise.transactions import in_transaction

from .batch import EDIT_ROW_OUTCOME, EDIT_ROW_REASON, BatchState, BatchWrites, PushContext, merge_edit
from .changelog import CHANGELOG_LOCK, append_changes
from .clock import clock_offset
from .create import canonical_of, create_edit, key_locks, lock_keys
from .protocol import (
    MAX_QUARANTINE_BYTES_PER_USER,
    MAX_QUARANTINE_PER_DEVICE,
    MAX_QUARANTINE_PER_USER,
    MIN_PROTOCOL,
    AnswerEdit,
    CommentEdit,
    CreateEdit,
    MalformedEdit,
    PushRequest,
    ResolveEdit,
    StatusEdit,
    SyncError,
    bounded_payload,
    refusal,
)
from .rows import (
    ANSWER_COLS,
    COMMENT_COLS,
    CONFLICT_COLS,
    SELECT_CHECKLISTS,
    SELECT_COMMENT_IDS,
    SELECT_CONFLICTS,
    answers_of_items,
    device_refusal,
    edit_payload,
    fetch_device,
    fetch_in,
    item_types,
)
from .sql import execute, execute_many, fetch, in_list, is_postgres, now_ms
from .vocabulary import REJECTION_REASONS, SYNC_ERRORS
from .workflow import Actor


class _Refused(Exception):
    """A whole-request refusal found inside the transaction: rolled back, then quarantined."""

    def __init__(self, error: SyncError) -> None:
        self.error = error


async def quarantine(device_id: str, username: str, reason: str, payload: str) -> bool:
    """Keep a refused push for review, within the caps: a finder of a revoked phone pushing again and
    again, or a client making up device ids, cannot fill the database. The first pushes are the ones
    kept (they hold what the phone had not sent). Returns whether it was kept."""
    async with in_transaction() as conn:
        rows = await fetch(
            conn,
            "SELECT COUNT(*) AS n FROM quarantine WHERE device_id = ?",
            [device_id[:36]],
        )
        if rows[0]["n"] >= MAX_QUARANTINE_PER_DEVICE:
            return False
        rows = await fetch(
            conn,
            "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(payload)), 0) AS size FROM quarantine WHERE username = ?",
            [username],
        )
        if (
            rows[0]["n"] >= MAX_QUARANTINE_PER_USER
            or int(rows[0]["size"]) + len(payload) > MAX_QUARANTINE_BYTES_PER_USER
        ):
            return False
        await execute(
            conn,
            "INSERT INTO quarantine (device_id, username, reason, payload, received_ms) VALUES (?, ?, ?, ?, ?)",
            [device_id[:36], username, reason, payload, now_ms()],
        )
    return True


async def apply_push(
    user: Any,
    scope: set[int],
    req: PushRequest,
    *,
    raw: str | Callable[[], str] | None = None,
    received_ms: int | None = None,
) -> dict:
    """Apply one batch. Returns the response body; a body with "error" (sequence gap) is answered 409.

    Raises SyncError for refusals of the whole request (client too old, unknown or revoked device); the
    payload of a refused push from a known-bad device is kept in Quarantine first. `raw` is that payload
    as received, or a function making it: a refusal is rare, so the text is only made when one happens.
    """
    if req.protocol < MIN_PROTOCOL:
        raise refusal("client_too_old", min_protocol=MIN_PROTOCOL)
    received = received_ms if received_ms is not None else now_ms()
    offset = clock_offset(received, req.client_ms)
    edits = _unique_by_seq(req.edits)
    creating = [(e.unit_id, e.template_id, e.period) for e in edits if isinstance(e, CreateEdit)]
    try:
        async with key_locks(creating), in_transaction() as conn:
            return await _apply_in_tx(conn, user, scope, req.device_id, edits, received, offset)
    except _Refused as refused:
        payload = raw() if callable(raw) else raw if raw is not None else req.model_dump_json()
        await quarantine(req.device_id, user.username, refused.error.code, payload)
        raise refused.error from None


def _unique_by_seq(edits: list) -> list:
    """The edits in seq order, a seq repeated identically counted once; two different edits under one
    seq refuse the request (`seq_repeated`): which one the device meant cannot be known."""
    by_seq: dict[int, Any] = {}
    for e in edits:
        first = by_seq.setdefault(e.seq, e)
        if first is not e and _payload(first) != _payload(e):
            raise refusal("seq_repeated", seq=e.seq)
    return sorted(by_seq.values(), key=lambda e: e.seq)


def _payload(e: Any) -> str:
    """The edit as the Edit row keeps it (`payload`): what a re-send is compared with."""
    if isinstance(e, MalformedEdit):
        return e.payload
    return e.model_dump_json(exclude_unset=True)


async def _apply_in_tx(
    conn: Any, user: Any, scope: set[int], device_id: str, edits: list, received: int, offset: int
) -> dict:
    pg = is_postgres(conn)
    if not pg:  # take SQLite's write lock first: a read-then-write DEFERRED transaction could fail later
        await execute(conn, "UPDATE device SET last_push_ms = ? WHERE id = ?", [received, device_id])
    device = await fetch_device(conn, device_id, lock=pg)
    problem = device_refusal(device, user)
    if problem:
        raise _Refused(refusal(problem))
    assert device is not None
    last_seq = device["last_seq"]

    results = await _recorded_results(conn, device_id, user.username, [e for e in edits if e.seq <= last_seq], received)
    fresh, gap = _continuing(edits, last_seq)
    await lock_keys(conn, [(e.unit_id, e.template_id, e.period) for e in fresh if isinstance(e, CreateEdit)])
    if fresh:
        batch = PushContext(Actor(user.username, user.role, user.unit_id), device_id, received, offset)
        await _merge_batch(conn, batch, scope, fresh, results)
        last_seq = fresh[-1].seq
    await execute(
        conn,
        "UPDATE device SET last_seq = ?, clock_offset_ms = ?, last_push_ms = ? WHERE id = ?",
        [last_seq, offset, received, device_id],
    )
    body = {
        "last_seq": last_seq,
        "server_ms": received,
        "clock_offset_ms": offset,
        "results": [results[e.seq] for e in edits if e.seq in results],
    }
    if gap is not None:
        body.update(error="sequence_gap", expected_seq=gap, message=SYNC_ERRORS["sequence_gap"][1])
    return body


async def _recorded_results(conn: Any, device_id: str, username: str, dups: list, received: int) -> dict[int, dict]:
    """Duplicates are answered with what was recorded for them. A known seq re-sent with a different edit
    is rejected `duplicate_mismatch` (the recorded edit stands) and the different edit is quarantined."""
    results: dict[int, dict] = {}
    if not dups:
        return results
    wanted = {e.seq: e for e in dups}
    mismatched: list[list] = []
    for r in await fetch(
        conn,
        "SELECT seq, kind, device_ms, checklist_id, item_key, outcome, reason, detail, payload FROM edit "
        "WHERE device_id = ? AND seq >= ? AND seq <= ?",
        [device_id, min(wanted), max(wanted)],
    ):
        e = wanted.get(r["seq"])
        if e is None:
            continue
        sent = _payload(e)
        if not _same_edit(r, sent):
            reason = "duplicate_mismatch"
            results[r["seq"]] = {
                "seq": r["seq"],
                "outcome": "rejected",
                "reason": reason,
                "message": REJECTION_REASONS[reason],
                "duplicate": True,
            }
            mismatched.append([device_id, username, reason, sent, received])
            continue
        results[r["seq"]] = {
            "seq": r["seq"],
            "outcome": r["outcome"],
            "reason": r["reason"],
            "duplicate": True,
            **json.loads(r["detail"] or "{}"),
        }
    if mismatched:
        await execute_many(
            conn,
            "INSERT INTO quarantine (device_id, username, reason, payload, received_ms) VALUES (?, ?, ?, ?, ?)",
            mismatched,
        )
    return results


def _same_edit(row: dict, sent: str) -> bool:
    """Whether a re-sent edit is the recorded one: equal as JSON (text, if the record is not JSON). A
    rejected edit's payload is kept cut to a bounded form, so the re-sent one is cut the same way first;
    an applied answer's compact payload is put back together from its row (`edit_payload`)."""
    recorded = row["payload"]
    if recorded == bounded_payload(sent):
        return True
    try:
        return edit_payload(row) == json.loads(sent)
    except ValueError:
        return recorded == sent


def _continuing(edits: list, last_seq: int) -> tuple[list, int | None]:
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


async def _merge_batch(conn: Any, batch: PushContext, scope: set[int], edits: list, results: dict[int, dict]) -> None:
    """Edits between two creates are merged set-based; a create is applied on its own, in seq order, so
    the edits after it find the checklist it made."""
    tally: Counter = Counter()
    for part in _runs(edits):
        writes = BatchWrites()
        if isinstance(part[0], CreateEdit):
            results[part[0].seq] = await create_edit(conn, batch, scope, part[0], writes)
            state = BatchState({}, {}, {}, {}, {}, {})
        else:
            state = await load_batch_state(conn, scope, part)
            for e in part:
                results[e.seq] = merge_edit(e, batch, state, writes)
        await write_batch(conn, state, writes)
        tally.update((r[EDIT_ROW_OUTCOME], r[EDIT_ROW_REASON]) for r in writes.edit_rows)
    await count_edits(conn, tally)


def _runs(edits: list) -> list[list]:
    """The batch cut into runs of non-create edits and single create edits, in order."""
    runs: list[list] = []
    for e in edits:
        if isinstance(e, CreateEdit) or not runs or isinstance(runs[-1][0], CreateEdit):
            runs.append([e])
        else:
            runs[-1].append(e)
    return runs


async def load_batch_state(conn: Any, scope: set[int], edits: list) -> BatchState:
    """Everything the edits touch, in a few queries; checklists outside `scope` are left out."""
    conflict_ids = [e.conflict_id for e in edits if isinstance(e, ResolveEdit)]
    conflicts: dict[str, dict] = {}
    if conflict_ids:
        conflicts = {r["id"]: r for r in await fetch_in(conn, SELECT_CONFLICTS, conflict_ids)}
    named = {e.checklist_id for e in edits if not isinstance(e, ResolveEdit)}
    aliases = await canonical_of(conn, named)  # edits sent to a phone's alias land on the canonical checklist

    def canonical(checklist_id: str) -> str:
        return aliases.get(checklist_id, checklist_id)

    checklist_ids = {canonical(c) for c in named}
    checklist_ids.update(c["checklist_id"] for c in conflicts.values())
    # PostgreSQL: lock the checklists (in id order: no deadlocks) before reading their answers, so that two
    # processes merging edits of one checklist take turns. Every answer change also updates its checklist.
    lock = " ORDER BY id FOR UPDATE" if is_postgres(conn) else ""
    checklists = {
        r["id"]: r
        for r in await fetch_in(conn, SELECT_CHECKLISTS + lock, sorted(checklist_ids))
        if r["unit_id"] in scope
    }
    if conflicts and lock:  # read again under the lock: another process may have resolved one meanwhile
        conflicts = {r["id"]: r for r in await fetch_in(conn, SELECT_CONFLICTS, conflict_ids)}
    items = {(canonical(e.checklist_id), e.item_key) for e in edits if isinstance(e, AnswerEdit)} | {
        (c["checklist_id"], c["item_key"]) for c in conflicts.values()
    }
    items = {(c, k) for c, k in items if c in checklists}
    answered = {c for c, _k in items}
    answers = {(r["checklist_id"], r["item_key"]): r for r in await answers_of_items(conn, items)}
    open_by_field: dict[tuple[str, str, str], list[dict]] = {}
    for r in await fetch_in(
        conn,
        f"SELECT {', '.join(CONFLICT_COLS)} FROM conflict WHERE status = ? AND checklist_id IN ({{in}})",
        answered,
        ["open"],
    ):
        open_by_field.setdefault((r["checklist_id"], r["item_key"], r["field"]), []).append(r)
    approved = {canonical(e.checklist_id) for e in edits if isinstance(e, StatusEdit) and e.action == "approve"} & set(
        checklists
    )
    open_conflicts: dict[str, int] = {c: 0 for c in approved}
    if approved:
        for r in await fetch_in(
            conn,
            "SELECT checklist_id, COUNT(*) AS n FROM conflict WHERE status = ? AND "
            "checklist_id IN ({in}) GROUP BY checklist_id",
            approved,
            ["open"],
        ):
            open_conflicts[r["checklist_id"]] = r["n"]
    types = await item_types(conn, {c["template_id"] for c in checklists.values()})
    comment_ids = [e.comment_id for e in edits if isinstance(e, CommentEdit)]
    comments = {r["id"]: r for r in await fetch_in(conn, SELECT_COMMENT_IDS, comment_ids)}
    return BatchState(
        checklists,
        answers,
        conflicts,
        open_by_field,
        open_conflicts,
        types,
        aliases,
        comments,
        approver_units=await _approver_units(conn, checklists, edits, canonical),
        scope=scope,
    )


async def _approver_units(conn: Any, checklists: dict[str, dict], edits: list, canonical: Any) -> dict[str, int]:
    """For each approved checklist a reopen edit names: the unit of the reviewer who approved it."""
    reopened = {canonical(e.checklist_id) for e in edits if isinstance(e, StatusEdit) and e.action == "reopen"}
    approved = {
        c: checklists[c]["status_by"] for c in reopened if c in checklists and checklists[c]["status"] == "approved"
    }
    if not approved:
        return {}
    rows = await fetch_in(conn, 'SELECT username, unit_id FROM "user" WHERE username IN ({in})', set(approved.values()))
    units = {r["username"]: r["unit_id"] for r in rows}
    return {c: units[who] for c, who in approved.items() if who in units}


async def write_batch(conn: Any, state: BatchState, writes: BatchWrites) -> None:
    """Write what the batch changed with one `executemany` per kind of row; the change log last."""
    new_rows = [a for a in writes.answers.values() if a["id"] is None]
    old_rows = [a for a in writes.answers.values() if a["id"] is not None]
    cols = ANSWER_COLS[1:]
    if new_rows:
        await execute_many(
            conn,
            f"INSERT INTO answer ({', '.join(cols)}) VALUES ({in_list(len(cols))})",
            [[a[c] for c in cols] for a in new_rows],
        )
    if old_rows:
        upd = [c for c in cols if c not in ("checklist_id", "item_key", "review_comment")]
        await execute_many(
            conn,
            f"UPDATE answer SET {', '.join(c + ' = ?' for c in upd)} WHERE id = ?",
            [[*(a[c] for c in upd), a["id"]] for a in old_rows],
        )
    if writes.checklists:
        upd = (
            "status",
            "version",
            "status_by",
            "status_ms",
            "status_comment",
            "approved_version",
            "updated_ms",
            "last_action",
        )
        await execute_many(
            conn,
            f"UPDATE checklist SET {', '.join(c + ' = ?' for c in upd)} WHERE id = ?",
            [[*(state.checklists[c][k] for k in upd), c] for c in writes.checklists],
        )
    if writes.new_conflicts:
        await execute_many(
            conn,
            f"INSERT INTO conflict ({', '.join(CONFLICT_COLS)}) VALUES ({in_list(len(CONFLICT_COLS))})",
            [[c[k] for k in CONFLICT_COLS] for c in writes.new_conflicts],
        )
    if writes.changed_conflicts:
        upd = [k for k in CONFLICT_COLS if k not in ("id", "checklist_id", "item_key", "field", "created_ms")]
        await execute_many(
            conn,
            f"UPDATE conflict SET {', '.join(k + ' = ?' for k in upd)} WHERE id = ?",
            [[*(c[k] for k in upd), c["id"]] for c in writes.changed_conflicts.values()],
        )
    if writes.new_comments:
        await execute_many(
            conn,
            f"INSERT INTO review_comment ({', '.join(COMMENT_COLS)}) VALUES ({in_list(len(COMMENT_COLS))})",
            [[c[k] for k in COMMENT_COLS] for c in writes.new_comments],
        )
    await execute_many(
        conn,
        "INSERT INTO edit (device_id, seq, username, kind, checklist_id, item_key, payload, "
        "device_ms, effective_ms, received_ms, outcome, reason, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        writes.edit_rows,
    )
    await append_changes(conn, writes.changes)


async def count_edits(conn: Any, tally: Counter) -> None:
    """Add a push's recorded edits to `edit_tally` per (outcome, reason), once, last in its transaction.
    On PostgreSQL under the change-log lock (which a push with changes holds already): the tally's rows
    are then never what two pushes wait on in opposite orders."""
    if not tally:
        return
    if is_postgres(conn):
        await execute(conn, "SELECT pg_advisory_xact_lock(?)", [CHANGELOG_LOCK])
    await execute_many(
        conn,
        "INSERT INTO edit_tally (outcome, reason, n) VALUES (?, ?, ?) "
        "ON CONFLICT (outcome, reason) DO UPDATE SET n = edit_tally.n + excluded.n",
        [(o, r, n) for (o, r), n in sorted(tally.items())],
    )
