"""The OpenAPI 3.1 description of the JSON API, built from the pydantic models the routes read, served at
`/api/openapi.json`.

`OPERATIONS` names, for each JSON route, its body model, its query parameters and its path parameters'
types; `document()` turns that table and the models' JSON schemas into the description. A route missing
from the table fails tests/test_openapi.py, so the description cannot fall behind the app. Answers are
described where a model exists; every refusal has the one shape of server/errors.py, `Problem`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sync.protocol import (
    CHECKLIST_ID_PATTERN,
    MAX_EDITS_PER_PUSH,
    MAX_PULL_LIMIT,
    EditIn,
    NewDevice,
)

from .api.checklists import NewChecklist
from .api.deadlines import RuleFields
from .api.reminders import PrefsIn, SubscriptionIn, SubscriptionOut
from .api.session import Login
from .api.units import UnitChange, UnitMerge
from .api.users import UserChange
from .reminders.policy import Policy

URL = "/api/openapi.json"
INT_ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
UUID = {"type": "string", "pattern": CHECKLIST_ID_PATTERN}
DEVICE_ID = {"type": "string", "pattern": "^[0-9A-Za-z_-]{1,36}$"}


class PushBody(BaseModel):
    """A push as the phone sends it (sync/protocol.py reads the envelope, then each edit on its own: an
    edit that breaks the protocol is rejected `malformed`, not the whole push)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    protocol: int
    device_id: str = Field(min_length=1, max_length=36)
    client_ms: int
    edits: list[EditIn] = Field(max_length=MAX_EDITS_PER_PUSH)


class Problem(BaseModel):
    """Every refusal: a wire code clients branch on and a Vietnamese message people read; `field` names
    the input at fault, other values (`retry_after`...) come beside them."""

    model_config = ConfigDict(extra="allow")
    error: str
    message: str
    field: str | None = None


@dataclass(frozen=True)
class Op:
    summary: str
    body: type[BaseModel] | None = None
    query: dict[str, dict] = field(default_factory=dict)  # name -> schema
    required: tuple[str, ...] = ()  # required query parameters
    raw_body: str = ""  # a non-JSON body's media type (evidence chunks)
    auth: bool = True


