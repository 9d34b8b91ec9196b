"""Publishing a new version of a checklist template from a JSON file in the seed's format
(seed/data/templates/*.json), checked with a Vietnamese message per fault.

A version is a row of its own (`Template`, unique code + version), so publishing never changes what an
existing checklist was made from: each keeps its `template_id`, and `GET /api/templates/{id}` still
serves that version to the phone that holds it. The new version becomes the one offered for new
checklists (`published`; the older versions of the code stop being offered), and the deadline rules
that named an older version follow the new one (a deadline counts any version of its template as done).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from sync.models import Checklist
from sync.periods import PERIOD_KINDS

from ..catalogue import PERIOD_KIND_LABELS
from ..errors import problem
from ..models import ITEM_TYPES, AuditLog, Deadline, Template, TemplateItem, User
from .admin_units import require_province_admin

CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
ITEM_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_ITEMS = 500
TEXT_LIMITS = {"title": 255, "section": 255, "key": 64}
TYPE_WORDS = ", ".join(ITEM_TYPES)
KIND_WORDS = ", ".join(f"{k} ({PERIOD_KIND_LABELS[k].lower()})" for k in PERIOD_KINDS)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def check_template(data: Any) -> list[str]:
    """Every fault of the file, each a Vietnamese sentence naming where it is; empty when it is good."""
    if not isinstance(data, dict):
        return ["Tệp phải là một đối tượng JSON như các tệp trong seed/data/templates."]
    faults: list[str] = []
    if not CODE.fullmatch(_text(data.get("code"))):
        faults.append("Mã mẫu (code) chỉ gồm chữ thường không dấu, số và '_', ví dụ: monthly_report.")
    version = data.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        faults.append("Phiên bản (version) phải là số nguyên dương.")
    for name, label in (("title", "Tên mẫu (title)"), ("legal_basis", "Căn cứ pháp lý (legal_basis)")):
        if not _text(data.get(name)):
            faults.append(f"Thiếu {label}.")
    if len(_text(data.get("title"))) > TEXT_LIMITS["title"]:
        faults.append("Tên mẫu (title) dài quá 255 ký tự.")
    if data.get("period_kind") not in PERIOD_KINDS:
        faults.append(f"Loại kỳ báo cáo (period_kind) phải là một trong: {KIND_WORDS}.")
    items = data.get("items")
    if not isinstance(items, list) or not items:
        faults.append("Mẫu phải có danh sách mục (items) với ít nhất một mục.")
        return faults
    if len(items) > MAX_ITEMS:
        faults.append(f"Mẫu có quá {MAX_ITEMS} mục.")
    keys: set[str] = set()
    for n, item in enumerate(items, 1):
        faults.extend(_item_faults(n, item, keys))
    return faults


def _item_faults(n: int, item: Any, keys: set[str]) -> list[str]:
    where = f"Mục thứ {n}"
    if not isinstance(item, dict):
        return [f"{where} phải là một đối tượng JSON."]
    faults = []
    key = _text(item.get("key"))
    if not ITEM_KEY.fullmatch(key):
        faults.append(f"{where}: mã mục (key) chỉ gồm chữ thường không dấu, số và '_' (tối đa 64 ký tự).")
    elif key in keys:
        faults.append(f"{where}: mã mục '{key}' bị trùng.")
    keys.add(key)
    if item.get("type") not in ITEM_TYPES:
        faults.append(f"{where} ({key}): loại mục (type) phải là một trong: {TYPE_WORDS}.")
    for name, label in (
        ("section", "phần (section)"),
        ("label", "nội dung (label)"),
        ("reference", "căn cứ (reference)"),
    ):
        if not _text(item.get(name)):
            faults.append(f"{where} ({key}): thiếu {label}.")
    if len(_text(item.get("section"))) > TEXT_LIMITS["section"]:
        faults.append(f"{where} ({key}): tên phần (section) dài quá 255 ký tự.")
    if not isinstance(item.get("required"), bool):
        faults.append(f"{where} ({key}): 'required' phải là true hoặc false.")
    if "help" in item and not isinstance(item["help"], str):
        faults.append(f"{where} ({key}): 'help' phải là chữ.")
    return faults


def parse_file(raw: bytes) -> dict:
    """The uploaded file as a checked template, or `template_file_invalid` with every fault."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        faults = ["Tệp không phải JSON hợp lệ (lưu với bảng mã UTF-8)."]
    else:
        faults = check_template(data)
    if faults:
        raise problem("template_file_invalid", field="file", count=len(faults), first=faults[0], errors=faults[:50])
    return data


async def publish(actor: User, data: dict) -> Template:
    """The file as the next version of its code (or the version it names, when higher than any)."""
    require_province_admin(actor)
    code = data["code"]
    latest = await Template.filter(code=code).order_by("-version").first()
    top = latest.version if latest else 0
    version = data.get("version") or top + 1
    if version <= top:
        raise problem("template_version_old", field="version", code=code, latest=top, next=top + 1)
    fields = {
        "title": _text(data["title"]),
        "description": _text(data.get("description")),
        "period_kind": data["period_kind"],
        "legal_basis": _text(data["legal_basis"]),
    }
    try:
        async with in_transaction():
            template = await Template.create(code=code, version=version, published=True, **fields)
            await TemplateItem.bulk_create(
                [
                    TemplateItem(
                        template=template,
                        key=_text(it["key"]),
                        position=n,
                        section=_text(it["section"]),
                        type=it["type"],
                        required=it["required"],
                        label=_text(it["label"]),
                        help=_text(it.get("help")),
                        reference=_text(it["reference"]),
                    )
                    for n, it in enumerate(data["items"], 1)
                ]
            )
            older = await Template.filter(code=code).exclude(id=template.id).values_list("id", flat=True)
            await Template.filter(id__in=older).update(published=False)
            moved = await Deadline.filter(template_id__in=older).update(template_id=template.id)
            await AuditLog.create(
                username=actor.username,
                action="template.publish",
                object_type="template",
                object_id=str(template.id),
                detail={"code": code, "version": version, "items": len(data["items"]), "deadlines_moved": moved},
            )
    except IntegrityError:  # the same version published twice at once
        raise problem("template_version_old", field="version", code=code, latest=version, next=version + 1) from None
    return template


async def versions() -> list[dict]:
    """Every template code with its versions, newest first, and how many checklists each holds."""
    counts = dict(await Checklist.annotate(n=Count("id")).group_by("template_id").values_list("template_id", "n"))
    out: dict[str, dict] = {}
    for t in await Template.all().order_by("code", "-version"):
        entry = out.setdefault(t.code, {"code": t.code, "title": t.title, "versions": []})
        entry["versions"].append({"template": t, "checklists": counts.get(t.id, 0)})
    return sorted(out.values(), key=lambda e: e["title"])
