"""Hostile inputs against evidence uploads (issue 17): a known hash opens nothing, status leaks nothing,
one user's start never blocks another's, partial uploads expire, quotas hold, a broken store says 503."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.auth import hash_password
from server.models import EvidenceGrant, EvidenceUpload, User
from sync.models import Evidence
from sync.sql import now_ms
from tests.test_evidence import PASSWORD, blob, people, put, refer  # noqa: F401 - `people` is a fixture

NOTHING = {"size": None, "mime": None, "received": 0, "complete": False}


async def test_one_byte_against_a_known_hash_opens_nothing(people):
    """The attack of the issue: upload one byte naming another unit's hash, then name it in an answer."""
    a, b = await people("off.a"), await people("off.b")
    data, sha = blob(5000)
    assert (await put(a, sha, data, 0, len(data))).json()["complete"]
    r = await put(b, sha, data[:1], 0, len(data))
    assert r.status_code == 200 and r.json()["complete"] is False and r.json()["received"] == 1
    await refer("off.b", sha, size=len(data))
    assert (await b.get(f"/api/evidence/{sha}")).status_code == 404
    # Bytes that are not the file do not count either: the hash is checked at the end.
    r = await put(b, sha, b"x" * (len(data) - 1), 1, len(data))
    assert r.status_code == 422 and r.json()["error"] == "hash_mismatch"
    assert (await b.get(f"/api/evidence/{sha}")).status_code == 404
    assert await EvidenceGrant.filter(sha256=sha).values_list("unit_id", flat=True) == [
        (await Evidence.get(sha256=sha)).unit_id
    ]


async def test_status_and_download_answer_alike_for_a_foreign_file_and_no_file(people):
    a, b = await people("off.a"), await people("off.b")
    data, sha = blob(7000)
    _, missing = blob(10)
    assert (await put(a, sha, data[:100], 0, len(data), mime="application/pdf")).status_code == 200
    # In progress, A's: B learns neither size nor type.
    foreign, absent = await b.get(f"/api/evidence/{sha}/status"), await b.get(f"/api/evidence/{missing}/status")
    assert foreign.status_code == absent.status_code == 200
    assert foreign.json() == {"sha256": sha, **NOTHING} and absent.json() == {"sha256": missing, **NOTHING}
    assert (await put(a, sha, data[100:], 100, len(data), mime="application/pdf")).json()["complete"]
    # Stored, A's: still nothing for B, and the download says "not found" in the same words.
    assert (await b.get(f"/api/evidence/{sha}/status")).json() == {"sha256": sha, **NOTHING}
    f, m = await b.get(f"/api/evidence/{sha}"), await b.get(f"/api/evidence/{missing}")
    assert f.status_code == m.status_code == 404 and f.json() == m.json()
    # A's own status and download work.
    mine = (await a.get(f"/api/evidence/{sha}/status")).json()
    assert mine == {
        "sha256": sha,
        "size": len(data),
        "mime": "application/pdf",
        "received": len(data),
        "complete": True,
    }


async def test_a_wrong_start_by_someone_else_never_blocks_an_upload(people, settings):
    a, b = await people("off.a"), await people("off.b")
    data, sha = blob(6000)
    # B starts the file with a wrong size and garbage, and never finishes.
    assert (await put(b, sha, b"z", 0, 1)).status_code == 422  # 1 byte is complete: the hash fails
    assert (await put(b, sha, b"zz", 0, 999)).status_code == 200
    # A uploads the real file from its start: B's upload is not A's.
    assert (await a.get(f"/api/evidence/{sha}/status")).json() == {"sha256": sha, **NOTHING}
    r = await put(a, sha, data[:3000], 0, len(data))
    assert r.json()["received"] == 3000 and r.json()["size"] == len(data)
    r = await put(a, sha, data[3000:], 3000, len(data))
    assert r.json()["complete"] is True
    assert (await a.get(f"/api/evidence/{sha}")).content == data
    # B's wrong start stays B's; restarting with the right size starts B over and proves possession.
    assert (await b.get(f"/api/evidence/{sha}/status")).json()["size"] == 999
    r = await put(b, sha, data[3000:], 3000, len(data))
    assert r.status_code == 409 and r.json()["received"] == 0
    assert (await put(b, sha, data, 0, len(data))).json()["complete"] is True
    assert (await b.get(f"/api/evidence/{sha}")).content == data
    assert await EvidenceUpload.all().count() == 0
    assert not list(Path(settings.evidence_dir, "partial").glob(sha + ".*"))


