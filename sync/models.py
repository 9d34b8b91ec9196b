"""Replicated data: what phones edit offline and the server merges.

Times of edits are integers (milliseconds since the epoch, UTC) so that the set-based merge can write
them with plain SQL on SQLite and PostgreSQL alike. Values are JSON text for the same reason.

Foreign keys name the units, accounts and templates of `sync/tables.py` (one Tortoise app, "models").
`MODEL_MODULES` is what the engine needs to run on its own; the server adds its tables to it.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

MODEL_MODULES = ["sync.tables", "sync.models"]


class Device(Model):
    """A phone or browser of one user. Its edits carry a per-device sequence number."""

    id = fields.CharField(primary_key=True, max_length=36)  # UUID chosen by the server
    user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.User", related_name="devices", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=128, default="")
    created_ms = fields.BigIntField()
    last_seq = fields.BigIntField(default=0)  # last sequence number recorded (applied or not)
    clock_offset_ms = fields.BigIntField(default=0)  # server time minus device time, at last sync
    last_push_ms = fields.BigIntField(null=True)
    last_pull_ms = fields.BigIntField(null=True)
    revoked_ms = fields.BigIntField(null=True)
    revoked_by = fields.CharField(max_length=64, default="")
    # The server session that registered the device, or the newer one of the same user that used it
    # since (the same phone after logging in again). Revoking the device ends that session. A plain
    # integer: the session table is the server's, and the engine runs without it.
    session_id = fields.IntField(null=True)
    # The browser's Idempotency-Key of the registration: a re-sent POST returns this device.
    registration_key = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "device"
        unique_together = (("user", "registration_key"),)


class Checklist(Model):
    id = fields.CharField(primary_key=True, max_length=36)  # UUID
    unit: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Unit", related_name="checklists", on_delete=fields.RESTRICT
    )
    template: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Template", related_name="checklists", on_delete=fields.RESTRICT
    )
    period = fields.CharField(max_length=16)  # "2026-11", "2026" or "once"
    status = fields.CharField(max_length=16, default="draft")
    # Bumped on every change of the checklist or one of its answers; an approval names it.
    version = fields.BigIntField(default=1)
    created_by = fields.CharField(max_length=64, default="")
    created_ms = fields.BigIntField()
    updated_ms = fields.BigIntField()
    status_by = fields.CharField(max_length=64, default="")
    status_ms = fields.BigIntField(null=True)
    status_comment = fields.TextField(default="")
    approved_version = fields.BigIntField(null=True)
    # The last status action applied (submit/return/approve/reopen), null before any: a draft whose last
    # action was `reopen` is shown as "mở lại" (reopened), with `status_comment` as the reason.
    last_action = fields.CharField(max_length=16, null=True)

    class Meta:
        table = "checklist"
        unique_together = (("unit", "template", "period"),)


class ChecklistAlias(Model):
    """A checklist id a phone made for a unit/template/period that already had a checklist: edits
    addressed to `alias_id` land on `checklist` (sync/create.py); pulls tell phones to re-key."""

    alias_id = fields.CharField(primary_key=True, max_length=36)
    checklist: fields.ForeignKeyRelation[Checklist] = fields.ForeignKeyField(
        "models.Checklist", related_name="aliases", on_delete=fields.CASCADE
    )
    unit_id = fields.IntField()
    created_by = fields.CharField(max_length=64, default="")
    device_id = fields.CharField(max_length=36, default="")
    created_ms = fields.BigIntField()

    class Meta:
        table = "checklist_alias"


class Answer(Model):
    """Current value and note of one item. Each field remembers the edit that set it."""

    id = fields.BigIntField(primary_key=True)
    checklist: fields.ForeignKeyRelation[Checklist] = fields.ForeignKeyField(
        "models.Checklist", related_name="answers", on_delete=fields.CASCADE
    )
    item_key = fields.CharField(max_length=64)
    value = fields.TextField(null=True)  # JSON
    note = fields.TextField(default="")
    version = fields.BigIntField(default=0)  # per-answer version, bumped on each change
    value_ms = fields.BigIntField(default=0)  # effective time of the edit that set the value
    value_by = fields.CharField(max_length=64, default="")
    value_device = fields.CharField(max_length=36, default="")
    value_seq = fields.BigIntField(default=0)
    note_ms = fields.BigIntField(default=0)
    note_by = fields.CharField(max_length=64, default="")
    note_device = fields.CharField(max_length=36, default="")
    note_seq = fields.BigIntField(default=0)
    # The answer `version` at which each field was last set: an edit based on a version >= this did see
    # the field's current value, so it is not concurrent with it (field-level merge, sync/merge.py).
    value_version = fields.BigIntField(default=0)
    note_version = fields.BigIntField(default=0)
    review_comment = fields.TextField(default="")  # set by the reviewer
    updated_ms = fields.BigIntField()

    class Meta:
        table = "answer"
        unique_together = (("checklist", "item_key"),)


class Conflict(Model):
    """Two edits of one field with different values: the losing value is kept here until resolved."""

    id = fields.CharField(primary_key=True, max_length=36)
    checklist: fields.ForeignKeyRelation[Checklist] = fields.ForeignKeyField(
        "models.Checklist", related_name="conflicts", on_delete=fields.CASCADE
    )
    item_key = fields.CharField(max_length=64)
    field = fields.CharField(max_length=8)  # value / note
    winner_value = fields.TextField(null=True)
    winner_by = fields.CharField(max_length=64)
    winner_device = fields.CharField(max_length=36)
    winner_ms = fields.BigIntField()
    loser_value = fields.TextField(null=True)
    loser_by = fields.CharField(max_length=64)
    loser_device = fields.CharField(max_length=36)
    loser_ms = fields.BigIntField()
    status = fields.CharField(max_length=8, default="open")  # open / resolved
    resolved_by = fields.CharField(max_length=64, default="")
    resolved_ms = fields.BigIntField(null=True)
    resolved_value = fields.TextField(null=True)
    created_ms = fields.BigIntField()

    class Meta:
        table = "conflict"


class Edit(Model):
    """Every edit the server received, once per (device, seq), with its payload and outcome."""

    id = fields.BigIntField(primary_key=True)
    device_id = fields.CharField(max_length=36)
    seq = fields.BigIntField()
    username = fields.CharField(max_length=64)
    kind = fields.CharField(max_length=16)
    checklist_id = fields.CharField(max_length=36, default="")
    item_key = fields.CharField(max_length=64, default="")
    payload = fields.TextField()  # the edit as received, JSON
    device_ms = fields.BigIntField()
    effective_ms = fields.BigIntField()
    received_ms = fields.BigIntField()
    outcome = fields.CharField(max_length=16)  # applied / merged / conflict / rejected
    reason = fields.CharField(max_length=64, default="")
    detail = fields.TextField(default="")  # JSON: what the client needs to show the outcome

    class Meta:
        table = "edit"
        unique_together = (("device_id", "seq"),)


class EditTally(Model):
    """How many edits were recorded per (outcome, reason), kept in the push's own transaction: /metrics reads
    these few rows instead of counting the whole edit log at every scrape."""

    id = fields.IntField(primary_key=True)
    outcome = fields.CharField(max_length=16)
    reason = fields.CharField(max_length=64, default="")
    n = fields.BigIntField(default=0)

    class Meta:
        table = "edit_tally"
        unique_together = (("outcome", "reason"),)


class Change(Model):
    """The change log that pulls page through. Its id is the cursor.

    One row per changed entity (checklist, answer, conflict); the pull sends the entity's current state.
    """

    id = fields.BigIntField(primary_key=True)
    unit_id = fields.IntField(db_index=True)
    checklist_id = fields.CharField(max_length=36)
    entity = fields.CharField(max_length=16)  # checklist / answer / conflict
    entity_key = fields.CharField(max_length=64, default="")
    op = fields.CharField(max_length=8, default="upsert")  # upsert / delete

    class Meta:
        table = "change"


class Quarantine(Model):
    """Pushes refused as a whole (revoked device, unknown device): payload kept for review."""

    id = fields.BigIntField(primary_key=True)
    device_id = fields.CharField(max_length=36)
    username = fields.CharField(max_length=64, default="")
    reason = fields.CharField(max_length=64)
    payload = fields.TextField()
    received_ms = fields.BigIntField()

    class Meta:
        table = "quarantine"


class Evidence(Model):
    """An uploaded file, stored by content hash (SHA-256). Answers refer to it by hash."""

    sha256 = fields.CharField(primary_key=True, max_length=64)
    size = fields.BigIntField()
    mime = fields.CharField(max_length=64)
    received = fields.BigIntField(default=0)  # bytes received so far (resumable upload)
    complete = fields.BooleanField(default=False)
    uploaded_by = fields.CharField(max_length=64)
    unit_id = fields.IntField()
    created_ms = fields.BigIntField()

    class Meta:
        table = "evidence"


class ReviewComment(Model):
    """A comment on one item of a checklist, or on the whole checklist (`item_key` ""), made by a `comment`
    edit (sync/batch.py). Its id is the client's, so a re-sent comment is the same row. Never changed."""

    id = fields.CharField(primary_key=True, max_length=36)
    checklist: fields.ForeignKeyRelation[Checklist] = fields.ForeignKeyField(
        "models.Checklist", related_name="review_comments", on_delete=fields.CASCADE
    )
    item_key = fields.CharField(max_length=64, default="")
    text = fields.TextField()
    author = fields.CharField(max_length=64)  # username
    author_role = fields.CharField(max_length=16)
    device_id = fields.CharField(max_length=36)
    seq = fields.BigIntField()  # the edit that made it
    created_ms = fields.BigIntField()  # when the server received it
    checklist_version = fields.BigIntField()  # the checklist's version when it was made

    class Meta:
        table = "review_comment"
