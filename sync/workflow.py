"""The checklist status machine, enforced on the server (pure: no database).

    draft ──submit──▶ submitted ──approve──▶ approved
      ▲                  │                      │
      └──(next edit)── returned ◀──return───────┘ (reopen: approved/submitted/returned → draft)

- `submit`: an editor (official, admin) whose scope holds the checklist's unit, from draft or returned.
- `return`, `approve`, `reopen`: a decider (reviewer, admin) whose unit is *above* the checklist's unit
  (admins of the province may also act on the province's own checklists).
- `approve` names the version the reviewer saw (`seen_version`); it fails with `version_changed` if the
  checklist changed since and with `open_conflicts` while conflicts are open.
- Answer edits reach only draft and returned checklists (a returned one goes back to draft); on
  submitted or approved ones they are rejected with `checklist_locked` and kept.

Who may do what comes from the roles in `sync/vocabulary.py` (EDITORS, RESOLVERS, DECIDERS); the reasons
returned are keys of its REJECTION_REASONS, whose messages the engine sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from .vocabulary import DECIDERS, EDITORS, RESOLVERS

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


def answer_edit(status: str) -> Decision:
    if status in LOCKED:
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
) -> Decision:
    """Whether `actor` may apply `action` to a checklist (already known to be in the actor's scope)."""
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
    if action == "approve":
        if seen_version is None or seen_version != version:
            return Decision(False, reason="version_changed")
        if open_conflicts:
            return Decision(False, reason="open_conflicts")
    return Decision(True, new_status=target)
