"""The push answer over the wire: gzip'd by the route at a fast level, the same JSON either way; a
refused push still keeps its payload as received (serialised only when refused)."""

from __future__ import annotations

import gzip
import json
import time

from sync.models import Quarantine
from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)


def _body(device_id: str, edits: list[dict]) -> bytes:
    doc = {"protocol": 1, "device_id": device_id, "client_ms": int(time.time() * 1000), "edits": edits}
    return json.dumps(doc, ensure_ascii=False).encode()


NOW = int(time.time() * 1000)


def _edits(cid: str, n: int, now: int = NOW) -> list[dict]:
    return [
        {"seq": s, "kind": "answer", "checklist_id": cid, "item_key": "c4_1_context", "value": "yes" if s % 2 else "no",
         "base_version": 0, "device_ms": now}
        for s in range(1, n + 1)
    ]  # fmt: skip


async def test_push_answer_is_gzipped_when_asked_and_identical_when_not(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    http = a.http
    headers = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}
    r = await http.post("/api/sync/push", content=_body(a.device_id, _edits(cid, 40)), headers=headers)
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip" and "Accept-Encoding" in r.headers["vary"]
    assert int(r.headers["content-length"]) < len(r.content)  # what came over the wire was packed
    gz = r.json()
    # The same push again (all duplicates), without gzip: the same results, sent plain.
    r = await http.post(
        "/api/sync/push",
        content=_body(a.device_id, _edits(cid, 40)),
        headers={"Content-Type": "application/json", "Accept-Encoding": "identity"},
    )
    assert r.status_code == 200 and "content-encoding" not in r.headers
    plain = r.json()
    assert [{k: v for k, v in x.items() if k != "duplicate"} for x in plain["results"]] == gz["results"]
    assert all(x["duplicate"] for x in plain["results"]) and plain["last_seq"] == gz["last_seq"] == 40


async def test_small_push_answer_goes_plain(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    r = await a.http.post(
        "/api/sync/push",
        content=gzip.compress(_body(a.device_id, [])),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip", "Accept-Encoding": "gzip"},
    )
    assert r.status_code == 200 and "content-encoding" not in r.headers and cid


async def test_push_to_unknown_device_keeps_the_payload_as_received(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    edits = _edits(cid, 2)
    edits[1]["extra"] = "trường lạ"  # malformed edits are kept as sent, too
    r = await a.http.post(
        "/api/sync/push",
        content=_body("no-such-device-0001", edits),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code in (403, 404, 409) and r.json()["error"] == "unknown_device"
    q = await Quarantine.get(device_id="no-such-device-0001")
    assert q.reason == "unknown_device"
    assert json.loads(q.payload)["edits"] == edits
