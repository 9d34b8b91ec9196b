"""JSON API routes, one module per resource, and what they share: the JSON answer and reading input.

Routes parse, check the session, call `server.services` and answer JSON. Refusals are raised as
`errors.problem(name)`; `server/errors.py` turns them into `{"error", "message", ...}`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from sync.protocol import JsonTooDeep, json_problem, loads_bounded

from ..errors import INT32_MAX, parse_int, problem, validation_error

M = TypeVar("M", bound=BaseModel)
# An id in a JSON body: ids are 32-bit columns, so a larger number is refused before any query.
Id = Annotated[int, Field(strict=True, ge=1, le=INT32_MAX)]


class JSON(JSONResponse):
    """Vietnamese stays readable in the JSON (no \\u escapes)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=str).encode()


# json_problem's findings as catalogue problems.
_JSON_PROBLEMS = {
    "too_deep": "body_too_deep",
    "bad_text": "body_bad_text",
    "bad_number": "body_bad_number",
    "too_many_values": "body_too_many_values",
}


def parse_json_object(raw: bytes) -> dict:
    """The body as a JSON object, or a 422 naming `body`. Nesting too deep for the parser is a 422 too."""
    try:
        data = loads_bounded(raw or b"null")
    except JsonTooDeep:
        raise problem("body_too_deep", field="body") from None
    except ValueError:
        raise problem("body_not_json", field="body") from None
    if not isinstance(data, dict):
        raise problem("body_not_object", field="body")
    return data


def check_json(value: object, **bounds: int) -> None:
    """A 422 naming the field when a value holds NUL, a lone surrogate, a number beyond 64 bits or NaN,
    or is nested deeper than MAX_JSON_DEPTH: nothing like it reaches a database."""
    found, path = json_problem(value, **bounds)
    if found:
        raise problem(_JSON_PROBLEMS[found], field=path or "body")


async def read_body(request: Request, model: type[M]) -> M:
    data = parse_json_object(await request.body())
    check_json(data, max_values=10_000)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def int_param(request: Request, name: str, *, default: int | None = None, minimum: int | None = None) -> int:
    """An integer from the path or, failing that, the query string; `default` when absent from both."""
    raw = request.path_params.get(name, request.query_params.get(name))
    if raw is None and default is not None:
        return default
    return parse_int(raw, name, minimum=minimum)