async def test_partial_uploads_expire_with_their_bytes(people, settings):
    a = await people("off.a")
    data, sha = blob(4000)
    assert (await put(a, sha, data[:2000], 0, len(data))).json()["received"] == 2000
    up = await EvidenceUpload.get(sha256=sha)
    partial = Path(settings.evidence_dir, "partial", f"{sha}.{up.id}")
    assert partial.stat().st_size == 2000
    # Its last chunk is now older than EISO_EVIDENCE_PARTIAL_HOURS.
    old = now_ms() - (settings.evidence_partial_hours * 3600 + 60) * 1000
    await EvidenceUpload.filter(id=up.id).update(updated_ms=old)
    assert (await a.get(f"/api/evidence/{sha}/status")).json() == {"sha256": sha, **NOTHING}
    assert not partial.exists() and await EvidenceUpload.all().count() == 0
    # The phone resumes from what the status says: byte 0.
    r = await put(a, sha, data[2000:], 2000, len(data))
    assert r.status_code == 409 and r.json()["received"] == 0
    assert (await put(a, sha, data, 0, len(data))).json()["complete"] is True


@pytest.mark.parametrize(
    ("limit", "value", "status"),
    [
        ("evidence_pending_files_user", 1, 429),
        ("evidence_pending_mb_user", 1, 429),
        ("evidence_pending_files_unit", 1, 429),
        ("evidence_pending_mb_unit", 1, 429),
        ("evidence_stored_files_user", 1, 413),
        ("evidence_stored_mb_user", 1, 413),
        ("evidence_stored_files_unit", 1, 413),
        ("evidence_stored_mb_unit", 1, 413),
    ],
)
async def test_quotas_per_account_and_unit_hold(people, settings, monkeypatch, limit, value, status):
    a = await people("off.a")
    monkeypatch.setattr(settings, limit, value)
    big = "_mb_" in limit
    first, first_sha = blob(700_000 if big else 1000)
    second, second_sha = blob(700_000 if big else 1000)
    if status == 429:  # one upload in progress (half sent) fills the quota
        assert (await put(a, first_sha, first[:10], 0, len(first))).status_code == 200
    else:  # one file stored fills it
        r = await put(a, first_sha, first[: 1 << 20], 0, len(first))
        assert r.json()["complete"] is True
    r = await put(a, second_sha, second[:10], 0, len(second))
    assert r.status_code == status and r.json()["error"] == "quota_exceeded", r.text
    assert r.json()["message"].startswith(("Đang có quá nhiều", "Đã vượt hạn mức"))
    if status == 429:
        assert int(r.headers["retry-after"]) > 0
        # Finishing the upload in progress frees the quota.
        assert (await put(a, first_sha, first[10:], 10, len(first))).json()["complete"] is True
        assert (await put(a, second_sha, second[:10], 0, len(second))).status_code == 200
    # The same file again, already the unit's: no quota needed, answered complete at once.
    assert (await put(a, first_sha, first[:10], 0, len(first))).json()["complete"] is True


