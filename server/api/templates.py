"""Checklist templates: the same for everyone, so any logged-in user may read them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from .. import auth
from ..errors import problem
from ..models import Template, TemplateItem
from . import JSON, int_param


def template_json(t: Template) -> dict:
    return {
        "id": t.id,
        "code": t.code,
        "version": t.version,
        "title": t.title,
        "description": t.description,
        "period_kind": t.period_kind,
        "legal_basis": t.legal_basis,
    }


def item_json(i: TemplateItem) -> dict:
    return {
        "key": i.key,
        "position": i.position,
        "section": i.section,
        "type": i.type,
        "required": i.required,
        "label": i.label,
        "help": i.help,
        "reference": i.reference,
    }


async def list_templates(request: Request) -> JSON:
    await auth.require_user(request)
    templates = await Template.filter(published=True).order_by("code", "version")
    return JSON({"templates": [template_json(t) for t in templates]})


async def get_template(request: Request) -> JSON:
    await auth.require_user(request)
    template = await Template.get_or_none(id=int_param(request, "template_id"))
    if template is None:
        raise problem("template_not_found")
    items = await TemplateItem.filter(template_id=template.id).order_by("position")
    return JSON({**template_json(template), "items": [item_json(i) for i in items]})


routes = [
    Route("/api/templates", list_templates, methods=["GET"]),
    Route("/api/templates/{template_id}", get_template, methods=["GET"]),
]
