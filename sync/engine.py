"""The engine's two entry points: apply a push, serve a pull. Nothing here knows HTTP; the routes in
`server/api/sync.py` are thin wrappers around these.

- `apply_push` (`sync/push.py`): one batch of edits from one device, merged in one set-based transaction
  (each edit by `sync/batch.py`, in memory).
- `pull_page` (`sync/pull.py`): one page of what changed in the user's scope since a cursor.

Shared by both: row columns, JSON and wire forms (`sync/rows.py`), portable SQL (`sync/sql.py`), the change
log (`sync/changelog.py`). The rules they apply are pure: merge (`sync/merge.py`), clock (`sync/clock.py`),
checklist workflow (`sync/workflow.py`), words (`sync/vocabulary.py`).
"""

from __future__ import annotations

from .pull import Cursor, pull_page, scope_digest
from .push import apply_push, quarantine

__all__ = ["Cursor", "apply_push", "pull_page", "quarantine", "scope_digest"]
