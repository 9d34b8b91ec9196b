"""Problems raised by name, and the one place that turns every failure into an HTTP answer.

Anywhere on the server: `raise problem("unit_not_found", field="unit_id")`. The name is looked up in
`server.catalogue.PROBLEMS` for the status, the wire code and the Vietnamese message. Values the message
names fill it in; every other value (`field`, `checklist_id`, `retry_after`...) goes into the JSON body
beside the code, and `field` always does, because clients use it to point at the input.

The JSON API answers `{"error": code, "message": text, ...extra}`; a page renders the same message in
HTML. `error_handlers(render_page)` maps ApiError, Starlette's HTTPException and the sync engine's
SyncError to one of the two, by path: `/api/...` gets JSON, anything else the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from string import Formatter
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise.exceptions import ValidationError as FieldValueError

from sync.protocol import SyncError

from .catalogue import FIELD_LABELS, PROBLEMS, VALIDATION_MESSAGES
from .unavailable import CANDIDATE_CLASSES, RETRY_AFTER_S, is_database_unavailable

_log = logging.getLogger("eiso.errors")


class ApiError(Exception):
    """A problem on its way to the client: status, wire code, message and extra body values."""

    def __init__(self, status: int, code: str, message: str, *, name: str = "", **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra
        self.name = name or code


def message_fields(template: str) -> set[str]:
    """The values a message template names: "Trường '{field}'..." -> {"field"}."""
    return {field for _, field, _, _ in Formatter().parse(template) if field}


def problem(name: str, **values: Any) -> ApiError:
    """The catalogue's problem `name`, its message filled with `values` (KeyError for an unknown name)."""
    status, code, template = PROBLEMS[name]
    used = message_fields(template)
    fill = {k: v for k, v in values.items() if k in used}
    if {"label", "Label"} & used:
        fill.update(field_label(str(values.get("field", ""))))
    message = template.format(**fill)
    extra = {k: v for k, v in values.items() if k not in used or k == "field"}
    return ApiError(status, code, message, name=name, **extra)


def field_label(name: str) -> dict[str, str]:
    """{"label": "đơn vị", "Label": "Đơn vị"} for `unit_id`; "trường 'x'" for a field without a label."""
    label = FIELD_LABELS.get(name, f"trường '{name}'")
    return {"label": label, "Label": label[:1].upper() + label[1:]}


def validation_error(exc: ValidationError) -> ApiError:
    """A pydantic refusal as `field_refused`: a Vietnamese sentence about the first field at fault."""
    first = exc.errors()[0]
    loc = [p for p in first.get("loc", ()) if p != "body"]
    field = ".".join(str(p) for p in loc) or "body"
    return problem("field_refused", field=field, detail=validation_sentence(first))


def validation_sentence(error: dict) -> str:
    """One pydantic error (`exc.errors()[i]`) in the catalogue's words, with the field's label."""
    names = [p for p in error.get("loc", ()) if isinstance(p, str) and p != "body"]
    kind = error.get("type", "")
    if kind == "missing" or kind == "extra_forbidden":
        name = names[-1] if names else "body"
    elif kind == "union_tag_invalid":
        name = _readable((error.get("ctx") or {}).get("discriminator", "kind"))  # the tag field itself
    else:
        # a tagged union puts the tag ("answer") after the field; the field is the first name that has a label
        name = next((n for n in reversed(names) if n in FIELD_LABELS), names[-1] if names else "body")
    context = {k: _readable(v) for k, v in (error.get("ctx") or {}).items()}
    if kind == "string_too_short" and context.get("min_length") == "1":
        kind = "empty"
    template = VALIDATION_MESSAGES.get(kind, VALIDATION_MESSAGES["default"])
    values = {**field_label(name), "field": name, **context}
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return VALIDATION_MESSAGES["default"].format(**values)


def _readable(value: Any) -> str:
    return str(value).replace("'", "")


INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1  # ids are 32-bit columns: a larger number never reaches a query


