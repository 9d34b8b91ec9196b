"""Evidence files: uploads per uploader, read access by proof of possession, quotas, expiry.

Three tables (docs/sync-protocol.md, "Evidence files"):
- `Evidence` (sync/models.py): one row per file stored complete, by SHA-256.
- `EvidenceUpload`: one user's upload in progress of one file, with a partial file of its own
  (`partial/<sha>.<id>`). Someone else's start, right or wrong, never touches it.
- `EvidenceGrant`: a unit that sent the whole file and had it hashed. Knowing a hash is not enough to
  read a file: the server must have received every byte from that unit (or from someone who could read
  it already, see `readable`).

A user may read a stored file when a unit holding a grant is in their scope (its own users and the
reviewers above it), or when an answer of a checklist in their scope names the hash and was written by
someone who could read the file (an admin who attaches a file to a commune's checklist shares it with
that commune). Anything else answers exactly like a file that does not exist.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from tortoise.exceptions import IntegrityError
from tortoise.functions import Count, Sum

from sync.models import Answer, Evidence
from sync.sql import now_ms

from .. import auth
from ..config import Settings
from ..errors import problem
from ..models import EvidenceGrant, EvidenceUpload, User
from .tree import subtree_ids

MiB = 1024 * 1024
RETRY_STORE_S = 60  # seconds a phone waits before trying an unwritable store again
EXPIRE_BATCH = 100  # expired uploads removed per request (the rest on the next ones)
_locks: dict[tuple[str, str], asyncio.Lock] = {}


def nothing(sha: str) -> dict:
    """The status of a file the user has neither sent nor may read: the same whether it exists or not."""
    return {"sha256": sha, "size": None, "mime": None, "received": 0, "complete": False}


def _stored_status(ev: Evidence) -> dict:
    return {"sha256": ev.sha256, "size": ev.size, "mime": ev.mime, "received": ev.size, "complete": True}


def _upload_status(up: EvidenceUpload) -> dict:
    return {"sha256": up.sha256, "size": up.size, "mime": up.mime, "received": up.received, "complete": False}


def final_path(settings: Settings, sha: str) -> Path:
    return Path(settings.evidence_dir) / sha[:2] / sha


def _partial_path(settings: Settings, up: EvidenceUpload) -> Path:
    return Path(settings.evidence_dir) / "partial" / f"{up.sha256}.{up.id}"


def _store_failed() -> Exception:
    return problem("evidence_store_unavailable", retry_after=RETRY_STORE_S)


async def _stored(settings: Settings, sha: str) -> Evidence | None:
    ev = await Evidence.get_or_none(sha256=sha, complete=True)
    return ev if ev is not None and final_path(settings, sha).is_file() else None


async def _could_read(user: User, sha: str, grants: set[int]) -> bool:
    scope = await auth.scope_unit_ids(user)
    if grants & scope:
        return True
    # Answer values are JSON lists of {"sha256": ...}; 64 hex digits make a substring match exact enough.
    writers = await (
        Answer.filter(checklist__unit_id__in=list(scope), value__contains=sha)
        .distinct()
        .values_list("value_by", flat=True)
    )
    for name in {w for w in writers if w and w != user.username}:
        writer = await User.get_or_none(username=name)
        if writer is not None and grants & await subtree_ids(writer.unit_id):  # type: ignore[attr-defined]
            return True
    return False


async def readable(settings: Settings, user: User, sha: str) -> Evidence | None:
    """The stored file if `user` may read it, else None (never says which of the two)."""
    ev = await _stored(settings, sha)
    if ev is None:
        return None
    grants = set(await EvidenceGrant.filter(sha256=sha).values_list("unit_id", flat=True))
    return ev if grants and await _could_read(user, sha, grants) else None


async def expire_uploads(settings: Settings) -> int:
    """Remove uploads whose last chunk is older than EISO_EVIDENCE_PARTIAL_HOURS, with their bytes."""
    cutoff = now_ms() - settings.evidence_partial_hours * 3600 * 1000
    old = await EvidenceUpload.filter(updated_ms__lt=cutoff).order_by("updated_ms").limit(EXPIRE_BATCH)
    for up in old:
        _partial_path(settings, up).unlink(missing_ok=True)
        await EvidenceUpload.filter(id=up.id, updated_ms=up.updated_ms).delete()
    return len(old)


async def status(settings: Settings, user: User, sha: str) -> dict:
    """What the user's phone needs to resume: the stored file's facts when the user may read it, the
    user's own upload in progress, or `nothing`."""
    await expire_uploads(settings)
    ev = await readable(settings, user, sha)
    if ev is not None:
        return _stored_status(ev)
    up = await EvidenceUpload.get_or_none(sha256=sha, username=user.username)
    return _upload_status(up) if up is not None else nothing(sha)


