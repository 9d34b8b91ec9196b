"""Evidence uploads: resumable chunks by SHA-256, idempotent, verified, deduplicated, scoped."""
from __future__ import annotations

import hashlib
import os

import httpx
import pytest

from server.auth import hash_password
from server.models import Unit, User

PASSWORD = "evidence-pass-1"


@pytest.fixture
async def people(db, app):
    """Two communes under one district; an official in each, and the district reviewer."""
    district = await Unit.create(code="T-D", kind="district", level=1, source_name="Huyện T", name="Huyện T",
                                 name_folded="huyen t")
    a = await Unit.create(code="T-A", kind="commune", level=2, parent=district, source_name="Xã A", name="Xã A",
                          name_folded="xa a")
    b = await Unit.create(code="T-B", kind="commune", level=2, parent=district, source_name="Xã B", name="Xã B",
                          name_folded="xa b")
    pw = hash_password(PASSWORD)
    await User.create(username="off.a", role="official", unit=a, password_hash=pw)
    await User.create(username="off.b", role="official", unit=b, password_hash=pw)
    await User.create(username="rev.d", role="reviewer", unit=district, password_hash=pw)
    clients = []

    async def client(username):
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        r = await c.post("/api/session", json={"username": username, "password": PASSWORD})
        assert r.status_code == 201, r.text
        clients.append(c)
        return c

    yield client
    for c in clients:
        await c.aclose()
    # The unit FK is ON DELETE RESTRICT, checked per row: the conftest wipe cannot delete a tree in one
    # statement, so the leaves go first.
    from server.models import Session
    await Session.all().delete()
    await User.filter(unit_id__in=[a.id, b.id, district.id]).delete()
    await Unit.filter(id__in=[a.id, b.id]).delete()
    await Unit.filter(id=district.id).delete()


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
