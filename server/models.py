"""Units, people, templates, deadlines and the audit log.

The replicated data that phones edit (checklists, answers, conflicts, devices) is in `sync/models.py`.
"""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

# Unit kinds as the annex names them; the tree itself is data, so a two-level province needs no code.
UNIT_KINDS = ("province", "department", "agency", "district", "commune", "ward", "town")
QMS_STATUSES = ("none", "iso2008", "converting", "iso2015", "announced", "eiso")
ROLES = ("official", "reviewer", "admin", "viewer")
ITEM_TYPES = ("choice", "text", "number", "date", "evidence")
CHOICE_VALUES = ("yes", "no", "partial", "na")


class Unit(Model):
    id = fields.IntField(primary_key=True)
    # Stable identifier across re-seeding and renames (e.g. "KT-147" = annex row 147).
    code = fields.CharField(max_length=32, unique=True)
    kind = fields.CharField(max_length=16)
    level = fields.IntField()  # 0 = province; a child is its parent's level + 1
    parent: fields.ForeignKeyNullableRelation["Unit"] = fields.ForeignKeyField(
        "models.Unit", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    source_name = fields.CharField(max_length=255)  # spelling exactly as in the source document
    name = fields.CharField(max_length=255)  # clean display name
    name_folded = fields.CharField(max_length=255, db_index=True)  # lower case, no diacritics
    target_year = fields.IntField(null=True)
    qms_status = fields.CharField(max_length=16, default="none")
    qms_status_date = fields.DateField(null=True)
    qms_note = fields.TextField(default="")
    annex_no = fields.IntField(null=True)
    active = fields.BooleanField(default=True)
    merged_into: fields.ForeignKeyNullableRelation["Unit"] = fields.ForeignKeyField(
        "models.Unit", related_name="merged_from", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "unit"


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


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    full_name = fields.CharField(max_length=128, default="")
    role = fields.CharField(max_length=16)
    unit: fields.ForeignKeyRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="users", on_delete=fields.RESTRICT
    )
    password_hash = fields.CharField(max_length=255)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "user"


class Session(Model):
    """Server-side session: the cookie holds a random token, the table its SHA-256."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    address = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=255, default="")

    class Meta:
        table = "session"


class LoginFailure(Model):
    """One failed login. Throttling counts recent rows per account and per address."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=128, db_index=True)  # "user:<name>" or "addr:<ip>"
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "login_failure"


class Template(Model):
    """One version of a checklist template. A new version is a new row, old ones stay."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32)
    version = fields.IntField()
    title = fields.CharField(max_length=255)
    description = fields.TextField(default="")
    period_kind = fields.CharField(max_length=16)  # once / month / year
    legal_basis = fields.TextField(default="")
    published = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "template"
        unique_together = (("code", "version"),)


class TemplateItem(Model):
    id = fields.IntField(primary_key=True)
    template: fields.ForeignKeyRelation[Template] = fields.ForeignKeyField(
        "models.Template", related_name="items", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=64)
    position = fields.IntField()
    section = fields.CharField(max_length=255)
    type = fields.CharField(max_length=16)
    required = fields.BooleanField(default=False)
    label = fields.TextField()
    help = fields.TextField(default="")
    reference = fields.TextField()

    class Meta:
        table = "template_item"
        unique_together = (("template", "key"),)


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
    # Recurring: "monthly:22" or "yearly:06-30"; one-off: due_date set and recurrence "".
    recurrence = fields.CharField(max_length=32, default="")
    due_date = fields.DateField(null=True)
    reference = fields.TextField(default="")

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
