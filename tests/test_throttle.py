"""Login throttling that cannot be turned against users (issue 17): per (account, address) with a growing
delay, the owner from another address still gets in, and forwarded headers are believed only from the
proxies EISO_TRUSTED_PROXIES names (in the throttle and in the audit log)."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import httpx
import pytest
import pytest_asyncio

from server.auth import FIRST_DELAY_S, PAIR_MEMORY_S
from server.models import AuditLog, LoginFailure, Session
from server.security import forwarded_client
from tests.conftest import DEMO_PASSWORD

LOCAL = (ipaddress.ip_network("127.0.0.1/32"),)


@pytest_asyncio.fixture
async def client_from(app):
    """client_from("203.0.113.7") -> an anonymous client whose socket address is that one."""
    made: list[httpx.AsyncClient] = []

    def _client(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        made.append(httpx.AsyncClient(transport=transport, base_url="http://testserver"))
        return made[-1]

    yield _client
    for c in made:
        await c.aclose()


async def login(c: httpx.AsyncClient, username: str, password: str, **headers: str) -> httpx.Response:
    return await c.post("/api/session", json={"username": username, "password": password}, headers=headers)


async def age_failures(seconds: int) -> None:
    """As if every recorded failure happened `seconds` earlier."""
    for f in await LoginFailure.all():
        await LoginFailure.filter(id=f.id).update(at=f.at - timedelta(seconds=seconds))


async def test_failures_from_one_address_never_lock_the_owner_out_elsewhere(client_from, seeded):
    attacker, owner = client_from("198.51.100.66"), client_from("203.0.113.7")
    for _ in range(5):
        assert (await login(attacker, "xa.tumorong", "sai")).status_code == 401
    r = await login(attacker, "xa.tumorong", DEMO_PASSWORD)
    assert r.status_code == 429 and r.json()["error"] == "too_many_attempts"
    assert int(r.headers["retry-after"]) == r.json()["retry_after"] <= FIRST_DELAY_S
    # The owner, from the commune office: in at once.
    assert (await login(owner, "xa.tumorong", DEMO_PASSWORD)).status_code == 201
    # Their success does not free the attacker's address.
    assert (await login(attacker, "xa.tumorong", DEMO_PASSWORD)).status_code == 429


async def test_each_failure_past_the_allowance_doubles_the_wait(client_from, seeded):
    c = client_from("198.51.100.70")
    for _ in range(5):
        await login(c, "xa.iatoi", "sai")
    waits = []
    for _ in range(4):
        r = await login(c, "xa.iatoi", "sai")
        assert r.status_code == 429
        waits.append(r.json()["retry_after"])
        await age_failures(waits[-1] + 1)  # the wait is over: one more try is allowed, and fails
        assert (await login(c, "xa.iatoi", "sai")).status_code == 401
    assert waits[0] <= FIRST_DELAY_S and all(b > a * 1.8 for a, b in zip(waits, waits[1:], strict=False)), waits
    # The wait never passes the window (15 minutes), however many failures.
    for _ in range(10):
        await age_failures(3600)
        await login(c, "xa.iatoi", "sai")
    r = await login(c, "xa.iatoi", "sai")
    assert r.status_code == 429 and r.json()["retry_after"] <= 900
    # Once it is over, the right password gets in and the pair's failures are forgotten.
    await age_failures(901)
    assert (await login(c, "xa.iatoi", DEMO_PASSWORD)).status_code == 201
    assert not await LoginFailure.exists(key="pair:xa.iatoi|198.51.100.70")


async def test_failures_no_throttle_looks_at_any_more_are_forgotten(client_from, seeded):
    await login(client_from("198.51.100.90"), "nguoi-la", "sai")  # an address that tried once, never again
    await age_failures(PAIR_MEMORY_S + 1)
    assert await LoginFailure.exists(key="addr:198.51.100.90")
    assert (await login(client_from("198.51.100.91"), "xa.iatoi", "sai")).status_code == 401
    assert not await LoginFailure.exists(key="addr:198.51.100.90")
    assert await LoginFailure.filter(key__in=["addr:198.51.100.91", "pair:xa.iatoi|198.51.100.91"]).count() == 2


async def test_one_address_trying_many_accounts_is_slowed_down(client_from, seeded):
    sprayer, elsewhere = client_from("198.51.100.80"), client_from("203.0.113.8")
    for i in range(20):
        assert (await login(sprayer, f"nguoi{i}", "sai")).status_code == 401
    assert (await login(sprayer, "admin", DEMO_PASSWORD)).status_code == 429
    assert (await login(elsewhere, "admin", DEMO_PASSWORD)).status_code == 201


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(client_from, seeded, settings):
    assert settings.trusted_proxies == ()
    c = client_from("127.0.0.1")  # what a local proxy that is not configured looks like
    for i in range(5):  # a new forged address each time: the throttle is not fooled
        r = await login(c, "xa.iatoi", "sai", **{"X-Forwarded-For": f"10.9.8.{i}"})
        assert r.status_code == 401
    r = await login(c, "xa.iatoi", DEMO_PASSWORD, **{"X-Forwarded-For": "10.9.8.200", "Forwarded": "for=10.9.8.201"})
    assert r.status_code == 429
    await LoginFailure.all().delete()
    assert (await login(c, "admin", DEMO_PASSWORD, **{"X-Forwarded-For": "6.6.6.6"})).status_code == 201
    entry = await AuditLog.get(action="login", username="admin")
    assert entry.detail == {"address": "127.0.0.1"}
    assert (await Session.get(user__username="admin")).address == "127.0.0.1"


async def test_forwarded_headers_from_a_trusted_proxy_name_the_client(client_from, seeded, settings, monkeypatch):
    monkeypatch.setattr(settings, "trusted_proxies", LOCAL)
    proxy = client_from("127.0.0.1")
    # The client wrote its own X-Forwarded-For; the proxy appended the address it saw: that one counts.
    r = await login(proxy, "admin", DEMO_PASSWORD, **{"X-Forwarded-For": "6.6.6.6, 203.0.113.50"})
    assert r.status_code == 201
    assert (await AuditLog.get(action="login", username="admin")).detail == {"address": "203.0.113.50"}
    # Throttling follows the real client: failures behind the proxy from one client do not stop another.
    for _ in range(5):
        await login(proxy, "xa.iatoi", "sai", **{"X-Forwarded-For": "198.51.100.9"})
    assert (await login(proxy, "xa.iatoi", DEMO_PASSWORD, **{"X-Forwarded-For": "198.51.100.9"})).status_code == 429
    r = await login(proxy, "xa.iatoi", DEMO_PASSWORD, **{"X-Forwarded-For": "203.0.113.51"})
    assert r.status_code == 201
    # The same proxy speaking RFC 7239.
    await login(proxy, "xa.tumorong", DEMO_PASSWORD, Forwarded='for="[2001:db8::7]:4711";proto=https')
    assert (await AuditLog.get(action="login", username="xa.tumorong")).detail == {"address": "2001:db8::7"}
    # A client talking to the server directly is not a proxy: its header is ignored.
    direct = client_from("203.0.113.99")
    await login(direct, "huyen.tumorong", DEMO_PASSWORD, **{"X-Forwarded-For": "127.0.0.1"})
    assert (await AuditLog.get(action="login", username="huyen.tumorong")).detail == {"address": "203.0.113.99"}


@pytest.mark.parametrize(
    ("peer", "headers", "trusted", "expected"),
    [
        ("203.0.113.1", [(b"x-forwarded-for", b"1.2.3.4")], (), "203.0.113.1"),
        ("127.0.0.1", [(b"x-forwarded-for", b"1.2.3.4")], (), "127.0.0.1"),
        ("127.0.0.1", [(b"x-forwarded-for", b"1.2.3.4")], LOCAL, "1.2.3.4"),
        ("127.0.0.1", [(b"x-forwarded-for", b"9.9.9.9, 1.2.3.4")], LOCAL, "1.2.3.4"),
        ("127.0.0.1", [(b"x-forwarded-for", b"9.9.9.9"), (b"x-forwarded-for", b"1.2.3.4")], LOCAL, "1.2.3.4"),
        # two proxies in a row, both trusted: the address before them
        (
            "10.0.0.2",
            [(b"x-forwarded-for", b"9.9.9.9, 1.2.3.4, 10.0.0.1")],
            (ipaddress.ip_network("10.0.0.0/8"),),
            "1.2.3.4",
        ),
        ("127.0.0.1", [(b"x-forwarded-for", b"garbage")], LOCAL, "127.0.0.1"),
        ("127.0.0.1", [(b"x-forwarded-for", b"")], LOCAL, "127.0.0.1"),
        ("127.0.0.1", [], LOCAL, "127.0.0.1"),
        ("127.0.0.1", [(b"forwarded", b"for=_hidden")], LOCAL, "127.0.0.1"),
        ("127.0.0.1", [(b"forwarded", b'for="1.2.3.4:80", for=5.6.7.8')], LOCAL, "5.6.7.8"),
        ("127.0.0.1", [(b"forwarded", b"For=5.6.7.8"), (b"x-forwarded-for", b"1.1.1.1")], LOCAL, "5.6.7.8"),
        ("::ffff:127.0.0.1", [(b"x-forwarded-for", b"1.2.3.4")], LOCAL, "1.2.3.4"),
        ("127.0.0.1", [(b"x-forwarded-for", b"1.2.3.4\x00")], LOCAL, "127.0.0.1"),
    ],
)
def test_the_client_address_walks_the_chain_only_through_trusted_proxies(peer, headers, trusted, expected):
    assert forwarded_client(peer, headers, trusted) == expected


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_eiso_serve_believes_forwarded_headers_only_from_configured_proxies(tmp_path, trusted):
    """Through the real server (uvicorn, a socket from 127.0.0.1): uvicorn's own proxy handling would
    believe any X-Forwarded-For from 127.0.0.1; only EISO_TRUSTED_PROXIES may make the server do so."""
    from tests.browser_fixtures import drop_database, free_port, fresh_database_url, serve

    db_url = fresh_database_url(tmp_path)
    env = {"EISO_LOGIN_MAX_FAILURES": "3", "EISO_TRUSTED_PROXIES": trusted}
    server = serve(db_url, tmp_path / "evidence", free_port(), tmp_path / "server.log", extra_env=env)
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as c:
            for i in range(4):
                r = c.post(
                    "/api/session",
                    json={"username": "khong.ai", "password": "sai"},
                    headers={"X-Forwarded-For": f"10.0.0.{i}"},
                )
                # Untrusted: one address, throttled after 3. Trusted: four clients, none throttled.
                assert r.status_code == (429 if i == 3 and not trusted else 401), (i, r.text)
        keys = {k for (k,) in server.sql("SELECT key FROM login_failure")}
        if trusted:
            assert keys == {f"pair:khong.ai|10.0.0.{i}" for i in range(4)} | {f"addr:10.0.0.{i}" for i in range(4)}
        else:
            assert keys == {"pair:khong.ai|127.0.0.1", "addr:127.0.0.1"}
    finally:
        server.stop()
        drop_database(db_url)
