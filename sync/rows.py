"""Rows as push and pull read and send them: column lists, canonical JSON, chunked `IN (...)` queries, the
device check, cached template facts and the wire form of checklists, answers and conflicts.

Rows are plain dicts keyed by column name (see `sync/sql.py`); values of answers and conflicts are JSON
text in the database and JSON values on the wire.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .sql import fetch, in_list

CHUNK = 500  # ids per IN (...) list

ANSWER_COLS = (
    "id",
    "checklist_id",
    "item_key",
    "value",
    "note",
    "version",
    "value_ms",
    "value_by",
    "value_device",
    "value_seq",
    "value_version",
    "note_ms",
    "note_by",
    "note_device",
    "note_seq",
    "note_version",
    "review_comment",
    "updated_ms",
)
CHECKLIST_COLS = (
    "id",
    "unit_id",
    "template_id",
    "period",
    "status",
    "version",
    "status_by",
    "status_ms",
    "status_comment",
    "approved_version",
    "updated_ms",
    "created_ms",
    "created_by",
    "last_action",
)
CONFLICT_COLS = (
    "id",
    "checklist_id",
    "item_key",
    "field",
    "winner_value",
    "winner_by",
    "winner_device",
    "winner_ms",
    "loser_value",
    "loser_by",
    "loser_device",
    "loser_ms",
    "status",
    "resolved_by",
    "resolved_ms",
    "resolved_value",
    "created_ms",
)

COMMENT_COLS = (
    "id",
    "checklist_id",
    "item_key",
    "text",
    "author",
    "author_role",
    "device_id",
    "seq",
    "created_ms",
    "checklist_version",
)

# SELECTs of whole rows, with one `{in}` marker for `fetch_in`.
SELECT_CHECKLISTS = f"SELECT {', '.join(CHECKLIST_COLS)} FROM checklist WHERE id IN ({{in}})"
SELECT_ANSWERS_OF = f"SELECT {', '.join(ANSWER_COLS)} FROM answer WHERE checklist_id IN ({{in}})"
# The answers of named items only: a push of a few edits need not read every answer of the checklists.
SELECT_ANSWERS_OF_ITEMS = (
    f"SELECT {', '.join(ANSWER_COLS)} FROM answer WHERE item_key IN ({{keys}}) AND checklist_id IN ({{{{in}}}})"
)
SELECT_CONFLICTS = f"SELECT {', '.join(CONFLICT_COLS)} FROM conflict WHERE id IN ({{in}})"
SELECT_CONFLICTS_OF = f"SELECT {', '.join(CONFLICT_COLS)} FROM conflict WHERE checklist_id IN ({{in}})"

SELECT_COMMENT_IDS = "SELECT id, checklist_id FROM review_comment WHERE id IN ({in})"
# Comments with their author's name (the account's full name, "" if the account is gone).
_COMMENT_SELECT = (
    f"SELECT {', '.join('rc.' + c for c in COMMENT_COLS)}, u.full_name AS author_name "
    'FROM review_comment rc LEFT JOIN "user" u ON u.username = rc.author '
)
SELECT_COMMENTS = _COMMENT_SELECT + "WHERE rc.id IN ({in})"
SELECT_COMMENTS_OF = _COMMENT_SELECT + "WHERE rc.checklist_id IN ({in}) ORDER BY rc.created_ms, rc.id"

_encode_str = json.encoder.encode_basestring  # type: ignore[attr-defined]


def dumps(value: Any) -> str:
    """Canonical JSON text of a value: equal values give equal text."""
    if type(value) is str:  # the common case (choices, text), without the general encoder's overhead
        return _encode_str(value)
    if type(value) is int:
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def loads(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def chunks(items: list, n: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


async def fetch_in(conn: Any, sql: str, ids: Iterable[Any], extra: Iterable[Any] = ()) -> list[dict]:
    """Rows of `sql` for every id, in chunks. `sql` has one `{in}` marker placed after any `extra`
    parameters."""
    ids = list(dict.fromkeys(ids))
    rows: list[dict] = []
    for part in chunks(ids):
        rows.extend(await fetch(conn, sql.format(**{"in": in_list(len(part))}), [*extra, *part]))
    return rows


async def answers_of_items(conn: Any, pairs: set[tuple[str, str]]) -> list[dict]:
    """The answer rows of these (checklist_id, item_key) pairs, and maybe a few more (the named items of
    every checklist named); with more item keys than one list holds, every answer of the checklists."""
    checklists = sorted({c for c, _k in pairs})
    keys = sorted({k for _c, k in pairs})
    if len(keys) > CHUNK:
        return await fetch_in(conn, SELECT_ANSWERS_OF, checklists)
    return await fetch_in(conn, SELECT_ANSWERS_OF_ITEMS.format(keys=in_list(len(keys))), checklists, keys)


# ---------------------------------------------------------------------------------------------- edit log
# An applied answer edit is recorded without a second copy of what its Edit row's columns already hold
# (seq, device_ms, kind, checklist_id, item_key): its payload keeps value, note and base_version as sent
# (those sent, no others), and the checklist id only when the phone named an alias of the checklist.
# `edit_payload` puts the edit back together as the phone sent it. A full payload always has "seq",
# a compact one never does: rows recorded before (full payloads) read as they are.


def compact_answer(e: Any, checklist_id: str) -> str:
    """The payload kept for an applied answer edit `e` recorded under `checklist_id` (its canonical id).
    Written by hand, field by field, in the order the phone's edit has them: it runs once per edit."""
    sent = e.model_fields_set
    parts = []
    if e.checklist_id != checklist_id:
        parts.append('"checklist_id":' + _encode_str(e.checklist_id))
    if "value" in sent:
        parts.append('"value":' + ("null" if e.value is None else dumps(e.value)))
    if "note" in sent:
        parts.append('"note":' + ("null" if e.note is None else _encode_str(e.note)))
    if "base_version" in sent:
        bv = e.base_version
        parts.append('"base_version":' + (str(bv) if type(bv) is int else "null" if bv is None else dumps(bv)))
    return "{" + ",".join(parts) + "}"


