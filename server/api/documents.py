"""Documents the province sends, as JSON (the printable pages and XLSX files are under /documents).

GET /api/documents/notice?month=2026-11   the monthly notice: figures, annex per unit, sources
GET /api/documents/annual?year=2026       the annual summary sent upward: totals, units, sources

The provincial admin gets the province's version, a district's reviewer their district's; anyone else
`forbidden`. Figures come from approved checklists only; each answer lists them under "sources".
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from sync.periods import today_vn

from .. import auth
from ..services.annual_summary import build_summary, summary_json
from ..services.documents import parse_month, parse_year, require_document_reader
from ..services.notice import build_notice, notice_json
from . import JSON


async def notice(request: Request) -> JSON:
    actor = await auth.require_user(request)
    require_document_reader(actor)
    month = parse_month(request.query_params.get("month"))
    return JSON(notice_json(await build_notice(actor, month, today_vn())))


async def annual(request: Request) -> JSON:
    actor = await auth.require_user(request)
    require_document_reader(actor)
    year = parse_year(request.query_params.get("year"))
    return JSON(summary_json(await build_summary(actor, year)))


routes = [
    Route("/api/documents/notice", notice, methods=["GET"]),
    Route("/api/documents/annual", annual, methods=["GET"]),
]
