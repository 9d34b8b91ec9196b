"""The provincial admin's changes to the unit tree from the administration pages and API: create a unit,
and the checks a new unit's code, name and kind must pass (shared with the import of a new list).

Renames, moves, merges and retirements are in `unit_changes`; scope and role checks in `services.units`.
"""

from __future__ import annotations

import re

from ..errors import problem
from ..models import UNIT_KINDS, Unit, User
from ..textfold import fold_diacritics
from .unit_changes import create_unit
from .units import _target  # the same scope rule as renaming and moving

CODE = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,31}")
# Kinds as a file may write them: the code or the Vietnamese word, diacritics aside.
KIND_WORDS = {
    "tinh": "province",
    "so": "department",
    "so, ban, nganh": "department",
    "so ban nganh": "department",
    "chi cuc": "agency",
    "chi cuc hoac tuong duong": "agency",
    "huyen": "district",
    "xa": "commune",
    "phuong": "ward",
    "thi tran": "town",
}


def check_code(code: str) -> str:
    code = code.strip()
    if not CODE.fullmatch(code):
        raise problem("unit_code_invalid", field="code")
    return code


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise problem("unit_name_empty", field="name")
    return name[:255]


def check_kind(kind: str) -> str:
    word = fold_diacritics(kind)
    found = word if word in UNIT_KINDS else KIND_WORDS.get(word)
    if found is None:
        raise problem("unit_kind_invalid", field="kind")
    return found


def require_province_admin(actor: User) -> None:
    """Tree-wide changes (creating units, importing a list, publishing templates) are the province's."""
    if actor.role != "admin":
        raise problem("forbidden")
    if actor.unit.level != 0:
        raise problem("admin_province_only")


async def create(actor: User, *, code: str, name: str, kind: str, parent_id: int) -> Unit:
    require_province_admin(actor)
    code, name, kind = check_code(code), check_name(name), check_kind(kind)
    parent = await _target(actor, parent_id, "parent_id")
    if not parent.active:
        raise problem("unit_retired", field="parent_id")
    if await Unit.exists(code=code):
        raise problem("unit_code_taken", field="code", code=code)
    return await create_unit(parent, code, name, kind, actor.username)
