"""What the reminder tests send to: a local Web Push service that decrypts every message with the
subscription's own keys (RFC 8291, aes128gcm) and checks the VAPID token (RFC 8292), and a real SMTP
server (aiosmtpd) that keeps every email. Both run on 127.0.0.1 for one test and stop after it."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import json
import os
import socket
import time
from dataclasses import dataclass, field

import http_ece
import pytest_asyncio
from aiohttp import web
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from server.push import b64url, make_vapid_keys


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Pushed:
    name: str  # which subscription
    payload: dict
    ttl: int
    urgency: str
    topic: str
    claims: dict


@dataclass
class PushService:
    """A push service for tests. `answers[name]` lists the statuses to give that subscription's next
    sends (then 201). Anything wrong with a request (bad token, cannot decrypt) is kept in `faults`."""

    vapid_public: str
    base: str = ""
    keys: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = field(default_factory=dict)
    answers: dict[str, list[int]] = field(default_factory=dict)
    received: list[Pushed] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    delay: float = 0.0  # seconds before answering: a slow push service keeps senders busy

    def subscription(self, name: str) -> dict:
        """A subscription made as a browser makes one: a P-256 key pair and 16 random bytes of auth."""
        key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        self.keys[name] = (key, auth)
        public = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": f"{self.base}/push/{name}", "keys": {"p256dh": b64url(public), "auth": b64url(auth)}}

    def check_vapid(self, header: str) -> dict:
        assert header.startswith("vapid "), header
        parts = dict(p.strip().split("=", 1) for p in header[6:].split(","))
        assert parts["k"] == self.vapid_public, "signed with another key"
        head, body, sig = parts["t"].split(".")
        assert json.loads(unb64(head)) == {"typ": "JWT", "alg": "ES256"}
        raw = unb64(sig)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(parts["k"]))
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))  # raises when forged
        claims = json.loads(unb64(body))
        assert claims["aud"] == self.base, claims
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims
        assert claims["sub"].startswith("mailto:")
        return claims

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            claims = self.check_vapid(request.headers["Authorization"])
            assert request.headers["Content-Encoding"] == "aes128gcm"
            ttl = int(request.headers["TTL"])
            assert ttl > 0
            key, auth = self.keys[name]
            plain = http_ece.decrypt(await request.read(), private_key=key, auth_secret=auth, version="aes128gcm")
        except Exception as exc:  # noqa: BLE001 - every fault is reported by the test
            self.faults.append(f"{name}: {exc!r}")
            return web.Response(status=400)
        if self.delay:
            await asyncio.sleep(self.delay)
        queued = self.answers.get(name) or []
        status = queued.pop(0) if queued else 201
        if status == 201:
            self.received.append(
                Pushed(
                    name,
                    json.loads(plain),
                    ttl,
                    request.headers.get("Urgency", ""),
                    request.headers.get("Topic", ""),
                    claims,
                )
            )
        return web.Response(status=status)


@pytest_asyncio.fixture
async def push_service():
    private, public = make_vapid_keys()
    service = PushService(public)
    service.vapid_private = private
    app = web.Application()
    app.router.add_post("/push/{name}", service.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    service.base = f"http://127.0.0.1:{port}"
    yield service
    await runner.cleanup()


class MailBox:
    """aiosmtpd's handler: keeps every message, parsed."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest_asyncio.fixture
async def smtp_server():
    box = MailBox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()
