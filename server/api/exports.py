"""Exports as CSV or XLSX, run as jobs the caller polls.

POST   /api/exports               {"kind", "format", "filters"}: start one; 202 with the job
GET    /api/exports/{id}          the job: status (running / done / failed), rows done of the total
GET    /api/exports/{id}/file     the finished file (only to the user who started it)
DELETE /api/exports/{id}          remove the file now (it is removed an hour after anyway)

Kinds: units, checklists (filters: template, period, status), audit (admin of the province only),
announcements and procedures (filter: q). Every kind reads only the caller's scope.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from .. import auth
from ..services import exports
from . import JSON, read_body

Filter = Annotated[str, Field(max_length=200)]


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    q: Filter = ""
    template: Filter = ""
    period: Filter = ""
    status: Filter = ""


class NewExport(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Annotated[str, Field(max_length=32)]
    format: Annotated[str, Field(max_length=8)] = "xlsx"
    filters: Filters = Filters()


async def start(request: Request) -> JSON:
    user = await auth.require_user(request)
    body = await read_body(request, NewExport)
    job = await exports.start_export(
        request.app.state.settings, user, body.kind, body.format, body.filters.model_dump()
    )
    return JSON(job, status_code=202)


async def status(request: Request) -> JSON:
    user = await auth.require_user(request)
    return JSON(await exports.job_of(request.app.state.settings, user, request.path_params["job_id"]))


async def download(request: Request) -> Response:
    user = await auth.require_user(request)
    path, filename, media = await exports.file_of(request.app.state.settings, user, request.path_params["job_id"])
    return FileResponse(path, media_type=media, filename=filename, headers={"Cache-Control": "no-store"})


async def remove(request: Request) -> Response:
    user = await auth.require_user(request)
    await exports.discard(request.app.state.settings, user, request.path_params["job_id"])
    return Response(status_code=204)


routes = [
    Route("/api/exports", start, methods=["POST"]),
    Route("/api/exports/{job_id}", status, methods=["GET"]),
    Route("/api/exports/{job_id}/file", download, methods=["GET"]),
    Route("/api/exports/{job_id}", remove, methods=["DELETE"]),
]
