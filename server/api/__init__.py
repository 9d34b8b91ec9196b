"""JSON API routes, grouped by resource."""
from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..errors import ApiError, validation_error

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
        raise ApiError(422, "invalid", "Dữ liệu gửi lên không phải JSON hợp lệ.", field="body") from None
    if not isinstance(data, dict):
        raise ApiError(422, "invalid", "Dữ liệu gửi lên phải là một đối tượng JSON.", field="body")
    return data


async def read_body(request: Request, model: type[M]) -> M:
    data = parse_json_object(await request.body())
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def int_param(request: Request, name: str) -> int:
    raw = request.path_params.get(name, request.query_params.get(name))
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ApiError(422, "invalid", f"Trường '{name}' phải là số nguyên.", field=name) from None
