"""What is due where: the calendar's `due_items(today, unit_ids)` (server/services/deadlines.py).

Reminders read only rule_id, unit_id, period, due, status ("overdue", "done", …) and days_left, so the
calendar's own rules (due dates meaning "before day X", periods an annual report covers, rules that do
not bind this province) decide who is reminded of what.
"""

from __future__ import annotations

from ..services.deadlines import DueItem, due_items

__all__ = ["DueItem", "due_items"]
