"""Web Push (RFC 8030/8291/8292) through pywebpush with VAPID: one message to one subscription.

What the traps of pywebpush ask for (docs: STACK-NOTES): a fresh claims dict per send (it is filled in
place with `aud` and `exp`, and a dict reused for another push service is refused with 401), a timeout
(none hangs forever on a dead socket), a TTL that is not 0 (0 means "drop unless the phone is online right
now"), an Urgency, and a Topic so a newer reminder replaces an older one still waiting at the push service.
Never called inside a database transaction: the caller claims first, commits, then sends.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async

from .config import Settings

# Answers of a push service that mean "this subscription is gone for good": delete it.
GONE_STATUSES = (404, 410)


@dataclass(frozen=True)
class PushOutcome:
    status: str  # sent / gone / failed
    detail: str = ""


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_vapid_keys() -> tuple[str, str]:
    """A new VAPID key pair: (private key as raw base64url, public key as the browser's applicationServerKey)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    public = b64url(
        key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return private, public


def topic_for(key: str) -> str:
    """A Topic header (at most 32 URL-safe base64 characters) for a reminder key such as "12/2026-11"."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", key)[:32]


class PushSender:
    """Sends Web Push messages over one aiohttp session; use `async with PushSender(settings) as s`."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.vapid = Vapid.from_string(private_key=settings.vapid_private_key) if settings.vapid_private_key else None
        self.session: aiohttp.ClientSession | None = None

    @property
    def enabled(self) -> bool:
        return self.vapid is not None

    async def __aenter__(self) -> PushSender:
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc) -> None:
        if self.session:
            await self.session.close()

    async def send(self, subscription: dict, payload: dict, *, topic: str, urgency: str = "normal") -> PushOutcome:
        s = self.settings
        try:
            await webpush_async(
                subscription,
                data=json.dumps(payload, ensure_ascii=False),
                vapid_private_key=self.vapid,
                vapid_claims={"sub": s.vapid_subject},  # fresh per send: pywebpush fills it in place
                ttl=s.push_ttl,
                timeout=aiohttp.ClientTimeout(total=s.push_timeout),
                headers={"Urgency": urgency, "Topic": topic_for(topic)},
                aiohttp_session=self.session,
            )
        except WebPushException as exc:
            code = exc.response.status if exc.response is not None else 0
            if code in GONE_STATUSES:
                return PushOutcome("gone", f"HTTP {code}")
            return PushOutcome("failed", f"HTTP {code}")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return PushOutcome("failed", f"{exc.__class__.__name__}: {exc}"[:250])
        return PushOutcome("sent")
