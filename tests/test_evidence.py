"""Evidence uploads: resumable chunks by SHA-256, idempotent, verified, deduplicated, scoped."""

from __future__ import annotations

import hashlib
import json
import os
import uuid

import httpx
import pytest

from server.auth import hash_password
from server.models import Template, Unit, User
from sync.models import Answer, Checklist
from sync.sql import now_ms

PASSWORD = "evidence-pass-1"


@pytest.fixture
async def people(db, sessions):
    """Two communes under one district; an official in each, and the district reviewer."""
    district = await Unit.create(
        code="T-D", kind="district", level=1, source_name="Huyện T", name="Huyện T", name_folded="huyen t"
    )
    a = await Unit.create(
        code="T-A", kind="commune", level=2, parent=district, source_name="Xã A", name="Xã A", name_folded="xa a"
    )
    b = await Unit.create(
        code="T-B", kind="commune", level=2, parent=district, source_name="Xã B", name="Xã B", name_folded="xa b"
    )
    pw = hash_password(PASSWORD)
    await User.create(username="off.a", role="official", unit=a, password_hash=pw)
    await User.create(username="off.b", role="official", unit=b, password_hash=pw)
    await User.create(username="rev.d", role="reviewer", unit=district, password_hash=pw)

    async def client(username):
        return await sessions(username, PASSWORD)

    # The `db` fixture empties every table afterwards, the unit tree included.
    return client


def blob(n=150_000) -> tuple[bytes, str]:
    data = os.urandom(n)
    return data, hashlib.sha256(data).hexdigest()


async def put(c, sha, data, offset, size, mime="image/jpeg"):
    return await c.put(f"/api/evidence/{sha}", params={"offset": offset, "size": size, "mime": mime}, content=data)


async def test_chunked_upload_resumes_and_verifies(people, settings):
    c = await people("off.a")
    data, sha = blob()
    r = await c.get(f"/api/evidence/{sha}/status")
    assert r.json()["received"] == 0 and not r.json()["complete"]
    r = await put(c, sha, data[:60000], 0, len(data))
    assert r.status_code == 200 and r.json()["received"] == 60000
    # The same chunk again (a retried request): nothing changes.
    r = await put(c, sha, data[:60000], 0, len(data))
    assert r.json()["received"] == 60000
    # A chunk beyond what was received is refused with where to resume.
    r = await put(c, sha, data[100000:], 100000, len(data))
    assert r.status_code == 409 and r.json()["received"] == 60000
    # An overlapping chunk adds only the missing bytes.
    r = await put(c, sha, data[30000:120000], 30000, len(data))
    assert r.json()["received"] == 120000
    r = await c.get(f"/api/evidence/{sha}/status")
    assert r.json()["received"] == 120000
    r = await put(c, sha, data[120000:], 120000, len(data))
    assert r.json() == {"sha256": sha, "size": len(data), "mime": "image/jpeg", "received": len(data), "complete": True}
    r = await c.get(f"/api/evidence/{sha}")
    assert r.status_code == 200 and r.content == data
    assert (settings.evidence_dir / sha[:2] / sha).read_bytes() == data
    # Completed: a later upload of the same content is deduplicated (answers complete at once).
    r = await put(c, sha, data[:1000], 0, len(data))
    assert r.json()["complete"] is True


async def test_hash_mismatch_is_discarded(people):
    c = await people("off.a")
    data, _ = blob(5000)
    wrong = hashlib.sha256(b"other").hexdigest()
    r = await put(c, wrong, data, 0, len(data))
    assert r.status_code == 422 and r.json()["error"] == "hash_mismatch"
    r = await c.get(f"/api/evidence/{wrong}/status")
    assert r.json()["received"] == 0