def edit_payload(row: Any) -> Any:
    """The edit as the phone sent it (a dict), from an Edit row (a model or a dict with kind, seq,
    device_ms, checklist_id, item_key, reason and payload); a payload that is not JSON (a capped one,
    from before) as its text. A rejected edit (it has a reason) keeps its whole payload."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    try:
        data = json.loads(get("payload"))
    except ValueError:
        return get("payload")
    if get("kind") != "answer" or get("reason") or not isinstance(data, dict) or "seq" in data:
        return data
    full = {"seq": get("seq"), "device_ms": get("device_ms"), "kind": "answer"}
    full["checklist_id"] = data.pop("checklist_id", get("checklist_id"))
    full["item_key"] = get("item_key")
    full.update(data)
    return full


# ---------------------------------------------------------------------------------------------- devices


async def fetch_device(conn: Any, device_id: str, *, lock: bool = False) -> dict | None:
    """The device row (id, user_id, last_seq, revoked_ms); `lock` takes PostgreSQL's row lock."""
    rows = await fetch(
        conn,
        "SELECT id, user_id, last_seq, revoked_ms FROM device WHERE id = ?" + (" FOR UPDATE" if lock else ""),
        [device_id],
    )
    return rows[0] if rows else None


def device_refusal(device: dict | None, user: Any) -> str:
    """The SYNC_ERRORS code that refuses this user's request from this device, or ""."""
    if device is None or device["user_id"] != user.id:
        return "unknown_device"
    if device["revoked_ms"] is not None:
        return "device_revoked"
    return ""


# ---------------------------------------------------------------------------------------------- templates
# Templates are versioned: a published version's items never change, so their facts are cached for good.
_ITEM_TYPES: dict[int, dict[str, str]] = {}
_TEMPLATE_CODES: dict[int, str] = {}


async def item_types(conn: Any, template_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """template id -> {item key: item type}, for at least the templates asked for."""
    missing = [t for t in set(template_ids) if t not in _ITEM_TYPES]
    if missing:
        found: dict[int, dict[str, str]] = {t: {} for t in missing}
        for r in await fetch_in(
            conn, 'SELECT template_id, "key", "type" FROM template_item WHERE template_id IN ({in})', missing
        ):
            found[r["template_id"]][r["key"]] = r["type"]
        _ITEM_TYPES.update(found)
    return _ITEM_TYPES


async def template_codes(conn: Any, template_ids: Iterable[int]) -> dict[int, str]:
    """template id -> template code, for at least the templates asked for."""
    missing = [t for t in set(template_ids) if t not in _TEMPLATE_CODES]
    if missing:
        for r in await fetch_in(conn, "SELECT id, code FROM template WHERE id IN ({in})", missing):
            _TEMPLATE_CODES[r["id"]] = r["code"]
    return _TEMPLATE_CODES


# ---------------------------------------------------------------------------------------------- wire form


def checklist_out(c: dict, codes: dict[int, str]) -> dict:
    return {
        "id": c["id"],
        "unit_id": c["unit_id"],
        "template_id": c["template_id"],
        "template_code": codes.get(c["template_id"], ""),
        "period": c["period"],
        "status": c["status"],
        "version": c["version"],
        "status_comment": c["status_comment"],
        "status_by": c["status_by"],
        "status_ms": c["status_ms"],
        "approved_version": c["approved_version"],
        "updated_ms": c["updated_ms"],
        "reopened": c["status"] == "draft" and c.get("last_action") == "reopen",
    }


def answer_out(a: dict) -> dict:
    return {
        "checklist_id": a["checklist_id"],
        "item_key": a["item_key"],
        "value": loads(a["value"]),
        "note": a["note"],
        "version": a["version"],
        "value_by": a["value_by"],
        "value_ms": a["value_ms"],
        "note_by": a["note_by"],
        "note_ms": a["note_ms"],
        "review_comment": a["review_comment"],
    }


def conflict_out(c: dict) -> dict:
    return {
        "id": c["id"],
        "checklist_id": c["checklist_id"],
        "item_key": c["item_key"],
        "field": c["field"],
        "status": c["status"],
        "winner_value": side_value(c["field"], c["winner_value"]),
        "winner_by": c["winner_by"],
        "winner_ms": c["winner_ms"],
        "winner_device": c["winner_device"],
        "loser_value": side_value(c["field"], c["loser_value"]),
        "loser_by": c["loser_by"],
        "loser_ms": c["loser_ms"],
        "loser_device": c["loser_device"],
        "resolved_by": c["resolved_by"],
        "resolved_value": side_value(c["field"], c["resolved_value"]),
    }


def side_value(field: str, text: str | None) -> Any:
    """One side of a conflict as a value: a value conflict keeps JSON text, a note conflict the note itself
    (plain text, which is not JSON: decoding it was the 500 of GET /api/checklists/{id})."""
    return loads(text) if field == "value" else text


def comment_out(c: dict) -> dict:
    return {
        "id": c["id"],
        "checklist_id": c["checklist_id"],
        "item_key": c["item_key"],
        "text": c["text"],
        "author": c["author"],
        "author_name": c.get("author_name") or "",
        "author_role": c["author_role"],
        "device_id": c["device_id"],
        "created_ms": c["created_ms"],
        "checklist_version": c["checklist_version"],
    }
