"""Administration for the provincial admin (issue 16): each action is written to the audit log.

POST /api/units                         create a unit {code, name, kind, parent_id}
POST /api/units/import/preview          body: the new list of units (CSV or XLSX); what applying it does
POST /api/units/import?digest=...       apply that list in one transaction, if the preview still holds
POST /api/users                         create an account {username, full_name, role, unit_id, password?}
PATCH /api/users/{user_id}/assignment  {role?, unit_id?}: a new role and/or unit (not one's own)
POST /api/users/{user_id}/password      {password?}: set it, or make a temporary one (answered once);
                                        every session of the account ends
GET  /api/users/{user_id}/devices       the account's devices, revoked ones too (DELETE /api/devices/{id})
GET  /api/template-versions            every template code with its versions and checklists per version
POST /api/templates                     body: a template file in the seed's format; its next version

Renaming, moving and merging units are `PATCH /api/units/{id}` and `POST /api/units/{id}/merge`; a
user's lock is `PATCH /api/users/{id}` (api/units.py, api/users.py).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.routing import Route

from .. import auth
from ..services import admin_units, admin_users, devices, templates_admin, unit_import
from . import JSON, Id, int_param, read_body


class NewUnit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=32)
    name: str = Field(max_length=255)
    kind: str = Field(max_length=32)
    parent_id: Id


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=64)
    full_name: str = Field(default="", max_length=128)
    role: str = Field(max_length=16)
    unit_id: Id
    password: str | None = Field(default=None, max_length=256)


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None = Field(default=None, max_length=16)
    unit_id: Id | None = None


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str | None = Field(default=None, max_length=256)


def plan_json(plan: unit_import.Plan) -> dict:
    return {
        "digest": plan.digest,
        "rows": plan.rows,
        "counts": plan.counts(),
        "actions": [
            {"action": a.kind, "code": a.code, "name": a.name, "row": a.row, "old": a.old, "new": a.new}
            for a in plan.actions
        ],
        "warnings": plan.warnings,
    }


async def create_unit(request: Request) -> JSON:
    actor = await auth.require_user(request, "admin")
    body = await read_body(request, NewUnit)
    unit = await admin_units.create(actor, code=body.code, name=body.name, kind=body.kind, parent_id=body.parent_id)
    return JSON({"id": unit.id, "code": unit.code, "name": unit.name, "kind": unit.kind, "level": unit.level}, 201)


async def preview_import(request: Request) -> JSON:
    actor = await auth.require_user(request, "admin")
    return JSON(plan_json(await unit_import.plan_of(actor, await request.body())))


async def apply_import(request: Request) -> JSON:
    actor = await auth.require_user(request, "admin")
    digest = request.query_params.get("digest", "")[:64]
    return JSON(plan_json(await unit_import.apply(actor, await request.body(), digest)))


async def create_user(request: Request) -> JSON:
    actor = await auth.require_user(request, "admin")
    body = await read_body(request, NewUser)
    user, temporary = await admin_users.create(
        actor,
        username=body.username,
        full_name=body.full_name,
        role=body.role,
        unit_id=body.unit_id,
        password=body.password,
    )
    return JSON({"id": user.id, "username": user.username, "role": user.role, "temporary_password": temporary}, 201)


async def assign_user(request: Request) -> JSON:
    actor = await auth.require_user(request, "admin")
    user = await admin_users.user_for(actor, int_param(request, "user_id"))
    body = await read_body(request, Assignment)
    user = await admin_users.change(actor, user, role=body.role, unit_id=body.unit_id)
    return JSON({"id": user.id, "username": user.username, "role": user.role, "unit_id": user.unit.id})


async def reset_password(request: Request) -> JSON:
    actor = await auth.require_user(request, "admin")
    user = await admin_users.user_for(actor, int_param(request, "user_id"))
    body = await read_body(request, NewPassword)
    temporary = await admin_users.reset_password(actor, user, body.password)
    return JSON({"username": user.username, "temporary_password": temporary})


async def user_devices(request: Request) -> JSON:
    actor = await auth.require_user(request, "admin")
    user = await admin_users.user_for(actor, int_param(request, "user_id"))
    return JSON(
        {
            "username": user.username,
            "devices": [
                {
                    "device_id": d.id,
                    "name": d.name,
                    "created_ms": d.created_ms,
                    "last_push_ms": d.last_push_ms,
                    "revoked_ms": d.revoked_ms,
                    "revoked_by": d.revoked_by,
                }
                for d in await devices.of_user(user.id)
            ],
        }
    )


async def template_versions(request: Request) -> JSON:
    actor = await auth.require_user(request, "admin")
    admin_units.require_province_admin(actor)
    return JSON(
        {
            "templates": [
                {
                    "code": e["code"],
                    "title": e["title"],
                    "versions": [
                        {
                            "id": v["template"].id,
                            "version": v["template"].version,
                            "published": v["template"].published,
                            "checklists": v["checklists"],
                        }
                        for v in e["versions"]
                    ],
                }
                for e in await templates_admin.versions()
            ]
        }
    )


async def publish_template(request: Request) -> JSON:
    actor = await auth.require_user(request, "admin")
    admin_units.require_province_admin(actor)
    template = await templates_admin.publish(actor, templates_admin.parse_file(await request.body()))
    return JSON({"id": template.id, "code": template.code, "version": template.version}, 201)


routes = [
    Route("/api/units", create_unit, methods=["POST"]),
    Route("/api/units/import/preview", preview_import, methods=["POST"]),
    Route("/api/units/import", apply_import, methods=["POST"]),
    Route("/api/users", create_user, methods=["POST"]),
    Route("/api/users/{user_id}/assignment", assign_user, methods=["PATCH"]),
    Route("/api/users/{user_id}/password", reset_password, methods=["POST"]),
    Route("/api/users/{user_id}/devices", user_devices, methods=["GET"]),
    Route("/api/template-versions", template_versions, methods=["GET"]),
    Route("/api/templates", publish_template, methods=["POST"]),
]
