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


async def test_deduplicated_file_is_readable_where_an_answer_refers_to_it(people):
    a, b, rev = await people("off.a"), await people("off.b"), await people("rev.d")
    data, sha = blob(3000)
    other, other_sha = blob(2000)
    assert (await put(a, sha, data, 0, len(data))).json()["complete"]
    assert (await put(a, other_sha, other, 0, len(other))).json()["complete"]
    # Commune B has the same photo: the upload is deduplicated (stored once, under A's unit).
    r = await put(b, sha, data, 0, len(data))
    assert r.status_code == 200 and r.json()["complete"]
    # No answer of B refers to it yet: still not B's to read.
    assert (await b.get(f"/api/evidence/{sha}")).status_code == 404
    # A reference outside B's scope (A's own checklist) gives B nothing.
    await refer("off.a", sha)
    assert (await b.get(f"/api/evidence/{sha}")).status_code == 404
    # B's answer refers to it: B reads the file.
    await refer("off.b", sha)
    r = await b.get(f"/api/evidence/{sha}")
    assert r.status_code == 200 and r.content == data and r.headers["content-type"] == "image/jpeg"
    # Only that file: A's other upload, which no answer of B refers to, stays hidden.
    assert (await b.get(f"/api/evidence/{other_sha}")).status_code == 404
    # The uploader and the district above both still read it; a user with no reference does not.
    assert (await a.get(f"/api/evidence/{sha}")).status_code == 200
    assert (await rev.get(f"/api/evidence/{sha}")).status_code == 200
    assert (await b.get(f"/api/evidence/{blob(10)[1]}")).status_code == 404  # no such file at all


async def test_reference_gives_access_to_reviewers_above_the_referring_unit(people):
    """A reviewer of another district, above the unit whose answer refers to the file, reads it too;
    a commune of that district with no reference gets 404."""
    a = await people("off.a")
    e = await Unit.create(
        code="T-E", kind="district", level=1, source_name="Huyện E", name="Huyện E", name_folded="huyen e"
    )
    c_unit = await Unit.create(
        code="T-C", kind="commune", level=2, parent=e, source_name="Xã C", name="Xã C", name_folded="xa c"
    )
    d_unit = await Unit.create(
        code="T-G", kind="commune", level=2, parent=e, source_name="Xã G", name="Xã G", name_folded="xa g"
    )
    pw = hash_password(PASSWORD)
    await User.create(username="off.c", role="official", unit=c_unit, password_hash=pw)
    await User.create(username="off.g", role="official", unit=d_unit, password_hash=pw)
    await User.create(username="rev.e", role="reviewer", unit=e, password_hash=pw)
    c, g, rev_e = await people("off.c"), await people("off.g"), await people("rev.e")
    data, sha = blob(4000)
    assert (await put(a, sha, data, 0, len(data))).json()["complete"]
    assert (await rev_e.get(f"/api/evidence/{sha}")).status_code == 404
    await refer("off.c", sha, size=len(data))
    assert (await c.get(f"/api/evidence/{sha}")).status_code == 200
    assert (await rev_e.get(f"/api/evidence/{sha}")).status_code == 200
    assert (await g.get(f"/api/evidence/{sha}")).status_code == 404
