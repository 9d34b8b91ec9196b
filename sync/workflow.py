"""The checklist status machine, enforced on the server (pure: no database).

    draft ──submit──▶ submitted ──approve──▶ approved
      ▲                  │                      │
      └──(next edit)── returned ◀──return───────┘ (reopen: approved/submitted/returned → draft)

- `submit`: an editor (official, admin) whose scope holds the checklist's unit, from draft or returned.
- `return`, `approve`, `reopen`: a decider (reviewer, admin) whose unit is *above* the checklist's unit
  (admins of the province may also act on the province's own checklists).
- `reopen` of an *approved* checklist: only from above the reviewer who approved it (or an admin).
- `approve` names the version the reviewer saw (`seen_version`); it fails with `version_changed` if the
  checklist changed since and with `open_conflicts` while conflicts are open.
- Answer edits reach only draft and returned checklists (a returned one goes back to draft); on
  submitted or approved ones they are rejected with `checklist_locked` and kept.

Review rules (issue 14):
- `return` and `reopen` need a reason (`comment`), else `reason_required`.
- The user who submitted a checklist may not approve or return it (`own_submission`): an admin, who both
  edits and decides, cannot approve their own declaration.
- A decider who is not an editor (a reviewer) settles a conflict only with one of the values that were
  entered (`value_not_entered`), and may do so while the checklist waits for review (submitted): choosing
  between what the unit entered is part of reviewing it. Editors may type a new value (draft, returned).
- Comments (`comment` edits) may be made by any RESOLVER in scope, in any status; they change no answer.

Who may do what comes from the roles in `sync/vocabulary.py` (EDITORS, RESOLVERS, DECIDERS); the reasons
returned are keys of its REJECTION_REASONS, whose messages the engine sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from .vocabulary import DECIDERS, EDITORS, RESOLVERS

NEEDS_REASON = ("return", "reopen")

EDITABLE = ("draft", "returned")
LOCKED = ("submitted", "approved")

TRANSITIONS = {
    "submit": (("draft", "returned"), "submitted"),
    "return": (("submitted",), "returned"),
    "approve": (("submitted",), "approved"),
    "reopen": (("submitted", "returned", "approved"), "draft"),
}


@dataclass
class Actor:
    username: str
    role: str
    unit_id: int


@dataclass
class Decision:
    ok: bool
    new_status: str | None = None
    reason: str = ""


def may_edit_answers(actor: Actor) -> bool:
    return actor.role in EDITORS


def may_resolve(actor: Actor) -> bool:
    return actor.role in RESOLVERS


def answers_locked(status: str) -> bool:
    """Whether answer edits are refused (`checklist_locked`) in this status."""
    return status in LOCKED


def answer_edit(status: str) -> Decision:
    if answers_locked(status):
        return Decision(False, reason="checklist_locked")
    return Decision(True, new_status="draft" if status == "returned" else status)


def transition(
    actor: Actor,
    checklist_unit_id: int,
    status: str,
    action: str,
    *,
    seen_version: int | None,
    version: int,
    open_conflicts: int,
    comment: str = "",
    submitted_by: str = "",
) -> Decision:
    """Whether `actor` may apply `action` to a checklist (already known to be in the actor's scope).

    `submitted_by` is the user who submitted it (the checklist's `status_by` while it is submitted)."""
    if action not in TRANSITIONS:
        return Decision(False, reason="invalid_value")
    sources, target = TRANSITIONS[action]
    if action == "submit":
        allowed = actor.role in EDITORS
    else:
        above = checklist_unit_id != actor.unit_id or actor.role == "admin"
        allowed = actor.role in DECIDERS and above
    if not allowed:
        return Decision(False, reason="forbidden")
    if status not in sources:
        return Decision(False, reason="bad_transition")
    if action in ("approve", "return") and status == "submitted" and submitted_by == actor.username:
        return Decision(False, reason="own_submission")
    if action in NEEDS_REASON and not comment.strip():
        return Decision(False, reason="reason_required")
    if action == "approve":
        if seen_version is None or seen_version != version:
            return Decision(False, reason="version_changed")
        if open_conflicts:
            return Decision(False, reason="open_conflicts")
    return Decision(True, new_status=target)


def may_reopen_approved(actor: Actor, approver_unit_id: int | None, scope: set[int]) -> bool:
    """An approved checklist is reopened by a unit above the reviewer who approved it (the province's
    admins always may): the approver cannot quietly undo their own approval."""
    if actor.role == "admin":
        return True
    return approver_unit_id is not None and approver_unit_id != actor.unit_id and approver_unit_id in scope


def may_comment(actor: Actor) -> bool:
    return actor.role in RESOLVERS


def resolve_refusal(actor: Actor, status: str, value: str | None, entered: tuple[str | None, ...]) -> str:
    """Why `actor` may not settle a conflict of a checklist in `status` with `value` (canonical text),
    or "". `entered` are the values the two sides entered."""
    if not may_resolve(actor):
        return "forbidden"
    if actor.role in EDITORS:
        return "" if answer_edit(status).ok else "checklist_locked"
    if status not in ("draft", "returned", "submitted"):
        return "checklist_locked"
    if value not in entered:
        return "value_not_entered"
    return ""
