"""Request ids, one JSON log line per request, `/metrics` (who may read it, what it counts, summed over
workers) and `/healthz` (each check failing on its own)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import httpx

from server.app import create_app
from server.config import Settings
from server.health import migration_names
from server.models import User
from server.observability import Counters, JsonFormatter
from server.reminders.models import ReminderLedger
from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)
from tests.test_sync_engine import raw_push


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in a Prometheus text exposition (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(name + "{") and line[len(name) + 1 : line.index("}")] == want:
            return float(line.rsplit(" ", 1)[1])
        if not labels and line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


# ------------------------------------------------------------------------------------------ request ids


async def test_a_request_id_is_made_when_none_is_given_and_returned(anon):
    a = await anon.get("/api/session")
    b = await anon.get("/api/session")
    assert re.fullmatch(r"[0-9a-f]{32}", a.headers["x-request-id"])
    assert a.headers["x-request-id"] != b.headers["x-request-id"]


async def test_a_proxys_request_id_is_kept_and_a_forged_one_replaced(anon):
    r = await anon.get("/api/session", headers={"X-Request-Id": "nginx-7f3a.42"})
    assert r.headers["x-request-id"] == "nginx-7f3a.42"
    for bad in ["a b", "x" * 200, 'id"}{"user_id": 1', "é".encode("latin-1")]:
        r = await anon.get("/api/session", headers={"X-Request-Id": bad})
        assert r.headers["x-request-id"] != bad
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])


async def test_the_request_id_header_is_a_setting(settings):
    s = Settings(**{**settings.__dict__, "request_id_header": "X-Correlation-Id"})
    async with client(create_app(s, init_db=False)) as c:
        r = await c.get("/api/session", headers={"X-Correlation-Id": "corr-1", "X-Request-Id": "other"})
    assert r.headers["x-request-id"] == "corr-1"


# ------------------------------------------------------------------------------------------------ logs


async def test_one_json_log_line_per_request_with_route_template_status_time_and_user(login, caplog):
    official = await login("xa.iatoi")
    caplog.set_level(logging.INFO, logger="eiso.request")
    caplog.clear()
    r = await official.get("/api/checklists/not-a-checklist", headers={"X-Request-Id": "req-1"})
    assert r.status_code == 404
    records = [rec for rec in caplog.records if rec.name == "eiso.request"]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    me = await User.get(username="xa.iatoi")
    assert line["request_id"] == "req-1"
    assert line["method"] == "GET"
    assert line["route"] == "/api/checklists/{checklist_id}"  # the template: no ids in logs or metrics
    assert line["status"] == 404
    assert line["error"] == "not_found"
    assert isinstance(line["ms"], float) and line["ms"] >= 0
    assert line["user_id"] == me.id
    assert line["level"] == "info" and line["ts"].endswith("Z")


async def test_a_log_line_is_one_line_whatever_the_request_carries(anon, caplog):
    caplog.set_level(logging.INFO, logger="eiso.request")
    caplog.clear()
    await anon.get('/no/such/page%0A{"status":200}', headers={"X-Request-Id": b"a\x0bb"})
    text = JsonFormatter().format(caplog.records[-1])
    assert "\n" not in text
    assert json.loads(text)["route"] == "<unmatched>"


# --------------------------------------------------------------------------------------------- metrics


async def test_metrics_are_refused_from_another_machine_or_through_a_proxy(settings):
    app = create_app(settings, init_db=False)
    remote = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=remote, base_url="http://testserver") as c:
        r = await c.get("/metrics")
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    async with client(app) as c:  # loopback, but a proxy on this machine forwarded it
        r = await c.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 403


async def test_with_a_token_metrics_need_it_from_anywhere(settings, seeded):
    app = create_app(Settings(**{**settings.__dict__, "metrics_token": "s3cret-token"}), init_db=False)
    async with client(app) as c:
        assert (await c.get("/metrics")).status_code == 403  # loopback alone is not enough now
        assert (await c.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 403
        r = await c.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")


async def test_metrics_count_requests_push_outcomes_refusals_and_unsent_reminders(app, device, anon):
    cid = await make_checklist("KT-147")
    phone = await device("xa.iatoi")
    await phone.pull()
    phone.edit_answer(cid, "c4_1_context", "yes")
    phone.edit_answer("00000000-0000-4000-8000-000000000000", "c4_1_context", "no")  # not in scope
    results = await phone.push()
    assert sorted(r["outcome"] for r in results) == ["applied", "rejected"]
    reason = next(r["reason"] for r in results if r["outcome"] == "rejected")
    refused = await phone.http.post(
        "/api/sync/push", json={"protocol": 999, "device_id": "x", "client_ms": 1, "edits": []}
    )
    assert refused.status_code >= 400
    code = refused.json()["error"]
    await ReminderLedger.create(
        rule="1", period="2026-11", stage="before-7", recipient_id=1, channel="inbox", claim="t"
    )

    text = (await anon.get("/metrics")).text
    assert "# TYPE eiso_http_requests_total counter" in text
    assert sample(text, "eiso_http_requests_total", method="POST", route="/api/sync/push", status="200") >= 1
    assert sample(text, "eiso_push_edits_total", outcome="applied", reason="") == 1
    assert sample(text, "eiso_push_edits_total", outcome="rejected", reason=reason) == 1
    assert sample(text, "eiso_sync_refusals_total", route="/api/sync/push", code=code) == 1
    assert sample(text, "eiso_reminders_unsent", status="sending") == 1
    assert "/api/checklists/" + cid not in text  # route templates only


async def test_metrics_count_a_sequence_gap_as_a_refusal_of_the_push(app, device, anon):
    cid = await make_checklist("KT-147")
    phone = await device("xa.iatoi")
    await phone.pull()
    gap = {"seq": 5, "kind": "answer", "checklist_id": cid, "item_key": "c4_1_context", "value": "yes",
           "base_version": 0, "device_ms": 1}  # fmt: skip
    r = await phone.http.post(
        "/api/sync/push", json={"protocol": 1, "device_id": phone.device_id, "client_ms": 1, "edits": [gap]}
    )
    assert r.status_code == 409 and r.json()["error"] == "sequence_gap"
    text = (await anon.get("/metrics")).text
    assert sample(text, "eiso_sync_refusals_total", route="/api/sync/push", code="sequence_gap") == 1


def test_workers_counters_are_summed_through_the_shared_folder(tmp_path):
    a, b = Counters(tmp_path / "m"), Counters(tmp_path / "m")
    for _ in range(3):
        a.count("GET", "/api/units", 200, 0.01, None)
    b.count("GET", "/api/units", 200, 0.02, None)
    b.count("POST", "/api/sync/push", 409, 0.02, "protocol_too_old")
    a.flush()
    b.flush()
    for counters in (a, b):  # whichever worker the scrape reaches
        totals = counters.totals()
        assert totals["requests"][("GET", "/api/units", "200")] == 4
        assert totals["refusals"][("/api/sync/push", "protocol_too_old")] == 1
    assert len(list((tmp_path / "m").glob("*.json"))) == 2


# --------------------------------------------------------------------------------------------- healthz


async def test_healthz_names_migrations_not_applied(anon, seeded):
    """The suite's database is made from the models, not by migrations: a server on it is not healthy."""
    r = await anon.get("/healthz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"].startswith("pending: ")
    assert set(body["checks"]["migrations"][len("pending: ") :].split(", ")) == migration_names()
    assert r.headers["retry-after"]