Q_INT = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
OPERATIONS: dict[tuple[str, str], Op] = {
    ("POST", "/api/session"): Op("Đăng nhập: mở một phiên (cookie)", Login, auth=False),
    ("DELETE", "/api/session"): Op("Đăng xuất"),
    ("GET", "/api/session"): Op("Phiên hiện tại và tài khoản"),
    ("GET", "/api/units"): Op("Đơn vị trong phạm vi, tìm theo tên", query={"q": {"type": "string"}}),
    ("GET", "/api/units/{unit_id}"): Op("Một đơn vị"),
    ("PATCH", "/api/units/{unit_id}"): Op("Đổi tên, chuyển đơn vị (quản trị)", UnitChange),
    ("POST", "/api/units/{unit_id}/merge"): Op("Sáp nhập đơn vị (quản trị)", UnitMerge),
    ("GET", "/api/templates"): Op("Mẫu phiếu"),
    ("GET", "/api/templates/{template_id}"): Op("Một mẫu phiếu và các mục"),
    ("GET", "/api/checklists"): Op("Phiếu trong phạm vi", query={"unit_id": INT_ID, "status": {"type": "string"}}),
    ("POST", "/api/checklists"): Op("Tạo phiếu", NewChecklist),
    ("GET", "/api/checklists/{checklist_id}"): Op("Một phiếu và câu trả lời"),
    ("GET", "/api/checklists/{checklist_id}/edits"): Op(
        "Nhật ký sửa đổi của phiếu (quản trị)",
        query={"after": Q_INT, "limit": {"type": "integer", "minimum": 1, "maximum": 1000}},
    ),
    ("GET", "/api/checklists/{checklist_id}/changes"): Op("Thay đổi từ lần duyệt trước", query={"since": Q_INT}),
    ("GET", "/api/checklists/{checklist_id}/timeline"): Op("Dòng thời gian của phiếu"),
    ("GET", "/api/deadlines"): Op("Hạn nộp của các đơn vị", query={"unit_id": INT_ID}),
    ("GET", "/api/deadline-rules"): Op("Quy định về hạn (quản trị)"),
    ("POST", "/api/deadline-rules"): Op("Thêm quy định về hạn", RuleFields),
    ("PATCH", "/api/deadline-rules/{rule_id}"): Op("Sửa quy định về hạn", RuleFields),
    ("POST", "/api/devices"): Op("Đăng ký thiết bị", NewDevice),
    ("GET", "/api/devices"): Op("Thiết bị của tài khoản"),
    ("DELETE", "/api/devices/{device_id}"): Op("Thu hồi thiết bị (mất điện thoại)"),
    ("POST", "/api/sync/push"): Op("Gửi các sửa đổi ngoại tuyến", PushBody),
    ("GET", "/api/sync/pull"): Op(
        "Nhận thay đổi từ máy chủ",
        query={
            "device_id": DEVICE_ID,
            "cursor": {"type": "string", "maxLength": 200},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PULL_LIMIT},
        },
        required=("device_id",),
    ),
    ("PUT", "/api/evidence/{sha256}"): Op(
        "Tải lên một đoạn của tệp minh chứng (tiếp tục được)",
        query={"offset": Q_INT, "size": Q_INT, "mime": {"type": "string", "maxLength": 64}},
        required=("offset", "size"),
        raw_body="application/octet-stream",
    ),
    ("GET", "/api/evidence/{sha256}/status"): Op("Tình trạng tải lên của tệp minh chứng"),
    ("GET", "/api/evidence/{sha256}"): Op("Tải tệp minh chứng"),
    ("GET", "/api/users"): Op("Tài khoản trong phạm vi (quản trị)"),
    ("DELETE", "/api/users/{user_id}/sessions"): Op("Kết thúc mọi phiên của tài khoản"),
    ("PATCH", "/api/users/{user_id}"): Op("Khoá, mở khoá tài khoản", UserChange),
    ("GET", "/api/review/queue"): Op(
        "Hàng đợi duyệt",
        query={
            "period": {"type": "string", "maxLength": 16},
            "unit_id": INT_ID,
            "template_id": INT_ID,
            "status": {"type": "string", "maxLength": 16},
        },
    ),
    ("GET", "/api/push/key"): Op("Khoá công khai VAPID cho thông báo đẩy"),
    ("POST", "/api/push/subscriptions"): Op("Đăng ký nhận thông báo đẩy", SubscriptionIn),
    ("DELETE", "/api/push/subscriptions"): Op("Huỷ đăng ký thông báo đẩy", SubscriptionOut),
    ("GET", "/api/inbox"): Op("Hộp thư nhắc hạn"),
    ("POST", "/api/inbox/{message_id}/read"): Op("Đánh dấu đã đọc"),
    ("GET", "/api/notify/prefs"): Op("Cách nhận nhắc hạn"),
    ("PUT", "/api/notify/prefs"): Op("Đổi cách nhận nhắc hạn", PrefsIn),
    ("GET", "/api/reminders/policy"): Op("Chính sách nhắc hạn của tỉnh"),
    ("PUT", "/api/reminders/policy"): Op("Đổi chính sách nhắc hạn (quản trị)", Policy),
    ("GET", URL): Op("Mô tả OpenAPI này", auth=False),
    # the province's routes (dashboard, documents, registers, exports, administration); bodies described later
    ("GET", "/api/dashboard"): Op("Bảng tiến độ trong phạm vi"),
    ("GET", "/api/documents/notice"): Op("Thông báo tháng", query={"month": {"type": "string"}}),
    ("GET", "/api/documents/annual"): Op("Tổng hợp năm", query={"year": {"type": "string"}}),
    ("GET", "/api/registers/announcements"): Op("Sổ quyết định công bố", query={"q": {"type": "string"}}),
    ("GET", "/api/registers/procedures"): Op("Danh mục thủ tục hành chính", query={"q": {"type": "string"}}),
    ("POST", "/api/registers/procedures"): Op("Thêm thủ tục hành chính"),
    ("DELETE", "/api/registers/procedures/{procedure_id}"): Op("Bỏ thủ tục hành chính"),
    ("POST", "/api/exports"): Op("Bắt đầu xuất dữ liệu"),
    ("GET", "/api/exports/{job_id}"): Op("Tiến độ xuất dữ liệu"),
    ("GET", "/api/exports/{job_id}/file"): Op("Tệp xuất dữ liệu"),
    ("DELETE", "/api/exports/{job_id}"): Op("Xoá tệp xuất dữ liệu"),
    ("GET", "/api/template-versions"): Op("Các phiên bản mẫu phiếu"),
    ("POST", "/api/templates"): Op("Ban hành phiên bản mẫu phiếu mới (quản trị)"),
    ("POST", "/api/units"): Op("Tạo đơn vị (quản trị)"),
    ("POST", "/api/units/import/preview"): Op("Xem trước danh sách đơn vị mới (quản trị)"),
    ("POST", "/api/units/import"): Op("Áp dụng danh sách đơn vị mới (quản trị)"),
    ("POST", "/api/users"): Op("Tạo tài khoản (quản trị)"),
    ("PATCH", "/api/users/{user_id}/assignment"): Op("Đổi vai trò, đơn vị (quản trị)"),
    ("POST", "/api/users/{user_id}/password"): Op("Đặt lại mật khẩu (quản trị)"),
    ("GET", "/api/users/{user_id}/devices"): Op("Thiết bị của tài khoản (quản trị)"),
}