async def _totals(model, **where) -> tuple[int, int]:
    rows = await model.filter(**where).annotate(n=Count("id"), total=Sum("size")).values("n", "total")
    row = rows[0] if rows else {}
    return int(row.get("n") or 0), int(row.get("total") or 0)


async def _check_quotas(settings: Settings, user: User, size: int, replacing: EvidenceUpload | None) -> None:
    """Refuse a new upload that would pass a quota: in progress (429, it lifts as uploads finish or
    expire) or stored (413), per account and per unit."""
    unit_id = user.unit_id  # type: ignore[attr-defined]
    skip = {"id__not": replacing.id} if replacing is not None else {}
    limits = [
        (
            {"username": user.username},
            settings.evidence_pending_files_user,
            settings.evidence_pending_mb_user,
            "tài khoản",
        ),
        ({"unit_id": unit_id}, settings.evidence_pending_files_unit, settings.evidence_pending_mb_unit, "đơn vị"),
    ]
    for where, max_files, max_mb, who in limits:
        n, total = await _totals(EvidenceUpload, **where, **skip)
        if n + 1 > max_files or total + size > max_mb * MiB:
            raise problem("evidence_quota_pending", what=f"{who}: {max_files} tệp, {max_mb} MB", retry_after=600)
    stored = [
        (
            {"username": user.username},
            settings.evidence_stored_files_user,
            settings.evidence_stored_mb_user,
            "tài khoản",
        ),
        ({"unit_id": unit_id}, settings.evidence_stored_files_unit, settings.evidence_stored_mb_unit, "đơn vị"),
    ]
    for where, max_files, max_mb, who in stored:
        n, total = await _totals(EvidenceGrant, **where)
        if n + 1 > max_files or total + size > max_mb * MiB:
            raise problem("evidence_quota_stored", what=f"{who}: {max_files} tệp, {max_mb} MB")


async def _start(settings: Settings, user: User, sha: str, size: int, mime: str) -> EvidenceUpload:
    """The user's upload of `sha`: the one in progress, or a new one. A start with another size than
    the one in progress starts over (a wrong first start never blocks the right one)."""
    up = await EvidenceUpload.get_or_none(sha256=sha, username=user.username)
    if up is not None and up.size == size:
        return up
    await _check_quotas(settings, user, size, up)
    now = now_ms()
    if up is not None:
        _partial_path(settings, up).unlink(missing_ok=True)
        await EvidenceUpload.filter(id=up.id).update(size=size, mime=mime, received=0, created_ms=now, updated_ms=now)
        up.size, up.mime, up.received, up.created_ms, up.updated_ms = size, mime, 0, now, now
        return up
    try:
        return await EvidenceUpload.create(
            sha256=sha,
            username=user.username,
            unit_id=user.unit_id,  # type: ignore[attr-defined]
            size=size,
            mime=mime,
            received=0,
            created_ms=now,
            updated_ms=now,
        )
    except IntegrityError:  # the same user's other request (another process) made it first
        return await EvidenceUpload.get(sha256=sha, username=user.username)


def _write(path: Path, data: bytes, at: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o640)
    try:
        os.pwrite(fd, data, at)
        os.fsync(fd)
    finally:
        os.close(fd)


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


