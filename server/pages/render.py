"""Jinja2 set-up shared by the pages: autoescaping on, the catalogue's words, dates in Asia/Ho_Chi_Minh.

Templates read labels from the catalogue (`CHECKLIST_STATUS_LABELS`, `ROLE_LABELS`, `QMS_STATUS_LABELS`,
`UNIT_KIND_LABELS`, the `period_label` and `answer_label` filters), so a page and the phone say the same
word. `render_error` draws a problem as a page with the catalogue's message.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from sync.vocabulary import DECIDERS

from ..catalogue import (
    CHECKLIST_STATUS_LABELS,
    CHOICE_LABELS,
    PROGRESS_STATUS_LABELS,
    QMS_STATUS_LABELS,
    REOPENED_LABEL,
    ROLE_LABELS,
    SESSION_END_LABELS,
    TIMELINESS_LABELS,
    TIMELINESS_SIGNS,
    UNIT_KIND_LABELS,
    VN,
    period_label,
)
from ..errors import ApiError
from ..services.dashboard import DASHBOARD_ROLES
from ..services.progress import PROGRESS_STATUSES

templates = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))


def vn_date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(VN).date()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def vn_datetime(value: datetime | None) -> str:
    """A moment as HH:MM dd/mm/yyyy in Asia/Ho_Chi_Minh."""
    return value.astimezone(VN).strftime("%H:%M %d/%m/%Y") if value else ""


def vn_datetime_ms(ms: int | None) -> str:
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(VN).strftime("%H:%M %d/%m/%Y")


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
templates.env.filters["vn_datetime"] = vn_datetime
templates.env.globals.update(
    QMS_STATUS_LABELS=QMS_STATUS_LABELS,
    CHECKLIST_STATUS_LABELS=CHECKLIST_STATUS_LABELS,
    ROLE_LABELS=ROLE_LABELS,
    UNIT_KIND_LABELS=UNIT_KIND_LABELS,
    SESSION_END_LABELS=SESSION_END_LABELS,
    DECIDERS=DECIDERS,
    REOPENED_LABEL=REOPENED_LABEL,
)


def render(request: Request, name: str, context: dict, status_code: int = 200) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def render_error(request: Request, err: ApiError) -> Response:
    """A problem as a page: its catalogue message under its status."""
    return render(request, "error.html", {"message": err.message, "user": None}, status_code=err.status)


# A unit's derived status and its monthly reports' timeliness (issue 16: server/services/progress.py).
templates.env.globals.update(
    DASHBOARD_ROLES=DASHBOARD_ROLES,
    PROGRESS_STATUS_LABELS=PROGRESS_STATUS_LABELS,
    PROGRESS_STATUSES=PROGRESS_STATUSES,
    TIMELINESS_LABELS=TIMELINESS_LABELS,
    TIMELINESS_SIGNS=TIMELINESS_SIGNS,
)