PATH_PARAMS: dict[str, dict] = {
    "unit_id": INT_ID,
    "template_id": INT_ID,
    "rule_id": INT_ID,
    "user_id": INT_ID,
    "message_id": INT_ID,
    "checklist_id": {"type": "string", "minLength": 1, "maxLength": 36},
    "device_id": DEVICE_ID,
    "sha256": SHA256,
    "procedure_id": INT_ID,
    "job_id": {"type": "string", "minLength": 1, "maxLength": 64},
}


def _path_params(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


def _operation(method: str, path: str, op: Op) -> dict[str, Any]:
    params = [{"name": n, "in": "path", "required": True, "schema": PATH_PARAMS[n]} for n in _path_params(path)] + [
        {"name": n, "in": "query", "required": n in op.required, "schema": s} for n, s in op.query.items()
    ]
    problem = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    out: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{method.lower()}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "parameters": params,
        "responses": {
            "2XX": {"description": "Thành công", "content": {"application/json": {"schema": {}}}},
            "4XX": {"description": "Bị từ chối: mã lỗi và lời giải thích", "content": problem},
            "503": {"description": "Tạm thời không phục vụ được; thử lại sau Retry-After giây", "content": problem},
        },
    }
    if not op.auth:
        out["security"] = []
    if op.body is not None:
        schema = {"$ref": f"#/components/schemas/{op.body.__name__}"}
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    elif op.raw_body:
        out["requestBody"] = {
            "required": True,
            "content": {op.raw_body: {"schema": {"type": "string", "format": "binary"}}},
        }
    return out


def document(version: str = "1") -> dict[str, Any]:
    """The whole description (a fresh dict each call)."""
    models = sorted({op.body for op in OPERATIONS.values() if op.body} | {Problem}, key=lambda m: m.__name__)
    _, defs = models_json_schema([(m, "validation") for m in models], ref_template="#/components/schemas/{model}")
    paths: dict[str, dict] = {}
    for (method, path), op in OPERATIONS.items():
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "e-ISO API",
            "version": version,
            "description": "API JSON của hệ thống e-ISO: phiếu ISO 9001:2015 ngoại tuyến (docs/api.md).",
        },
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "eiso_session"}},
        },
        "security": [{"session": []}],
    }


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(document(), headers={"Cache-Control": "no-store"})


routes = [Route(URL, openapi_json, methods=["GET"])]
