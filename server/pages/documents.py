"""Pages: the documents the province sends. /documents chooses a month or a year; the notice and the
annual summary are printable pages (A4, Vietnamese administrative layout, server/static/print.css) and
XLSX downloads. Who gets which version: server/services/documents.py."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync.periods import today_vn

from ..services.annual_summary import build_summary
from ..services.documents import parse_month, parse_year, require_document_reader, scope_of
from ..services.documents_xlsx import XLSX_TYPE, notice_xlsx, summary_xlsx
from ..services.notice import build_notice
from . import user_or_login
from .render import render


def _previous_month(today) -> str:
    return f"{today.year - 1}-12" if today.month == 1 else f"{today.year}-{today.month - 1:02d}"


async def choose_page(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    scope = await scope_of(actor)
    today = today_vn()
    context = {
        "user": actor,
        "root": scope.root,
        "count": len(scope.units),
        "month": f"{today.year}-{today.month:02d}",
        "previous_month": _previous_month(today),
        "year": today.year,
    }
    return render(request, "documents.html", context)


async def notice_page(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    require_document_reader(actor)
    month = parse_month(request.query_params.get("month"))
    n = await build_notice(actor, month, today_vn())
    return render(request, "notice.html", {"user": actor, "n": n})


async def annual_page(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    require_document_reader(actor)
    year = parse_year(request.query_params.get("year"))
    s = await build_summary(actor, year)
    return render(request, "annual_summary.html", {"user": actor, "s": s})


def _download(data: bytes, filename: str) -> Response:
    # An ASCII name for old clients, the same name in filename* (RFC 6266) for the others.
    return Response(
        data,
        media_type=XLSX_TYPE,
        headers={
            "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{filename}",
            "Cache-Control": "no-store",
        },
    )


async def notice_download(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    require_document_reader(actor)
    month = parse_month(request.query_params.get("month"))
    n = await build_notice(actor, month, today_vn())
    data = notice_xlsx(n, request.app.state.settings.public_url)
    return _download(data, f"thong-bao-htqlcl-{month}-{n.root.code}.xlsx")


async def annual_download(request: Request) -> Response:
    actor, redirect = await user_or_login(request)
    if redirect:
        return redirect
    require_document_reader(actor)
    year = parse_year(request.query_params.get("year"))
    s = await build_summary(actor, year)
    data = summary_xlsx(s, request.app.state.settings.public_url)
    return _download(data, f"bao-cao-nam-htqlcl-{year}-{s.root.code}.xlsx")


routes = [
    Route("/documents", choose_page, methods=["GET"]),
    Route("/documents/notice", notice_page, methods=["GET"]),
    Route("/documents/notice.xlsx", notice_download, methods=["GET"]),
    Route("/documents/annual", annual_page, methods=["GET"]),
    Route("/documents/annual.xlsx", annual_download, methods=["GET"]),
]
