"""Evidence uploads (resumable chunks, stored by content hash).

    PUT  /api/evidence/{sha256}?offset=N&size=S&mime=M   body: the bytes from offset N
         -> 200 {"sha256", "size", "received", "complete"}
    GET  /api/evidence/{sha256}/status                   -> the same JSON (received bytes so far)
    GET  /api/evidence/{sha256}                          -> the file (once complete)

A phone on 2G sends chunks of some tens of KB and resumes from `received` after a broken link. Chunks
are idempotent: a chunk received twice (Chromium re-sends a request whose answer was lost) or one that
overlaps what is already stored only adds the bytes not yet there. A chunk starting beyond `received`
is refused with 409 and the current `received`, so the client resumes from there. When the last byte
arrives the server hashes the file; a mismatch discards it (422 `hash_mismatch`). A file already
complete is not uploaded again (deduplication by content): the first PUT answers `complete: true`.

Scope: an upload belongs to the uploader's unit. A user may read a file when the uploader's unit is in
their scope, or when an answer of a checklist of a unit in their scope refers to the file's hash: the same
bytes uploaded by a second unit are deduplicated (stored once, under the first uploader's unit), and the
second unit, and the reviewers above it, must still be able to open what their answers show.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from sync.models import Answer, Evidence
from sync.protocol import MAX_EVIDENCE_CHUNK, MAX_EVIDENCE_SIZE
from sync.sql import now_ms

from .. import auth
from ..errors import problem
from . import JSON, int_param

SHA_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_SIZE = MAX_EVIDENCE_SIZE  # a downscaled photo is ~200 KB; a scanned PDF stays well below this
MAX_CHUNK = MAX_EVIDENCE_CHUNK  # the request body is bounded before this route reads it (server/limits.py)
ALLOWED_MIME = re.compile(
    r"^(image/(jpeg|png|webp|gif)|application/pdf|text/plain|"
    r"application/vnd\.openxmlformats-officedocument\.[a-z.]+|application/msword|"
    r"application/octet-stream)$"
)
_locks: dict[str, asyncio.Lock] = {}


def _sha(request: Request) -> str:
    sha = request.path_params["sha256"].lower()
    if not SHA_RE.match(sha):
        raise problem("evidence_bad_hash", field="sha256")
    return sha


def _paths(request: Request, sha: str) -> tuple[Path, Path]:
    root = Path(request.app.state.settings.evidence_dir)
    return root / "partial" / sha, root / sha[:2] / sha


def _status(ev: Evidence) -> dict:
    return {"sha256": ev.sha256, "size": ev.size, "mime": ev.mime, "received": ev.received, "complete": ev.complete}


async def _readable(user, sha: str) -> Evidence:
    ev = await Evidence.get_or_none(sha256=sha)
    if ev is None:
        raise problem("evidence_not_found")
    scope = await auth.scope_unit_ids(user)
    if ev.unit_id in scope:
        return ev
    # Deduplicated upload of another unit: readable if an answer in scope refers to it. Answer values are
    # JSON; an evidence value is a list of {"sha256": ..., ...}, and the hash is 64 hex digits, so a
    # substring match on it is exact enough (and works the same on SQLite and PostgreSQL).
    if await Answer.filter(checklist__unit_id__in=list(scope), value__contains=sha).exists():
        return ev
    raise problem("evidence_not_found")


async def put_chunk(request: Request) -> JSON:
    user = await auth.require_user(request, *auth.CAN_EDIT_ANSWERS)
    sha = _sha(request)
    offset = int_param(request, "offset", minimum=0)
    size = int_param(request, "size", minimum=0)
    if size == 0 or size > MAX_SIZE:
        raise problem("evidence_bad_size", field="size", max_mb=MAX_SIZE // (1024 * 1024))
    mime = (request.query_params.get("mime") or "application/octet-stream")[:64]
    if not ALLOWED_MIME.match(mime):
        raise problem("evidence_bad_type", field="mime")
    body = await request.body()
    if len(body) > MAX_CHUNK:
        raise problem("evidence_chunk_too_large")
    if offset + len(body) > size:
        raise problem("evidence_past_end", field="offset")
    lock = _locks.setdefault(sha, asyncio.Lock())
    async with lock:
        ev = await Evidence.get_or_none(sha256=sha)
        if ev is not None and ev.complete:
            # Deduplicated: the same content is already stored. A second unit may refer to it too.
            return JSON(_status(ev))
        partial, final = _paths(request, sha)
        if ev is None:
            ev = await Evidence.create(
                sha256=sha,
                size=size,
                mime=mime,
                received=0,
                complete=False,
                uploaded_by=user.username,
                unit_id=user.unit_id,  # type: ignore[attr-defined]
                created_ms=now_ms(),
            )
        elif ev.size != size:
            raise problem("evidence_size_changed", field="size")
        if offset > ev.received:
            raise problem("evidence_offset_mismatch", received=ev.received)
        tail = body[ev.received - offset :]  # the bytes not stored yet (empty for a repeated chunk)
        if tail:
            partial.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT, 0o640)
            try:
                os.pwrite(fd, tail, ev.received)
                os.fsync(fd)
            finally:
                os.close(fd)
            ev.received += len(tail)
            if ev.received < ev.size:
                await Evidence.filter(sha256=sha).update(received=ev.received)
        if ev.received == ev.size and not ev.complete:
            digest = await asyncio.to_thread(_hash_file, partial)
            if digest != sha:
                partial.unlink(missing_ok=True)
                await Evidence.filter(sha256=sha).delete()
                raise problem("evidence_hash_mismatch")
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, final)
            ev.complete = True
            await Evidence.filter(sha256=sha).update(received=ev.received, complete=True)
        return JSON(_status(ev))


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


async def get_status(request: Request) -> JSON:
    user = await auth.require_user(request)
    sha = _sha(request)
    ev = await Evidence.get_or_none(sha256=sha)
    if ev is None:
        return JSON({"sha256": sha, "size": None, "received": 0, "complete": False})
    if not ev.complete and ev.uploaded_by != user.username and not await auth.unit_in_scope(user, ev.unit_id):
        return JSON({"sha256": sha, "size": None, "received": 0, "complete": False})
    return JSON(_status(ev))


async def get_file(request: Request) -> Response:
    user = await auth.require_user(request)
    sha = _sha(request)
    ev = await _readable(user, sha)
    _, final = _paths(request, sha)
    if not ev.complete or not final.is_file():
        raise problem("evidence_incomplete")
    return FileResponse(
        final,
        media_type=ev.mime,
        headers={"Cache-Control": "private, max-age=31536000, immutable", "Content-Disposition": "inline"},
    )


routes = [
    Route("/api/evidence/{sha256}", put_chunk, methods=["PUT"]),
    Route("/api/evidence/{sha256}/status", get_status, methods=["GET"]),
    Route("/api/evidence/{sha256}", get_file, methods=["GET"]),
]
