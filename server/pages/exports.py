"""Pages: exports (/exports): pick what to export and in which format; the job's page shows its progress
(server/static/exports.js polls /api/exports/{id}; without scripts a link reloads the page) and then the
file to download. Each job is visible to the user who started it only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sync.vocabulary import AUDITORS

from ..catalogue import CHECKLIST_STATUS_LABELS
from ..errors import ApiError
from ..models import Template
from ..services import exports
from . import user_or_login
from .render import render


async def _choices(user) -> dict:
    await user.fetch_related("unit")
    codes: dict[str, str] = {}
    for t in await Template.all().order_by("code", "version"):
        codes[t.code] = t.title
    return {
        "templates": sorted(codes.items(), key=lambda kv: kv[1]),
        "statuses": CHECKLIST_STATUS_LABELS,
        "may_audit": user.role in AUDITORS and user.unit.parent_id is None,
        "kinds": exports.EXPORT_KINDS,
    }


async def exports_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    user, redirect = await user_or_login(request)
    if redirect:
        return redirect
    return render(request, "exports.html", {"user": user, "error": error, **await _choices(user)}, status_code=status)


async def start_export(request: Request) -> Response:
    user, redirect = await user_or_login(request)
    if redirect:
        return redirect
    form = await request.form()
    filters = {k: str(form.get(k, ""))[:200] for k in ("q", "template", "period", "status")}
    try:
        job = await exports.start_export(
            request.app.state.settings, user, str(form.get("kind", "")), str(form.get("format", "")), filters
        )
    except ApiError as exc:
        if exc.status == 403:
            raise
        return await exports_page(request, exc.message, exc.status)
    return RedirectResponse(f"/exports/{job['id']}", status_code=303)


async def job_page(request: Request) -> Response:
    user, redirect = await user_or_login(request)
    if redirect:
        return redirect
    job = await exports.job_of(request.app.state.settings, user, request.path_params["job_id"])
    return render(request, "export_job.html", {"user": user, "job": job})


routes = [
    Route("/exports", exports_page, methods=["GET"]),
    Route("/exports", start_export, methods=["POST"]),
    Route("/exports/{job_id}", job_page, methods=["GET"]),
]