def parse_int(raw: Any, field: str, *, minimum: int | None = None) -> int:
    """A path or query value as an integer, or `field_not_integer` / `field_negative` /
    `field_out_of_range` naming it."""
    if isinstance(raw, str) and len(raw) > 20:
        raise problem("field_out_of_range", field=field, minimum=minimum or INT32_MIN, maximum=INT32_MAX)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise problem("field_not_integer", field=field) from None
    if minimum is not None and value < minimum:
        raise problem("field_negative", field=field)
    if not INT32_MIN <= value <= INT32_MAX:
        raise problem("field_out_of_range", field=field, minimum=minimum or INT32_MIN, maximum=INT32_MAX)
    return value


def error_body(code: str, message: str, **extra: Any) -> dict:
    return {"error": code, "message": message, **extra}


def json_error(exc: ApiError) -> JSONResponse:
    response = JSONResponse(error_body(exc.code, exc.message, **exc.extra), status_code=exc.status)
    retry = exc.extra.get("retry_after")
    if isinstance(retry, int) and retry > 0:  # 429/503: clients and proxies read the header, not the body
        response.headers["Retry-After"] = str(retry)
    return response


def with_retry_after(response: Response, err: ApiError) -> Response:
    """A problem that names `retry_after` (seconds) says it in the standard header too."""
    if "retry_after" in err.extra:
        response.headers["Retry-After"] = str(int(err.extra["retry_after"]))
    return response


# Starlette's own refusals (no route, wrong method) by status.
_HTTP_PROBLEMS = {404: "not_found", 405: "method_not_allowed"}


def as_problem(exc: Exception) -> ApiError:
    """Any failure a route may raise, as the ApiError the client sees."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, SyncError):
        # The engine's refusals are catalogue names too; the catalogue's words win over the engine's.
        extra = dict(getattr(exc, "extra", {}) or {})
        if exc.code in PROBLEMS:
            return problem(exc.code, **extra)
        return ApiError(getattr(exc, "status", 500), exc.code, str(getattr(exc, "message", exc)), **extra)
    if isinstance(exc, FieldValueError):
        # Tortoise checks a filter's value against the column (a 40-character id for a 36-character
        # column): whatever the route, such a value names nothing, so it is the client's error.
        return problem("value_refused")
    if isinstance(exc, HTTPException):
        name = _HTTP_PROBLEMS.get(exc.status_code)
        if name:
            return problem(name)
        return ApiError(exc.status_code, "http_error", str(exc.detail))
    if is_database_unavailable(exc):  # restarting, unreachable or locked: nothing saved, send again later
        return problem("database_unavailable", seconds=RETRY_AFTER_S, retry_after=RETRY_AFTER_S)
    raise TypeError(f"not a problem: {exc!r}")


PageRenderer = Callable[[Request, ApiError], Response]


def error_handlers(render_page: PageRenderer) -> dict:
    """Starlette exception handlers: JSON under /api/, `render_page` (an HTML error page) elsewhere."""

    async def handle(request: Request, exc: Exception) -> Response:
        err = as_problem(exc)
        request.state.error_code = err.code  # the request's log line and /metrics name the refusal
        if request.url.path.startswith("/api/"):
            return with_retry_after(json_error(err), err)
        return with_retry_after(render_page(request, err), err)

    async def unforeseen(request: Request, exc: Exception) -> Response:
        # Starlette's ServerErrorMiddleware calls this, then re-raises: the traceback still reaches the log.
        request_id = request.scope.get("state", {}).get("request_id", "")
        err = problem("server_error", request_id=request_id)
        answer = json_error(err) if request.url.path.startswith("/api/") else render_page(request, err)
        answer.headers["X-Request-Id"] = request_id  # sent past the middleware that adds it to the others
        return answer

    async def handle_database(request: Request, exc: Exception) -> Response:
        if not is_database_unavailable(exc):
            raise exc  # a bug: the usual 500, logged with its traceback
        # a 503 the client retries; the log still says what the database said (a deadlock is worth a look)
        _log.warning("database unavailable on %s: %s: %s", request.url.path, type(exc).__name__, exc)
        return await handle(request, exc)

    handlers: dict = {cls: handle_database for cls in CANDIDATE_CLASSES}
    return {
        **handlers,
        ApiError: handle,
        SyncError: handle,
        HTTPException: handle,
        FieldValueError: handle,
        Exception: unforeseen,
    }
