"""The merge rules and the clock, one by one (pure functions: no database)."""

from __future__ import annotations

from sync.clock import clock_offset, effective_ms
from sync.merge import EditInfo, FieldState, merge_answer, merge_field
from sync.workflow import Actor, answer_edit, transition

NEVER = FieldState(None)


def state(value, ms=1000, device="B", seq=1, version=1, by="b"):
    return FieldState(value, ms, by, device, seq, version)


def edit(ms=2000, device="A", seq=1, base=0, by="a"):
    return EditInfo(ms, by, device, seq, base)


def test_never_set_field_applies():
    assert merge_field(NEVER, '"yes"', edit()).kind == "applied"


def test_edit_based_on_current_version_applies():
    assert merge_field(state('"no"', version=3), '"yes"', edit(base=3)).kind == "applied"


def test_same_device_later_edit_applies_even_if_based_on_older_version():
    assert merge_field(state('"no"', device="A", version=5), '"yes"', edit(base=0)).kind == "applied"


def test_concurrent_equal_values_do_not_conflict():
    out = merge_field(state('"yes"', version=2), '"yes"', edit(base=1))
    assert out.kind == "same" and out.concurrent


def test_concurrent_different_values_later_effective_time_wins():
    assert merge_field(state('"no"', ms=1000), '"yes"', edit(ms=2000)).won is True
    assert merge_field(state('"no"', ms=3000), '"yes"', edit(ms=2000)).won is False


def test_tie_broken_by_device_then_seq():
    assert merge_field(state('"no"', ms=2000, device="B"), '"yes"', edit(ms=2000, device="A")).won is False
    assert (
        merge_field(state('"no"', ms=2000, device="A", seq=1), '"yes"', edit(ms=2000, device="A2", seq=1)).won is True
    )


def test_winner_independent_of_arrival_order():
    # X (t=5) and Y (t=9) both based on version 0 of a field.
    x, y = ('"x"', edit(ms=5, device="X")), ('"y"', edit(ms=9, device="Y"))
    for first, second in ((x, y), (y, x)):
        cur = NEVER
        assert merge_field(cur, first[0], first[1]).kind == "applied"
        cur = FieldState(first[0], first[1].ms, first[1].by, first[1].device, first[1].seq, 1)
        out = merge_field(cur, second[0], second[1])
        winner = second[0] if out.won else first[0]
        assert winner == '"y"'


def test_field_level_merge_value_and_note_of_one_item():
    # B set the note at version 1; A, based on version 0, sets the value: no conflict, merged.
    current = {"value": NEVER, "note": state("ghi chú", device="B", version=1)}
    m = merge_answer(current, 1, {"value": '"yes"'}, edit(base=0))
    assert m.outcome == "merged" and not m.conflicts and set(m.fields) == {"value"}


def test_conflict_keeps_both_values():
    current = {"value": state('"no"', ms=1000), "note": NEVER}
    m = merge_answer(current, 1, {"value": '"yes"'}, edit(ms=2000))
    assert m.outcome == "conflict" and m.won
    assert m.conflicts[0].winner.value == '"yes"' and m.conflicts[0].loser.value == '"no"'
    m = merge_answer(current, 1, {"value": '"yes"'}, edit(ms=500))
    assert m.outcome == "conflict" and not m.won and not m.fields
    assert m.conflicts[0].loser.value == '"yes"'


def test_clock_offset_corrects_wrong_clocks():
    received, real_edit_time = 1_800_000_000_000, 1_799_999_000_000
    for skew in (0, 3 * 365 * 86_400_000, -5 * 365 * 86_400_000, 7 * 3_600_000):
        device_ms = real_edit_time + skew
        offset = clock_offset(received, received + skew)  # the phone's clock at sending is off by the same skew
        assert effective_ms(device_ms, offset, received) == real_edit_time


def test_effective_time_never_after_receipt():
    assert effective_ms(10_000, 0, 5_000) == 5_000


def test_workflow_rules():
    official, reviewer, admin = Actor("o", "official", 147), Actor("r", "reviewer", 45), Actor("a", "admin", 1)
    kw = dict(seen_version=3, version=3, open_conflicts=0)
    assert transition(official, 147, "draft", "submit", **kw).new_status == "submitted"
    assert transition(official, 147, "submitted", "approve", **kw).reason == "forbidden"
    assert transition(reviewer, 147, "draft", "approve", **kw).reason == "bad_transition"
    assert transition(reviewer, 147, "submitted", "approve", **kw).new_status == "approved"
    assert transition(reviewer, 147, "submitted", "approve", **{**kw, "seen_version": 2}).reason == "version_changed"
    assert transition(reviewer, 147, "submitted", "approve", **{**kw, "open_conflicts": 1}).reason == "open_conflicts"
    assert transition(reviewer, 45, "submitted", "approve", **kw).reason == "forbidden"  # not above its own unit
    assert transition(reviewer, 147, "submitted", "return", **kw, comment="Bổ sung").new_status == "returned"
    assert transition(admin, 147, "approved", "reopen", **kw, comment="Sửa lại").new_status == "draft"
    assert transition(official, 147, "returned", "submit", **kw).new_status == "submitted"
    assert answer_edit("submitted").reason == "checklist_locked"
    assert answer_edit("approved").reason == "checklist_locked"
    assert answer_edit("returned").new_status == "draft"