async def test_scope_and_validation(people):
    a, b, rev = await people("off.a"), await people("off.b"), await people("rev.d")
    data, sha = blob(3000)
    assert (await put(a, sha, data, 0, len(data))).json()["complete"]
    assert (await b.get(f"/api/evidence/{sha}")).status_code == 404  # another commune
    assert (await rev.get(f"/api/evidence/{sha}")).status_code == 200  # the district above
    assert (await put(rev, sha, data, 0, len(data))).status_code == 403  # reviewers do not upload
    assert (await put(a, "xyz", data, 0, len(data))).status_code == 422
    assert (await put(a, sha[:-1] + "0", data, 0, 0)).status_code == 422
    assert (await put(a, blob(10)[1], b"x" * 10, 0, 10, mime="text/html")).status_code == 422
    anon = httpx.AsyncClient(transport=a._transport, base_url="http://testserver")
    assert (await anon.get(f"/api/evidence/{sha}/status")).status_code == 401
    await anon.aclose()


async def refer(username: str, sha: str, name: str = "bien-ban.jpg", size: int = 3000) -> None:
    """An answer in a checklist of `username`'s unit whose evidence value refers to `sha`."""
    user = await User.get(username=username)
    template, _ = await Template.get_or_create(
        code="ev_test", version=1, defaults={"title": "Minh chứng", "period_kind": "once"}
    )
    checklist, _ = await Checklist.get_or_create(
        unit_id=user.unit_id,
        template=template,
        period="once",
        defaults={"id": str(uuid.uuid4()), "created_ms": now_ms(), "updated_ms": now_ms()},
    )
    n = await Answer.filter(checklist=checklist).count()
    await Answer.create(
        checklist=checklist,
        item_key=f"ev_{n}",
        updated_ms=now_ms(),
        value=json.dumps([{"sha256": sha, "name": name, "size": size, "mime": "image/jpeg"}]),
    )


async def test_the_same_file_sent_whole_by_a_second_unit_is_stored_once_and_readable_there(people, settings):
    a, b, rev = await people("off.a"), await people("off.b"), await people("rev.d")
    data, sha = blob(3000)
    other, other_sha = blob(2000)
    assert (await put(a, sha, data, 0, len(data))).json()["complete"]
    assert (await put(a, other_sha, other, 0, len(other))).json()["complete"]
    # Commune B has the same photo. Knowing the hash is not enough: B reads nothing until it sent it all.
    assert (await b.get(f"/api/evidence/{sha}")).status_code == 404
    r = await put(b, sha, data[:1000], 0, len(data))
    assert r.status_code == 200 and r.json()["complete"] is False and r.json()["received"] == 1000
    assert (await b.get(f"/api/evidence/{sha}")).status_code == 404
    r = await put(b, sha, data[1000:], 1000, len(data))
    assert r.status_code == 200 and r.json()["complete"] is True
    r = await b.get(f"/api/evidence/{sha}")
    assert r.status_code == 200 and r.content == data and r.headers["content-type"] == "image/jpeg"
    # Stored once, and nothing is left of B's upload.
    assert (settings.evidence_dir / sha[:2] / sha).read_bytes() == data
    assert not list((settings.evidence_dir / "partial").glob(sha + ".*"))
    # Only that file: A's other upload stays hidden from B.
    assert (await b.get(f"/api/evidence/{other_sha}")).status_code == 404
    assert (await a.get(f"/api/evidence/{sha}")).status_code == 200
    assert (await rev.get(f"/api/evidence/{sha}")).status_code == 200
    assert (await b.get(f"/api/evidence/{blob(10)[1]}")).status_code == 404  # no such file at all


async def test_a_reference_alone_gives_no_access_but_one_written_by_a_reader_does(people):
    """An answer naming a hash does not open the file to its unit unless whoever wrote it could read the
    file (an admin attaching a file to a commune's checklist shares it; an official naming a hash they
    never sent gains nothing)."""
    a, b = await people("off.a"), await people("off.b")
    data, sha = blob(4000)
    assert (await put(a, sha, data, 0, len(data))).json()["complete"]
    await refer("off.b", sha, size=len(data))  # written by B's own official, who never sent the file
    await Answer.filter(value__contains=sha).update(value_by="off.b")
    assert (await b.get(f"/api/evidence/{sha}")).status_code == 404
    # The district reviewer (who reads A's file) attaches it to B's checklist: B reads it.
    await refer("off.b", sha, size=len(data))
    await Answer.filter(value__contains=sha, value_by="").update(value_by="rev.d")
    r = await b.get(f"/api/evidence/{sha}")
    assert r.status_code == 200 and r.content == data
