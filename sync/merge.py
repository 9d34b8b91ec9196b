"""The merge rules, as pure functions: (current state of one item, one edit) -> outcome.

Nothing here touches the database; `sync/push.py` loads the state of a whole batch, calls these rules
edit by edit in sequence order, and writes the results set-based.

Per item and per field (`value`, `note`):

1. The field was never set, or was last set by the same device, or the edit's `base_version` is at least
   the answer version at which the field was last set (the device saw the current value): the edit
   applies.
2. Someone else set the field since the device last saw it, to the same value: the edit applies, no
   conflict (nothing changes).
3. Someone else set it to a different value: both values are kept. The later edit by
   (effective time, device id, seq) is the field's value; the other value becomes an open conflict.
   The winner does not depend on the order in which the edits reached the server.

The outcome of an answer edit: `conflict` if a field conflicted, else `merged` if others had changed the
item since `base_version`, else `applied`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .clock import order_key

FIELDS = ("value", "note")


@dataclass(slots=True)
class FieldState:
    value: str | None  # JSON text for `value`, plain text for `note`
    ms: int = 0
    by: str = ""
    device: str = ""
    seq: int = 0
    version: int = 0  # the answer version at which this field was last set

    @property
    def is_set(self) -> bool:
        return self.device != "" or self.by != ""


@dataclass(slots=True)
class EditInfo:
    """Who made an edit and when (effective time), with the answer version it was based on."""

    ms: int
    by: str
    device: str
    seq: int
    base_version: int


@dataclass(frozen=True, slots=True)
class FieldOutcome:
    kind: str  # applied / same / conflict
    won: bool  # the edit's value is the field's value afterwards
    concurrent: bool  # someone else had set the field since base_version


@dataclass(slots=True)
class ConflictRecord:
    field: str
    winner: FieldState
    loser: FieldState


@dataclass(slots=True)
class AnswerMerge:
    outcome: str  # applied / merged / conflict
    won: bool
    fields: dict[str, FieldState] = field(default_factory=dict)  # new states of the fields that change
    conflicts: list[ConflictRecord] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.fields)


# The outcomes that carry nothing of the edit are made once: merge_answer runs once per answer edit.
_APPLIED = FieldOutcome("applied", True, False)
_SAME = FieldOutcome("same", True, True)


def merge_field(current: FieldState, new_value: str | None, edit: EditInfo) -> FieldOutcome:
    if current.version <= edit.base_version or current.device == edit.device or not current.is_set:
        return _APPLIED
    if current.value == new_value:
        return _SAME
    won = order_key(edit.ms, edit.device, edit.seq) > order_key(current.ms, current.device, current.seq)
    return FieldOutcome("conflict", won, True)


def merge_answer(
    current: dict[str, FieldState], answer_version: int, new: dict[str, str | None], edit: EditInfo
) -> AnswerMerge:
    """current: field -> state; new: field -> value for the fields the edit sets.

    The returned field states carry version = answer_version + 1 (the engine bumps the answer once).
    """
    result = AnswerMerge(outcome="applied", won=True)
    any_concurrent = False
    if answer_version > edit.base_version:
        for f in FIELDS:
            if current[f].device not in ("", edit.device):
                any_concurrent = True
                break
    next_version = answer_version + 1
    for name, value in new.items():
        cur = current[name]
        fo = merge_field(cur, value, edit)
        if fo is _APPLIED:
            if cur.value != value or not cur.is_set:
                result.fields[name] = FieldState(value, edit.ms, edit.by, edit.device, edit.seq, next_version)
        elif fo.kind == "conflict":
            mine = FieldState(value, edit.ms, edit.by, edit.device, edit.seq, next_version)
            result.outcome = "conflict"
            if fo.won:
                result.fields[name] = mine
                result.conflicts.append(ConflictRecord(name, winner=mine, loser=cur))
            else:
                result.won = False
                result.conflicts.append(ConflictRecord(name, winner=cur, loser=mine))
    if result.outcome != "conflict" and any_concurrent:
        result.outcome = "merged"
    return result