async def put_chunk(settings: Settings, user: User, sha: str, offset: int, size: int, mime: str, body: bytes) -> dict:
    """Store the bytes of one chunk of the user's upload; when the last byte is in, hash the file, store
    it (once per content) and grant the user's unit read access. Chunks are idempotent: bytes already
    received are skipped; a chunk starting beyond them is refused with where to resume (409)."""
    await expire_uploads(settings)
    done = await readable(settings, user, sha)
    if done is not None:  # the user may read it already: nothing to prove, nothing to send
        return _stored_status(done)
    lock = _locks.setdefault((sha, user.username), asyncio.Lock())
    async with lock:
        try:
            return await _put_locked(settings, user, sha, offset, size, mime, body)
        finally:
            if not lock._waiters:  # type: ignore[attr-defined]
                _locks.pop((sha, user.username), None)


async def _put_locked(settings: Settings, user: User, sha: str, offset: int, size: int, mime: str, body: bytes) -> dict:
    up = await _start(settings, user, sha, size, mime)
    if offset > up.received:
        raise problem("evidence_offset_mismatch", received=up.received)
    partial = _partial_path(settings, up)
    tail = body[up.received - offset :]  # the bytes not stored yet (empty for a repeated chunk)
    if tail:
        try:
            await asyncio.to_thread(_write, partial, tail, up.received)
        except OSError:
            raise _store_failed() from None
        moved = await EvidenceUpload.filter(id=up.id, received=up.received).update(
            received=up.received + len(tail), updated_ms=now_ms()
        )
        if not moved:  # the same user's request in another process moved it first: say where it stands
            current = await EvidenceUpload.get_or_none(id=up.id)
            return _upload_status(current) if current is not None else await status(settings, user, up.sha256)
        up.received += len(tail)
    if up.received < up.size:
        return _upload_status(up)
    return await _finish(settings, user, up, partial)


async def _finish(settings: Settings, user: User, up: EvidenceUpload, partial: Path) -> dict:
    sha = up.sha256
    try:
        digest = await asyncio.to_thread(_hash_file, partial)
    except FileNotFoundError:  # the upload expired under us or was started over: send it again
        await EvidenceUpload.filter(id=up.id).delete()
        raise problem("evidence_offset_mismatch", received=0) from None
    except OSError:
        raise _store_failed() from None
    if digest != sha:
        partial.unlink(missing_ok=True)
        await EvidenceUpload.filter(id=up.id).delete()
        raise problem("evidence_hash_mismatch")
    final = final_path(settings, sha)
    try:
        if final.is_file():  # the same bytes are stored already: this unit proved it has them too
            partial.unlink(missing_ok=True)
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, final)
    except OSError:
        raise _store_failed() from None
    now = now_ms()
    ev = await Evidence.get_or_none(sha256=sha)
    if ev is None:
        try:
            ev = await Evidence.create(
                sha256=sha,
                size=up.size,
                mime=up.mime,
                received=up.size,
                complete=True,
                uploaded_by=user.username,
                unit_id=up.unit_id,
                created_ms=now,
            )
        except IntegrityError:  # another unit finished the same file in the same instant
            ev = await Evidence.get(sha256=sha)
    elif not ev.complete:
        await Evidence.filter(sha256=sha).update(received=ev.size, complete=True)
        ev.complete = True
    try:
        await EvidenceGrant.create(sha256=sha, unit_id=up.unit_id, username=user.username, size=up.size, created_ms=now)
    except IntegrityError:
        pass  # the unit held it already (a colleague finished the same file)
    await EvidenceUpload.filter(id=up.id).delete()
    return _stored_status(ev)


async def open_file(settings: Settings, user: User, sha: str) -> tuple[Path, str]:
    """The path and type of a file the user may read; `evidence_not_found` otherwise, whether the file
    exists, is someone else's, or is still on its way."""
    ev = await readable(settings, user, sha)
    if ev is None:
        raise problem("evidence_not_found")
    return final_path(settings, sha), ev.mime
