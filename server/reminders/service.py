"""What the reminder routes do: a phone's push subscription, a person's inbox and channel choices."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from ..errors import problem
from .models import InboxMessage, NotifyPrefs, PushSubscription

INBOX_LIMIT = 200
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,}$")


def _endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def check_endpoint(endpoint: str, allow_http: bool) -> None:
    """Push services are https; http only when the setting allows it (a local push service in tests)."""
    parts = urlsplit(endpoint)
    if not parts.hostname or parts.scheme not in (("https", "http") if allow_http else ("https",)):
        raise problem("push_endpoint_invalid", field="endpoint")


async def subscribe(user_id: int, endpoint: str, p256dh: str, auth: str, *, allow_http: bool) -> PushSubscription:
    """Save a subscription; the same endpoint sent again (a retried POST, another account on a shared
    phone) updates the one row, which then belongs to the last account that sent it."""
    check_endpoint(endpoint, allow_http)
    if not (_B64URL.match(p256dh) and 80 <= len(p256dh) <= 100 and _B64URL.match(auth) and 16 <= len(auth) <= 32):
        raise problem("push_keys_invalid", field="keys")
    h = _endpoint_hash(endpoint)
    sub = await PushSubscription.get_or_none(endpoint_hash=h)
    if sub is None:
        return await PushSubscription.create(
            user_id=user_id, endpoint=endpoint, endpoint_hash=h, p256dh=p256dh, auth=auth
        )
    sub.user_id, sub.p256dh, sub.auth = user_id, p256dh, auth
    await sub.save()
    return sub


async def unsubscribe(user_id: int, endpoint: str) -> None:
    await PushSubscription.filter(user_id=user_id, endpoint_hash=_endpoint_hash(endpoint)).delete()


def _message(m: InboxMessage) -> dict:
    return {
        "id": m.id,
        "title": m.title,
        "body": m.body,
        "url": m.url,
        "created_at": m.created_at.isoformat(),
        "read": m.read_at is not None,
    }


async def inbox(user_id: int) -> dict:
    rows = await InboxMessage.filter(user_id=user_id).order_by("-id").limit(INBOX_LIMIT)
    unread = await InboxMessage.filter(user_id=user_id, read_at__isnull=True).count()
    return {"messages": [_message(m) for m in rows], "unread": unread}


async def mark_read(user_id: int, message_id: int) -> dict:
    m = await InboxMessage.get_or_none(id=message_id, user_id=user_id)
    if m is None:
        raise problem("inbox_message_not_found")
    if m.read_at is None:  # marking twice keeps the first time
        m.read_at = datetime.now(UTC)
        await m.save(update_fields=["read_at"])
    return _message(m)


async def prefs_of(user_id: int) -> dict:
    p = await NotifyPrefs.get_or_none(user_id=user_id)
    if p is None:
        return {"push": True, "email": True, "email_address": ""}
    return {"push": p.push, "email": p.email, "email_address": p.email_address}


async def set_prefs(user_id: int, push: bool | None, email: bool | None, email_address: str | None) -> dict:
    if email_address and not _EMAIL.match(email_address):
        raise problem("email_address_invalid", field="email_address")
    p, _ = await NotifyPrefs.get_or_create(user_id=user_id)
    if push is not None:
        p.push = push
    if email is not None:
        p.email = email
    if email_address is not None:
        p.email_address = email_address
    await p.save()
    return await prefs_of(user_id)
