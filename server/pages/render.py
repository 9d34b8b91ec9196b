"""Jinja2 set-up: autoescaping on, Vietnamese dates and times in Asia/Ho_Chi_Minh."""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.templating import Jinja2Templates

VN = ZoneInfo("Asia/Ho_Chi_Minh")
templates = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))

STATUS_LABELS = {
    "none": "Chưa áp dụng",
    "iso2008": "Đang áp dụng ISO 9001:2008",
    "converting": "Đang chuyển đổi sang ISO 9001:2015",
    "iso2015": "Đã áp dụng ISO 9001:2015",
    "announced": "Đã công bố",
    "eiso": "Đã áp dụng ISO điện tử",
}
CHECKLIST_STATUS_LABELS = {
    "draft": "Đang soạn", "submitted": "Đã gửi", "returned": "Bị trả lại", "approved": "Đã duyệt",
}
ROLE_LABELS = {
    "official": "Cán bộ cấp xã", "reviewer": "Người duyệt", "admin": "Quản trị tỉnh", "viewer": "Người xem",
}
KIND_LABELS = {
    "province": "Tỉnh", "department": "Sở, ban, ngành", "agency": "Chi cục hoặc tương đương",
    "district": "Cấp huyện", "commune": "Xã", "ward": "Phường", "town": "Thị trấn",
}


def vn_date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(VN).date()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def vn_datetime_ms(ms: int | None) -> str:
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(VN).strftime("%H:%M %d/%m/%Y")


def period_label(period: str) -> str:
    """"2026-11" → "Tháng 11/2026", "2026" → "Năm 2026", "once" → "Một lần"."""
    if period == "once":
        return "Một lần"
    if len(period) == 7 and period[4] == "-":
        return f"Tháng {period[5:]}/{period[:4]}"
    return f"Năm {period}"


CHOICE_LABELS = {"yes": "Có", "no": "Không", "partial": "Một phần", "na": "Không áp dụng"}


def answer_label(value, item_type: str) -> str:
    """How an answer reads on a page: choices in words, dates as dd/mm/yyyy, evidence by file name."""
    if value is None:
        return ""
    if item_type == "choice":
        return CHOICE_LABELS.get(value, str(value))
    if item_type == "date" and isinstance(value, str) and len(value) == 10:
        return f"{value[8:10]}/{value[5:7]}/{value[:4]}"
    if item_type == "evidence" and isinstance(value, list):
        return ", ".join(str(v.get("name") or v.get("sha256", "")[:12]) for v in value if isinstance(v, dict))
    return str(value)


templates.env.filters["vn_date"] = vn_date
templates.env.filters["answer_label"] = answer_label
templates.env.filters["period_label"] = period_label
templates.env.filters["vn_datetime_ms"] = vn_datetime_ms
templates.env.globals.update(
    STATUS_LABELS=STATUS_LABELS, CHECKLIST_STATUS_LABELS=CHECKLIST_STATUS_LABELS,
    ROLE_LABELS=ROLE_LABELS, KIND_LABELS=KIND_LABELS,
)


def render(request: Request, name: str, context: dict, status_code: int = 200):
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def render_error(request: Request, status_code: int, message: str):
    return render(request, "error.html", {"message": message, "user": None}, status_code=status_code)
