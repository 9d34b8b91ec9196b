"""JSON errors: every failure answers {"error": code, "message": readable text} with its status."""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def not_found(what: str = "Không tìm thấy") -> ApiError:
    # The same answer for "does not exist" and "not yours": an id outside the scope leaks nothing.
    return ApiError(404, "not_found", what)


def error_body(code: str, message: str, **extra: Any) -> dict:
    return {"error": code, "message": message, **extra}


def validation_error(exc: ValidationError) -> ApiError:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    return ApiError(422, "invalid", f"Trường '{field}' không hợp lệ: {first.get('msg', '')}", field=field)


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(error_body(exc.code, exc.message, **exc.extra), status_code=exc.status)


_HTTP_MESSAGES = {
    404: ("not_found", "Không tìm thấy"),
    405: ("method_not_allowed", "Phương thức không được hỗ trợ"),
}


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code, message = _HTTP_MESSAGES.get(exc.status_code, ("http_error", str(exc.detail)))
    if request.url.path.startswith("/api/"):
        return JSONResponse(error_body(code, message), status_code=exc.status_code)
    from .pages.render import render_error  # pages render a human page

    return render_error(request, exc.status_code, message)
