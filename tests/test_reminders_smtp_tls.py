"""Email through a relay that demands STARTTLS and a login, as an official mail server does: the
reminder goes out encrypted and authenticated (a password with Vietnamese letters too), and a wrong
password is a failed channel retried later."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import ssl
from datetime import timedelta

import pytest_asyncio
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from server.reminders import service
from server.reminders.models import ReminderLedger
from server.reminders.run import run_once

from .reminder_fixtures import free_port
from .reminder_world import DUE, at, channel_settings, make_world

USER, PASSWORD = "eiso-relay", "mật-khẩu-relay"


def self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "relay.pem", tmp_path / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class Relay:
    def __init__(self):
        self.messages = []
        self.secure = []

    async def handle_DATA(self, server, session, envelope):
        self.secure.append((session.ssl is not None, session.authenticated))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@pytest_asyncio.fixture
async def relay(tmp_path, monkeypatch):
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the sender's default context trusts this relay only
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Relay()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


async def test_email_goes_through_a_relay_that_demands_starttls_and_a_login(db, settings, relay):
    w = await make_world()
    await service.set_prefs(w["off1"].id, None, None, "off1@xa.gov.vn")
    s = channel_settings(settings)
    s.smtp_host, s.smtp_port, s.smtp_starttls, s.smtp_user, s.smtp_password = (
        "127.0.0.1",
        relay.port,
        True,
        USER,
        "mật-khẩu-sai",
    )
    s.smtp_timeout = 2  # this relay answers a refused login by going silent: the timeout ends the try
    day = DUE - timedelta(days=3)
    report = await run_once(s, at(day, 8))
    assert report.failed == 1 and relay.messages == []  # refused login: the email waits for a retry
    row = await ReminderLedger.get(channel="email")
    assert row.status == "failed" and row.last_error and row.next_try_at

    s.smtp_password = PASSWORD
    await run_once(s, at(day, 8, 6))
    assert relay.secure == [(True, True)]
    assert relay.messages[0]["Subject"] == "Sắp đến hạn: Báo cáo thử nghiệm «ISO»"
    assert (await ReminderLedger.get(channel="email")).status == "sent"
