"""Wire models of the sync protocol (docs/sync-protocol.md) and every limit of it, in one place.

Pydantic validates what phones send, strictly: a number sent as a string (`"seq": "1"`) is refused, not
coerced. A whole request is read in two steps, so that one bad edit never wedges a phone's outbox: the
envelope (`protocol`, `device_id`, `client_ms`, and each edit's `seq`) must be right or the request is
refused (422); an edit that is wrong in any other way becomes a `MalformedEdit`, rejected `malformed` and
recorded under its seq, and the edits behind it are applied.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .vocabulary import SYNC_ERRORS

PROTOCOL_VERSION = 1
MIN_PROTOCOL = 1

# ---------------------------------------------------------------------------------------------- limits
# Every limit of the protocol (the table in docs/sync-protocol.md, "Limits"). The server's request-body
# middleware (server/limits.py) reads the body limits from here.
KiB, MiB = 1024, 1024 * 1024
MAX_PUSH_BODY = 16 * MiB  # a push body as sent, and again once gzip-decompressed
GZIP_FREE_BYTES = 4 * MiB  # decompressed bytes allowed whatever the ratio (a phone typing one note compresses well)...
MAX_GZIP_RATIO = 100  # ...beyond them, at most this many per compressed byte (a gzip bomb is ~1000)
MAX_EVIDENCE_CHUNK = 1 * MiB  # bytes of one evidence chunk
MAX_EVIDENCE_BODY = MAX_EVIDENCE_CHUNK + 64 * KiB  # the chunk's request body (a little slack)
MAX_OTHER_BODY = 64 * KiB  # every other request body (login, forms, JSON of the other routes)
MAX_EDITS_PER_PUSH = 2000
MAX_PULL_LIMIT = 2000
MAX_JSON_DEPTH = 32  # nesting of arrays and objects in a request body
MAX_EDIT_VALUES = 5000  # JSON values (strings, numbers, ...) inside one edit
MAX_TEXT_ANSWER = 20000  # characters of a text answer
MAX_NOTE = 4000  # characters of a note, a status comment
MAX_EVIDENCE_REFS = 50  # files named by one evidence answer
MAX_EVIDENCE_SIZE = 20 * MiB  # bytes of one evidence file
MAX_NUMBER = 1e15  # a number answer is finite and smaller than this in magnitude
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Clock readings (client_ms, device_ms): 1970 is allowed because a phone whose clock was reset reads it,
# and the clock offset corrects it (docs, section 3); 2100 and beyond is nonsense.
MIN_MS, MAX_MS = 0, 4_102_444_800_000  # 1970-01-01 .. 2100-01-01 UTC
MAX_STORED_PAYLOAD = 16 * KiB  # characters of a rejected edit's payload kept (longer: truncated)
MAX_QUARANTINE_PER_DEVICE = 20  # refused pushes kept per device
MAX_QUARANTINE_PER_USER = 200  # refused pushes kept per user (device ids are the client's word)
MAX_QUARANTINE_BYTES_PER_USER = 64 * MiB  # characters of refused pushes kept per user
MY_REJECTED_COUNT = 200  # rejected edits sent back on a reset pull...
MY_REJECTED_BYTES = 512 * KiB  # ...and at most this many bytes of them
MAX_PAGE_BYTES = 1 * MiB  # a pull page stops adding entities beyond this (at least one is sent)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A checklist id made on the phone: a lowercase UUID (crypto.randomUUID()), compared as text.
CHECKLIST_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_SURROGATE = re.compile("[\ud800-\udfff]")
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")  # NUL, and surrogates (a parsed pair is one character)

Int64 = Annotated[int, Field(strict=True, ge=INT64_MIN, le=INT64_MAX)]
Seq = Annotated[int, Field(strict=True, ge=1, le=INT64_MAX)]
Millis = Annotated[int, Field(strict=True, ge=MIN_MS, le=MAX_MS)]
Version = Annotated[int, Field(strict=True, ge=0, le=INT64_MAX)]


# ---------------------------------------------------------------------------------------------- JSON


class _NonFinite:
    """NaN, Infinity or a float too large to be finite: kept as a marker so the walk can name it."""

    def __repr__(self) -> str:
        return "NaN"


NON_FINITE = _NonFinite()


class JsonTooDeep(ValueError):
    """Nested beyond what the parser can take (Python's json raises RecursionError)."""


def _parse_float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else NON_FINITE


def loads_bounded(raw: bytes | str) -> Any:
    """JSON text as Python values; NaN/Infinity become NON_FINITE. ValueError when not JSON."""
    try:
        return json.loads(raw, parse_constant=lambda _c: NON_FINITE, parse_float=_parse_float)
    except RecursionError:
        raise JsonTooDeep("nested too deep") from None


def json_problem(value: Any, *, max_depth: int = MAX_JSON_DEPTH, max_values: int | None = None) -> tuple[str, str]:
    """What is wrong with a parsed JSON value, as (problem, path), or ("", "").

    Problems: "too_deep", "too_many_values", "bad_text" (NUL, lone surrogate), "bad_number" (beyond 64
    bits, NaN, infinite). Iterative: a deep value cannot exhaust Python's stack here. The path is worked
    out only when something is wrong (a second walk), so the common case stays cheap.
    """
    found = _walk(value, max_depth, max_values, None)
    if not found:
        return "", ""
    paths: list[str] = []
    _walk(value, max_depth, max_values, paths)
    return found, paths[0] if paths else ""


def _walk(value: Any, max_depth: int, max_values: int | None, paths: list[str] | None) -> str:
    stack: list[tuple[Any, int, Any]] = [(value, 1, "")]
    seen = 0
    limit = max_values if max_values is not None else -1
    bad = _BAD_CHARS.search
    while stack:
        v, depth, path = stack.pop()
        seen += 1
        found = ""
        t = type(v)
        if seen == limit + 1:
            found = "too_many_values"
        elif t is str:
            if bad(v):
                found = "bad_text"
        elif t is int:
            if not INT64_MIN <= v <= INT64_MAX:
                found = "bad_number"
        elif v is NON_FINITE:
            found = "bad_number"
        elif t is dict:
            if depth > max_depth:
                found = "too_deep"
            else:
                for k, child in v.items():
                    if bad(k):
                        found = "bad_text"
                        path = _join(path, k) if paths is not None else path
                        break
                    stack.append((child, depth + 1, _join(path, k) if paths is not None else path))
        elif t is list:
            if depth > max_depth:
                found = "too_deep"
            else:
                stack.extend(
                    (child, depth + 1, _join(path, i) if paths is not None else path) for i, child in enumerate(v)
                )
        if found:
            if paths is not None:
                paths.append(path)
            return found
    return ""


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


# ---------------------------------------------------------------------------------------------- models


class _Edit(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    seq: Seq
    device_ms: Millis


class AnswerEdit(_Edit):
    kind: Literal["answer"]
    checklist_id: str = Field(min_length=1, max_length=36)
    item_key: str = Field(min_length=1, max_length=64)
    value: Any = None  # left out = unchanged; null = cleared
    note: str | None = Field(default=None, max_length=MAX_NOTE)
    base_version: Version = 0


class StatusEdit(_Edit):
    kind: Literal["status"]
    checklist_id: str = Field(min_length=1, max_length=36)
    action: Literal["submit", "return", "approve", "reopen"]
    seen_version: Version | None = None
    comment: str = Field(default="", max_length=MAX_NOTE)


class ResolveEdit(_Edit):
    kind: Literal["resolve"]
    conflict_id: str = Field(min_length=1, max_length=36)
    value: Any = None


class CreateEdit(_Edit):
    """A checklist started on the phone, offline or not (sync/create.py applies it)."""

    kind: Literal["create"]
    checklist_id: str = Field(pattern=CHECKLIST_ID_PATTERN)
    unit_id: Int64
    template_id: Int64
    period: str = Field(min_length=1, max_length=16)


class CommentEdit(_Edit):
    """A reviewer's (or an official's) comment on one item, or on the whole checklist when `item_key` is
    "". It changes no answer; `comment_id` is made by the client, so a re-sent comment is the same one."""

    kind: Literal["comment"]
    comment_id: str = Field(pattern=CHECKLIST_ID_PATTERN)
    checklist_id: str = Field(min_length=1, max_length=36)
    item_key: str = Field(default="", max_length=64)
    text: str = Field(min_length=1, max_length=MAX_NOTE)


class MalformedEdit(BaseModel):
    """An edit with a valid seq that breaks the protocol otherwise: rejected `malformed`, kept truncated."""

    seq: int
    device_ms: int
    kind: str  # as sent when it is a short string, else "?"
    checklist_id: str = ""
    problem: str  # what was wrong, for the record (not shown to users)
    payload: str  # the edit as received, JSON, at most MAX_STORED_PAYLOAD characters


EditIn = Annotated[AnswerEdit | StatusEdit | ResolveEdit | CreateEdit | CommentEdit, Field(discriminator="kind")]
_EDIT = TypeAdapter(EditIn)


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    protocol: Int64
    device_id: str = Field(min_length=1, max_length=36)
    client_ms: Millis
    edits: list[Any] = Field(max_length=MAX_EDITS_PER_PUSH)


class _Numbered(BaseModel):
    """An edit as far as the envelope needs it: an object with a valid seq."""

    model_config = ConfigDict(extra="allow", strict=True)
    seq: Seq


_EDITS = TypeAdapter(list[EditIn])


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    protocol: int
    device_id: str = Field(min_length=1, max_length=36)
    client_ms: int
    edits: list[AnswerEdit | StatusEdit | ResolveEdit | CreateEdit | CommentEdit | MalformedEdit] = Field(
        max_length=MAX_EDITS_PER_PUSH
    )


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


def read_push(data: dict, *, received_ms: int) -> PushRequest:
    """A push body (parsed JSON) as a PushRequest, its bad edits as MalformedEdit.

    Raises SyncError (`client_too_old`, `protocol_unsupported`) for an unknown protocol version and
    pydantic's ValidationError (the web layer answers 422 naming the field) for a bad envelope: a
    missing or non-integer `protocol`, a bad `device_id` or `client_ms`, `edits` not a list or too
    long, an edit that is not an object or has no valid `seq`.
    """
    protocol = data.get("protocol")
    if type(protocol) is int and protocol < MIN_PROTOCOL:
        raise refusal("client_too_old", min_protocol=MIN_PROTOCOL)
    if type(protocol) is int and protocol > PROTOCOL_VERSION:
        raise refusal("protocol_unsupported", protocol=PROTOCOL_VERSION)
    raw_edits = data.get("edits")
    if isinstance(raw_edits, list) and len(raw_edits) > MAX_EDITS_PER_PUSH:
        data = {**data, "edits": raw_edits[: MAX_EDITS_PER_PUSH + 1]}  # pydantic names it, cheaply
    _Envelope.model_validate(data)
    raw = data["edits"]
    for i, e in enumerate(raw):  # an edit must be an object with a valid seq, or it cannot be recorded
        seq = e.get("seq") if type(e) is dict else None
        if type(seq) is not int or not 1 <= seq <= INT64_MAX:
            try:
                _Numbered.model_validate(e)
            except ValidationError as exc:
                raise _prefixed(exc, ("edits", i)) from None
    # The common case in one go; when it fails, edit by edit, so only the bad ones are rejected.
    edits: list[Any] | None = None
    if all(_flat_clean(e) for e in raw):
        try:
            edits = _EDITS.validate_python(raw)
        except ValidationError:
            edits = None
    if edits is None:
        edits = [_read_edit(e, received_ms) for e in raw]
    return PushRequest.model_construct(
        protocol=protocol, device_id=data["device_id"], client_ms=data["client_ms"], edits=edits
    )


def _flat_clean(edit: dict) -> bool:
    """json_problem's verdict on one edit, quicker for the usual flat edit (no nested value)."""
    bad = _BAD_CHARS.search
    for k, v in edit.items():
        t = type(v)
        if t is str:
            if bad(v) or bad(k):
                return False
        elif t is int:
            if not INT64_MIN <= v <= INT64_MAX:
                return False
        elif not (t is float or t is bool or v is None):  # nested, or NaN: the full walk decides
            return not _walk(edit, MAX_JSON_DEPTH - 2, MAX_EDIT_VALUES, None)
    return True


def _prefixed(exc: ValidationError, prefix: tuple) -> ValidationError:
    """The same refusal, its location under `prefix` (so the 422 names `edits.3.seq`)."""
    errors = [
        {"type": e["type"], "loc": (*prefix, *e["loc"]), "input": e.get("input"), "ctx": e.get("ctx", {})}
        for e in exc.errors()
    ]
    return ValidationError.from_exception_data(exc.title, errors)  # type: ignore[arg-type]


def _read_edit(
    raw: dict, received_ms: int
) -> AnswerEdit | StatusEdit | ResolveEdit | CreateEdit | CommentEdit | MalformedEdit:
    problem, path = json_problem(raw, max_depth=MAX_JSON_DEPTH - 2, max_values=MAX_EDIT_VALUES)
    if not problem:
        try:
            return _EDIT.validate_python(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            problem, path = first.get("type", "invalid"), ".".join(str(p) for p in first.get("loc", ()))
    kind, cid, device_ms = raw.get("kind"), raw.get("checklist_id"), raw.get("device_ms")
    return MalformedEdit(
        seq=raw["seq"],
        device_ms=device_ms if type(device_ms) is int and MIN_MS <= device_ms <= MAX_MS else received_ms,
        kind=kind if isinstance(kind, str) and len(kind) <= 16 and not _BAD_CHARS.search(kind) else "?",
        checklist_id=cid if isinstance(cid, str) and len(cid) <= 36 and not _BAD_CHARS.search(cid) else "",
        problem=f"{problem} at {path}"[:200] if path else problem[:200],
        payload=bounded_payload(safe_dumps(raw)),
    )


def safe_dumps(value: Any) -> str:
    """JSON text of what a phone sent, storable in any database: NaN as null, and a lone surrogate as the
    visible text `\\udXXX` (it cannot be encoded as UTF-8 on its way out again). NUL stays an escape."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=lambda _v: None, check_circular=False)
    except (ValueError, RecursionError):
        return "null"
    return _SURROGATE.sub(lambda m: "\\\\u%04x" % ord(m.group()), text)


def bounded_payload(text: str) -> str:
    """A stored payload of at most about MAX_STORED_PAYLOAD characters; longer ones are cut, and say so."""
    if len(text) <= MAX_STORED_PAYLOAD:
        return text
    return json.dumps({"truncated": True, "length": len(text), "head": text[:MAX_STORED_PAYLOAD]}, ensure_ascii=False)


def valid_value(item_type: str, value: Any) -> bool:
    """Whether `value` fits an item of this type. null (no answer) always fits."""
    if value is None:
        return True
    if item_type == "choice":
        return value in ("yes", "no", "partial", "na")
    if item_type == "text":
        return isinstance(value, str) and len(value) <= MAX_TEXT_ANSWER
    if item_type == "number":
        return (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and math.isfinite(value)
            and abs(value) < MAX_NUMBER
        )
    if item_type == "date":
        if not (isinstance(value, str) and _DATE.match(value)):
            return False
        try:
            _dt.date.fromisoformat(value)
        except ValueError:
            return False
        return True
    if item_type == "evidence":
        if not isinstance(value, list) or len(value) > MAX_EVIDENCE_REFS:
            return False
        return all(_valid_ref(ref) for ref in value)
    return False


def valid_note(value: Any) -> bool:
    """Whether `value` may be a note (a resolve edit of a note conflict sets one)."""
    return value is None or (isinstance(value, str) and len(value) <= MAX_NOTE)


def _valid_ref(ref: Any) -> bool:
    if not isinstance(ref, dict) or set(ref) != {"sha256", "name", "size", "mime"}:
        return False
    size = ref["size"]
    return (
        isinstance(ref["sha256"], str)
        and bool(_SHA256.match(ref["sha256"]))
        and isinstance(ref["name"], str)
        and 0 < len(ref["name"]) <= 255
        and type(size) is int
        and 0 <= size <= MAX_EVIDENCE_SIZE
        and isinstance(ref["mime"], str)
        and 0 < len(ref["mime"]) <= 64
    )