async def test_a_colleague_of_the_unit_is_counted_in_the_unit_quota(people, settings, monkeypatch):
    """Two officials of one unit share its quota; a user of another unit is not held back by it."""
    colleague = await User.get(username="off.a")
    await User.create(
        username="off.a2", role="official", unit_id=colleague.unit_id, password_hash=hash_password(PASSWORD)
    )
    a, a2, b = await people("off.a"), await people("off.a2"), await people("off.b")
    monkeypatch.setattr(settings, "evidence_pending_files_unit", 1)
    (d1, s1), (d2, s2), (d3, s3) = blob(1000), blob(1000), blob(1000)
    assert (await put(a, s1, d1[:10], 0, len(d1))).status_code == 200
    r = await put(a2, s2, d2[:10], 0, len(d2))
    assert r.status_code == 429 and "đơn vị" in r.json()["message"]
    assert (await put(b, s3, d3[:10], 0, len(d3))).status_code == 200


async def test_an_unwritable_store_answers_503_json_with_retry_after(people, settings, monkeypatch, tmp_path):
    a = await people("off.a")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    monkeypatch.setattr(settings, "evidence_dir", blocker / "evidence")
    data, sha = blob(3000)
    r = await put(a, sha, data, 0, len(data))
    assert r.status_code == 503 and r.json()["error"] == "store_unavailable"
    assert r.headers["content-type"].startswith("application/json")
    assert int(r.headers["retry-after"]) > 0
    assert "thử lại" in r.json()["message"]
    # Once the store is back, the same chunk goes through.
    monkeypatch.setattr(settings, "evidence_dir", tmp_path / "evidence")
    assert (await put(a, sha, data, 0, len(data))).json()["complete"] is True


async def test_evidence_is_cached_briefly_and_privately(people):
    a = await people("off.a")
    data, sha = blob(2000)
    await put(a, sha, data, 0, len(data))
    r = await a.get(f"/api/evidence/{sha}")
    assert r.status_code == 200
    cache = r.headers["cache-control"]
    assert "private" in cache and "immutable" not in cache and "max-age=300" in cache
    assert "nosniff" in r.headers["x-content-type-options"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"offset": "-1", "size": "10"}, "offset"),
        ({"offset": "abc", "size": "10"}, "offset"),
        ({"offset": "0", "size": "0"}, "size"),
        ({"offset": "0", "size": str(21 * 1024 * 1024)}, "size"),
        ({"offset": "0", "size": "99999999999999999999999"}, "size"),
        ({"offset": "0", "size": "10", "mime": "text/html"}, "mime"),
        ({"offset": "0", "size": "10", "mime": "image/png\r\nX-Evil: 1"}, "mime"),
        ({"offset": "0", "size": "10", "mime": "image/" + "x" * 500}, "mime"),
        ({"offset": "5", "size": "10"}, "offset"),  # 10 bytes from offset 5 pass the end
    ],
)
async def test_hostile_upload_parameters_are_refused_naming_the_field(people, params, field):
    a = await people("off.a")
    data, sha = blob(10)
    r = await a.put(f"/api/evidence/{sha}", params=params, content=data)
    assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert (await a.get(f"/api/evidence/{sha}/status")).json() == {"sha256": sha, **NOTHING}


@pytest.mark.parametrize("bad", ["..%2F..%2Fetc%2Fpasswd", "a" * 63, "a" * 65, "g" * 64, "%00" + "a" * 61, "é" * 64])
async def test_hostile_hashes_are_refused_on_every_evidence_route(people, bad):
    a = await people("off.a")
    for method, path in (
        ("PUT", f"/api/evidence/{bad}"),
        ("GET", f"/api/evidence/{bad}/status"),
        ("GET", f"/api/evidence/{bad}"),
    ):
        r = await a.request(method, path, params={"offset": 0, "size": 1}, content=b"x" if method == "PUT" else None)
        assert r.status_code in (404, 415, 422), (method, path, r.status_code)
        assert r.headers["content-type"].startswith("application/json")


async def test_an_uppercase_hash_is_the_same_file(people):
    a = await people("off.a")
    data, sha = blob(500)
    assert (await put(a, sha.upper(), data, 0, len(data))).json()["complete"] is True
    assert (await a.get(f"/api/evidence/{sha}")).content == data
