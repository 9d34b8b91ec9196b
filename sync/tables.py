"""Tables the engine reads and the server administers: units, accounts, templates and their items.

They live here, below both, so that the replicated tables (`sync/models.py`) can refer to them and the
engine can be initialised without the server; `server/models.py` re-exports them. Table names and
columns are the schema's (`server/migrations/`): Tortoise records a model by app and class name, not
by module, so where a class is written does not matter to the migrations.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Unit(Model):
    id = fields.IntField(primary_key=True)
    # Stable identifier across re-seeding and renames (e.g. "KT-147" = annex row 147).
    code = fields.CharField(max_length=32, unique=True)
    kind = fields.CharField(max_length=16)
    level = fields.IntField()  # 0 = province; a child is its parent's level + 1
    parent: fields.ForeignKeyNullableRelation[Unit] = fields.ForeignKeyField(
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
    merged_into: fields.ForeignKeyNullableRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="merged_from", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "unit"


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
