"""Evidence uploads (resumable chunks, stored by content hash).

    PUT  /api/evidence/{sha256}?offset=N&size=S&mime=M   body: the bytes from offset N
         -> 200 {"sha256", "size", "mime", "received", "complete"}
    GET  /api/evidence/{sha256}/status                   -> the same JSON (received bytes so far)
    GET  /api/evidence/{sha256}                          -> the file (once complete, when readable)

A phone on 2G sends chunks of some tens of KB and resumes from `received` after a broken link. Each user
has an upload of their own per file (server/services/evidence.py): chunks are idempotent (bytes already
received are skipped), a chunk starting beyond `received` is refused with 409 and the current
`received`, and a start with another size starts that user's upload over. When the last byte arrives the
server hashes the file; a mismatch discards it (422 `hash_mismatch`). The whole file must arrive from a
unit before that unit may read it (proof of possession): knowing the hash is not enough. Status and
download answer a file outside the user's reach exactly like one that does not exist.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from sync.protocol import MAX_EVIDENCE_CHUNK, MAX_EVIDENCE_SIZE

from .. import auth
from ..errors import problem
from ..services import evidence as service
from . import JSON, int_param

SHA_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_SIZE = MAX_EVIDENCE_SIZE  # a downscaled photo is ~200 KB; a scanned PDF stays well below this
MAX_CHUNK = MAX_EVIDENCE_CHUNK  # the request body is bounded before this route reads it (server/limits.py)
ALLOWED_MIME = re.compile(
    r"^(image/(jpeg|png|webp|gif)|application/pdf|text/plain|"
    r"application/vnd\.openxmlformats-officedocument\.[a-z.]+|application/msword|"
    r"application/octet-stream)$"
)
# A file stays in the browser's own cache only briefly: a shared phone must not show it after logout.
FILE_CACHE = "private, max-age=300"


def _sha(request: Request) -> str:
    sha = request.path_params["sha256"].lower()
    if not SHA_RE.match(sha):
        raise problem("evidence_bad_hash", field="sha256")
    return sha


async def put_chunk(request: Request) -> JSON:
    user = await auth.require_user(request, *auth.CAN_EDIT_ANSWERS)
    sha = _sha(request)
    offset = int_param(request, "offset", minimum=0)
    size = int_param(request, "size", minimum=0)
    if size == 0 or size > MAX_SIZE:
        raise problem("evidence_bad_size", field="size", max_mb=MAX_SIZE // (1024 * 1024))
    mime = request.query_params.get("mime") or "application/octet-stream"
    if not ALLOWED_MIME.match(mime):
        raise problem("evidence_bad_type", field="mime")
    body = await request.body()
    if len(body) > MAX_CHUNK:
        raise problem("evidence_chunk_too_large")
    if offset + len(body) > size:
        raise problem("evidence_past_end", field="offset")
    settings = request.app.state.settings
    return JSON(await service.put_chunk(settings, user, sha, offset, size, mime, body))


async def get_status(request: Request) -> JSON:
    user = await auth.require_user(request)
    sha = _sha(request)
    return JSON(await service.status(request.app.state.settings, user, sha))


async def get_file(request: Request) -> Response:
    user = await auth.require_user(request)
    sha = _sha(request)
    path, mime = await service.open_file(request.app.state.settings, user, sha)
    return FileResponse(
        path,
        media_type=mime,
        headers={"Cache-Control": FILE_CACHE, "Vary": "Cookie", "Content-Disposition": "inline"},
    )


routes = [
    Route("/api/evidence/{sha256}", put_chunk, methods=["PUT"]),
    Route("/api/evidence/{sha256}/status", get_status, methods=["GET"]),
    Route("/api/evidence/{sha256}", get_file, methods=["GET"]),
]
