"""The server's own tables: unit history, sessions, login failures, deadlines and the audit log.

Units, accounts and templates are read by the sync engine too, so they are defined in `sync/tables.py`
and re-exported here (`from server.models import Unit` keeps working). The replicated data that phones
edit (checklists, answers, conflicts, devices) is in `sync/models.py`.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from sync.tables import Template, TemplateItem, Unit, User

__all__ = [
    "AuditLog",
    "CHOICE_VALUES",
    "Deadline",
    "EvidenceGrant",
    "EvidenceUpload",
    "ITEM_TYPES",
    "LoginFailure",
    "Procedure",
    "QMS_STATUSES",
    "ROLES",
    "Session",
    "Template",
    "TemplateItem",
    "UNIT_KINDS",
    "Unit",
    "UnitHistory",
    "User",
]

# Unit kinds as the annex names them; the tree itself is data, so a two-level province needs no code.
UNIT_KINDS = ("province", "department", "agency", "district", "commune", "ward", "town")
QMS_STATUSES = ("none", "iso2008", "converting", "iso2015", "announced", "eiso")
ROLES = ("official", "reviewer", "admin", "viewer")
ITEM_TYPES = ("choice", "text", "number", "date", "evidence")
CHOICE_VALUES = ("yes", "no", "partial", "na")


class UnitHistory(Model):
    """Renames, moves, merges and status changes of a unit: never rewritten."""

    id = fields.IntField(primary_key=True)
    unit: fields.ForeignKeyRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="history", on_delete=fields.RESTRICT
    )
    change = fields.CharField(max_length=16)  # create / rename / move / merge / status
    old = fields.JSONField(null=True)
    new = fields.JSONField(null=True)
    at = fields.DatetimeField(auto_now_add=True)
    by_username = fields.CharField(max_length=64, default="")

    class Meta:
        table = "unit_history"


class Session(Model):
    """Server-side session: the cookie holds a random token, the table its SHA-256."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)  # when it ended, whatever the reason
    ended_reason = fields.CharField(max_length=32, default="", db_default="")  # SESSION_END_REASONS in the catalogue
    address = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=255, default="")

    class Meta:
        table = "session"


class LoginFailure(Model):
    """One failed login. Throttling counts recent rows per account and per address."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=128, db_index=True)  # "user:<name>" or "addr:<ip>"
    at = fields.DatetimeField(auto_now_add=True, db_index=True)  # old rows are purged by it

    class Meta:
        table = "login_failure"


class Deadline(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    title = fields.CharField(max_length=255)
    template: fields.ForeignKeyNullableRelation[Template] = fields.ForeignKeyField(
        "models.Template", related_name="deadlines", null=True, on_delete=fields.SET_NULL
    )
    # A deadline applies to a unit's subtree, optionally only to units of one level.
    unit: fields.ForeignKeyRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="deadlines", on_delete=fields.RESTRICT
    )
    level = fields.IntField(null=True)
    # The last day allowed, as the source document means it: "trước ngày 22 hằng tháng" is "monthly:21",
    # "trước ngày 30/6" is "yearly:06-29"; one-off: due_date set and recurrence "". A rule whose document
    # fixes no day (Kon Tum's "định kỳ hàng năm") has neither until the province sets one.
    recurrence = fields.CharField(max_length=32, default="")
    due_date = fields.DateField(null=True)
    reference = fields.TextField(default="")  # where in the source document (article, section)
    # The rule as data (issue 15): the document it comes from, quoted. Database defaults let the columns
    # be added to a table that already has rows (SQLite and PostgreSQL refuse NOT NULL without one).
    source_number = fields.CharField(max_length=64, default="", db_default="")  # "474/QĐ-UBND"
    source_date = fields.DateField(null=True)
    source_issuer = fields.CharField(max_length=255, default="", db_default="")
    source_quote = fields.TextField(default="", db_default="")
    # The period a checklist must be for: its kind, and how many periods before the due date's own one
    # (a report due before 30/6/2027 covers the year 2026: -1).
    period_kind = fields.CharField(max_length=16, default="once", db_default="once")
    period_offset = fields.IntField(default=0, db_default=0)
    # Whether the rule binds this province; rules of other provinces are kept as data, not enforced.
    binding = fields.BooleanField(default=True, db_default=True)
    # The first due date that counts (a rule adopted in 2026 does not make 2022 overdue).
    starts_on = fields.DateField(null=True)
    updated_at = fields.DatetimeField(auto_now=True, null=True)

    class Meta:
        table = "deadline"


class AuditLog(Model):
    """Append-only: rows are inserted, never updated or deleted."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True)
    username = fields.CharField(max_length=64, default="")
    action = fields.CharField(max_length=64)
    object_type = fields.CharField(max_length=32, default="")
    object_id = fields.CharField(max_length=64, default="")
    detail = fields.JSONField(null=True)

    class Meta:
        table = "audit_log"


class Procedure(Model):
    """One administrative procedure (thủ tục hành chính) a unit has brought into its quality system.

    The unit keeps its list here (templates only hold counts). A removed entry keeps its row (removed_at
    set), so the register still tells what was listed when; every change is in the audit log too."""

    id = fields.IntField(primary_key=True)
    unit: fields.ForeignKeyRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="procedures", on_delete=fields.RESTRICT
    )
    code = fields.CharField(max_length=32, default="")  # the national code, e.g. "1.004227", when known
    name = fields.TextField()
    name_folded = fields.TextField()  # lower case, no diacritics: the search reads this
    field = fields.CharField(max_length=255, default="")  # lĩnh vực, e.g. "Hộ tịch"
    in_system_on = fields.DateField(null=True)  # when its procedure entered the system
    note = fields.TextField(default="")
    created_by = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    removed_at = fields.DatetimeField(null=True)
    removed_by = fields.CharField(max_length=64, default="")

    class Meta:
        table = "tthc_procedure"


# Evidence (issue 17): who is sending which file, and which units proved they hold it. The stored files
# themselves are `sync.models.Evidence` (one row per complete file, by content hash).
class EvidenceUpload(Model):
    """One user's upload in progress of one file: the bytes go to a partial file of its own, so a start
    by someone else (or with a wrong size) never blocks it. Removed when complete or expired."""

    id = fields.IntField(primary_key=True)
    sha256 = fields.CharField(max_length=64)
    username = fields.CharField(max_length=64)
    unit_id = fields.IntField()
    size = fields.BigIntField()
    mime = fields.CharField(max_length=64)
    received = fields.BigIntField(default=0)
    created_ms = fields.BigIntField()
    updated_ms = fields.BigIntField(db_index=True)  # the last chunk: partial uploads expire from it

    class Meta:
        table = "evidence_upload"
        unique_together = (("sha256", "username"),)


class EvidenceGrant(Model):
    """A unit that sent the whole file and had it hashed (proof of possession): its users, and the
    reviewers above it, may read the file. Knowing the hash alone gives nothing."""

    id = fields.IntField(primary_key=True)
    sha256 = fields.CharField(max_length=64, db_index=True)
    unit_id = fields.IntField()
    username = fields.CharField(max_length=64)  # who sent it (counts against their stored quota)
    size = fields.BigIntField()
    created_ms = fields.BigIntField()

    class Meta:
        table = "evidence_grant"
        unique_together = (("sha256", "unit_id"),)
