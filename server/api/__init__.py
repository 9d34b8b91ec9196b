"""JSON API routes, one module per resource, and what they share: the JSON answer and reading input.

Routes parse, check the session, call `server.services` and answer JSON. Refusals are raised as
`errors.problem(name)`; `server/errors.py` turns them into `{"error", "message", ...}`.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..errors import parse_int, problem, validation_error

M = TypeVar("M", bound=BaseModel)


class JSON(JSONResponse):
    """Vietnamese stays readable in the JSON (no \\u escapes)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def parse_json_object(raw: bytes) -> dict:
    """The body as a JSON object, or a 422 naming `body`."""
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        raise problem("body_not_json", field="body") from None
    if not isinstance(data, dict):
        raise problem("body_not_object", field="body")
    return data


async def read_body(request: Request, model: type[M]) -> M:
    data = parse_json_object(await request.body())
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