async def test_healthz_fails_when_the_evidence_store_cannot_be_written(settings, tmp_path, seeded):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = create_app(Settings(**{**settings.__dict__, "evidence_dir": Path(blocker / "evidence")}), init_db=False)
    async with client(app) as c:
        r = await c.get("/healthz")
    assert r.status_code == 503
    assert r.json()["checks"]["evidence_store"] == "not writable"


async def test_the_edit_tally_equals_the_edit_log_after_pushes_of_every_outcome(device):
    """/metrics reads the tally each push keeps; it must say what counting the log would."""
    from tortoise import connections

    cid = await make_checklist("KT-147")
    a, b = await device("xa.iatoi"), await device("xa.iatoi")
    for phone in (a, b):
        await phone.pull()
    a.edit_answer(cid, "c4_1_context", "yes")
    b.edit_answer(cid, "c4_1_context", "no")  # a conflict with a's
    b.edit_answer("00000000-0000-4000-8000-000000000000", "c4_1_context", "no")  # rejected: not in scope
    await a.push()
    await b.push()
    c = await device("xa.iatoi")
    again = [{"seq": 1, "kind": "answer", "checklist_id": cid, "item_key": "c4_2_parties", "value": "yes",
              "base_version": 0, "device_ms": 1795399000000}]  # fmt: skip
    for _ in range(2):  # sent twice (its answer was lost): answered from the record, counted once
        assert (await raw_push(c, c.device_id, again)).status_code == 200
    conn = connections.get("default")
    tally = {(r["outcome"], r["reason"]): r["n"] for r in await conn.execute_query_dict("SELECT * FROM edit_tally")}
    counted = await conn.execute_query_dict("SELECT outcome, reason, COUNT(*) AS n FROM edit GROUP BY outcome, reason")
    assert tally == {(r["outcome"], r["reason"]): r["n"] for r in counted}
    assert {o for o, _r in tally} == {"applied", "conflict", "rejected"}
