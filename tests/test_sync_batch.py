"""merge_edit (sync/batch.py) without a database: one edit against a batch's state held in memory."""

from __future__ import annotations

from sync.batch import BatchState, BatchWrites, PushContext, merge_edit
from sync.protocol import AnswerEdit, ResolveEdit, StatusEdit
from sync.vocabulary import REJECTION_REASONS
from sync.workflow import Actor

RECEIVED = 1_795_400_000_000


def checklist(status: str = "draft", unit_id: int = 7) -> dict:
    return {
        "id": "c1",
        "unit_id": unit_id,
        "template_id": 1,
        "period": "2026",
        "status": status,
        "version": 3,
        "status_by": "",
        "status_ms": None,
        "status_comment": "",
        "approved_version": None,
        "updated_ms": 0,
        "created_ms": 0,
        "created_by": "",
    }


def state(*checklists: dict) -> BatchState:
    return BatchState(
        checklists={c["id"]: c for c in checklists},
        answers={},
        conflicts={},
        open_by_field={},
        open_conflicts={},
        item_types={1: {"q1": "choice", "q2": "text"}},
    )


def context(role: str = "official", unit_id: int = 7) -> PushContext:
    return PushContext(Actor("hoa", role, unit_id), "dev-1", RECEIVED, 0)


def answer(seq: int = 1, **fields) -> AnswerEdit:
    return AnswerEdit(kind="answer", seq=seq, device_ms=RECEIVED, checklist_id="c1", item_key="q1", **fields)


def test_a_new_answer_is_applied_and_noted_for_writing():
    s, w = state(checklist()), BatchWrites()
    res = merge_edit(answer(value="yes"), context(), s, w)
    assert res == {"seq": 1, "outcome": "applied", "reason": "", "version": 1, "checklist_version": 4}
    row = w.answers[("c1", "q1")]
    assert row["id"] is None and row["value"] == '"yes"' and row["value_by"] == "hoa"
    assert w.checklists == {"c1"} and len(w.edit_rows) == 1
    assert w.changes == [(7, "c1", "answer", "q1"), (7, "c1", "checklist", "")]


def test_rejections_carry_the_vocabulary_message_and_are_still_recorded():
    cases = [
        (state(), answer(value="yes"), context(), "out_of_scope"),
        (state(checklist()), answer(value="yes"), context(role="reviewer"), "forbidden"),
        (state(checklist()), answer(value="maybe"), context(), "invalid_value"),
        (state(checklist(status="submitted")), answer(value="yes"), context(), "checklist_locked"),
        (
            state(checklist()),
            ResolveEdit(kind="resolve", seq=1, device_ms=RECEIVED, conflict_id="x", value="no"),
            context(),
            "out_of_scope",
        ),
    ]
    for s, edit, ctx, reason in cases:
        w = BatchWrites()
        res = merge_edit(edit, ctx, s, w)
        assert res == {"seq": 1, "outcome": "rejected", "reason": reason, "message": REJECTION_REASONS[reason]}
        assert w.answers == {} and w.changes == [] and w.edit_rows[0][-2] == reason


def test_the_second_edit_of_a_batch_sees_the_first():
    s, w = state(checklist()), BatchWrites()
    merge_edit(answer(1, value="yes"), context(), s, w)
    res = merge_edit(answer(2, value="no", base_version=1), context(), s, w)
    assert res["outcome"] == "applied" and res["version"] == 2
    assert s.answers[("c1", "q1")]["value"] == '"no"' and s.checklists["c1"]["version"] == 5


def test_a_reviewer_above_approves_the_version_seen():
    s, w = state(checklist(status="submitted")), BatchWrites()
    edit = StatusEdit(kind="status", seq=1, device_ms=RECEIVED, checklist_id="c1", action="approve", seen_version=3)
    res = merge_edit(edit, context(role="reviewer", unit_id=1), s, w)
    assert res["status"] == "approved" and s.checklists["c1"]["approved_version"] == 3
