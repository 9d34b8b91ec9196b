"""Wire models of the sync protocol (docs/sync-protocol.md). Pydantic validates what phones send."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .vocabulary import SYNC_ERRORS

PROTOCOL_VERSION = 1
MIN_PROTOCOL = 1
MAX_EDITS_PER_PUSH = 2000
MAX_PULL_LIMIT = 2000

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A checklist id made on the phone: a lowercase UUID (crypto.randomUUID()), compared as text.
CHECKLIST_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class _Edit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seq: int = Field(ge=1)
    device_ms: int


class AnswerEdit(_Edit):
    kind: Literal["answer"]
    checklist_id: str = Field(min_length=1, max_length=36)
    item_key: str = Field(min_length=1, max_length=64)
    value: Any = None  # left out = unchanged; null = cleared
    note: str | None = Field(default=None, max_length=4000)
    base_version: int = Field(default=0, ge=0)


class StatusEdit(_Edit):
    kind: Literal["status"]
    checklist_id: str = Field(min_length=1, max_length=36)
    action: Literal["submit", "return", "approve", "reopen"]
    seen_version: int | None = None
    comment: str = Field(default="", max_length=4000)


class ResolveEdit(_Edit):
    kind: Literal["resolve"]
    conflict_id: str = Field(min_length=1, max_length=36)
    value: Any = None


class CreateEdit(_Edit):
    """A checklist started on the phone, offline or not (sync/create.py applies it)."""

    kind: Literal["create"]
    checklist_id: str = Field(pattern=CHECKLIST_ID_PATTERN)
    unit_id: int
    template_id: int
    period: str = Field(min_length=1, max_length=16)


EditIn = Annotated[AnswerEdit | StatusEdit | ResolveEdit | CreateEdit, Field(discriminator="kind")]


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    protocol: int
    device_id: str = Field(min_length=1, max_length=36)
    client_ms: int
    edits: list[EditIn] = Field(max_length=MAX_EDITS_PER_PUSH)


class NewDevice(BaseModel):
    name: str = Field(default="", max_length=128)


class SyncError(Exception):
    """A refusal of a whole request; the web layer turns it into an HTTP error."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def refusal(code: str, **extra: Any) -> SyncError:
    """The refusal named `code` in SYNC_ERRORS, with its HTTP status and message."""
    status, message = SYNC_ERRORS[code]
    return SyncError(status, code, message, **extra)


def valid_value(item_type: str, value: Any) -> bool:
    """Whether `value` fits an item of this type. null (no answer) always fits."""
    if value is None:
        return True
    if item_type == "choice":
        return value in ("yes", "no", "partial", "na")
    if item_type == "text":
        return isinstance(value, str) and len(value) <= 20000
    if item_type == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 1e15
    if item_type == "date":
        if not (isinstance(value, str) and _DATE.match(value)):
            return False
        try:
            _dt.date.fromisoformat(value)
        except ValueError:
            return False
        return True
    if item_type == "evidence":
        if not isinstance(value, list) or len(value) > 50:
            return False
        for ref in value:
            if not isinstance(ref, dict) or set(ref) != {"sha256", "name", "size", "mime"}:
                return False
            if not (isinstance(ref["sha256"], str) and _SHA256.match(ref["sha256"])):
                return False
            if not (isinstance(ref["name"], str) and 0 < len(ref["name"]) <= 255):
                return False
            if not (isinstance(ref["size"], int) and not isinstance(ref["size"], bool) and ref["size"] >= 0):
                return False
            if not (isinstance(ref["mime"], str) and 0 < len(ref["mime"]) <= 64):
                return False
        return True
    return False
