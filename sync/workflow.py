"""The checklist status machine, enforced on the server (pure: no database).

    draft ──submit──▶ submitted ──approve──▶ approved
      ▲                  │                      │
      └──(next edit)── returned ◀──return───────┘ (reopen: approved/submitted/returned → draft)

- `submit`: an official or admin whose scope holds the checklist's unit, from draft or returned.
- `return`, `approve`, `reopen`: a reviewer or admin whose unit is *above* the checklist's unit
  (admins of the province may also act on the province's own checklists).
- `approve` names the version the reviewer saw (`seen_version`); it fails with `version_changed` if the
  checklist changed since and with `open_conflicts` while conflicts are open.
- Answer edits reach only draft and returned checklists (a returned one goes back to draft); on
  submitted or approved ones they are rejected with `checklist_locked` and kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

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
    new_status: Optional[str] = None
    reason: str = ""


def may_edit_answers(actor: Actor) -> bool:
    return actor.role in ("official", "admin")


def may_resolve(actor: Actor) -> bool:
    return actor.role in ("official", "reviewer", "admin")


def answer_edit(status: str) -> Decision:
    if status in LOCKED:
        return Decision(False, reason="checklist_locked")
    return Decision(True, new_status="draft" if status == "returned" else status)


def transition(actor: Actor, checklist_unit_id: int, status: str, action: str, *, seen_version: Optional[int],
               version: int, open_conflicts: int) -> Decision:
    """Whether `actor` may apply `action` to a checklist (already known to be in the actor's scope)."""
    if action not in TRANSITIONS:
        return Decision(False, reason="invalid_value")
    sources, target = TRANSITIONS[action]
    if action == "submit":
        allowed = actor.role in ("official", "admin")
    else:
        above = checklist_unit_id != actor.unit_id or actor.role == "admin"
        allowed = actor.role in ("reviewer", "admin") and above
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


MESSAGES = {
    "checklist_locked": "Phiếu đã nộp hoặc đã được duyệt: thay đổi này không được áp dụng và được lưu lại.",
    "out_of_scope": "Không tìm thấy phiếu trong phạm vi của bạn.",
    "not_found": "Không tìm thấy phiếu, mục hoặc xung đột.",
    "invalid_value": "Giá trị không hợp lệ cho mục này.",
    "forbidden": "Tài khoản của bạn không có quyền thực hiện thao tác này.",
    "bad_transition": "Không thể chuyển trạng thái phiếu từ trạng thái hiện tại.",
    "version_changed": "Phiếu đã thay đổi kể từ khi bạn xem: hãy xem lại trước khi duyệt.",
    "open_conflicts": "Phiếu còn xung đột chưa giải quyết: không thể duyệt.",
    "conflict_closed": "Xung đột này đã được giải quyết.",
}
