"""Reminder routes: push subscriptions, the inbox, a person's channel choices, the province's policy.

POST/DELETE /api/push/subscriptions, GET /api/push/key, GET /api/inbox, POST /api/inbox/{id}/read,
GET/PUT /api/notify/prefs, GET/PUT /api/reminders/policy (PUT: provincial admin only).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import auth
from ..errors import problem
from ..reminders import service
from ..reminders.policy import Policy, load_policy, save_policy
from . import JSON, int_param, read_body

Text = Annotated[str, Field(strict=True, max_length=1024)]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Keys(Strict):
    p256dh: Annotated[str, Field(max_length=128)]
    auth: Annotated[str, Field(max_length=64)]


class SubscriptionIn(Strict):
    endpoint: Text
    keys: Keys
    expirationTime: int | None = None  # what PushSubscription.toJSON() sends; unused


class SubscriptionOut(Strict):
    endpoint: Text


class PrefsIn(Strict):
    push: bool | None = None
    email: bool | None = None
    email_address: Annotated[str, Field(max_length=254)] | None = None


async def push_key(request: Request) -> JSON:
    await auth.require_user(request)
    key = request.app.state.settings.vapid_public_key
    if not key:
        raise problem("push_not_configured")
    return JSON({"public_key": key})


async def add_subscription(request: Request) -> JSON:
    user = await auth.require_user(request)
    body = await read_body(request, SubscriptionIn)
    sub = await service.subscribe(
        user.id,
        body.endpoint,
        body.keys.p256dh,
        body.keys.auth,
        allow_http=request.app.state.settings.push_allow_http,
    )
    return JSON({"id": sub.id}, status_code=201)


async def remove_subscription(request: Request) -> Response:
    user = await auth.require_user(request)
    body = await read_body(request, SubscriptionOut)
    await service.unsubscribe(user.id, body.endpoint)
    return Response(status_code=204)


async def get_inbox(request: Request) -> JSON:
    user = await auth.require_user(request)
    return JSON(await service.inbox(user.id))


async def read_message(request: Request) -> JSON:
    user = await auth.require_user(request)
    return JSON(await service.mark_read(user.id, int_param(request, "message_id", minimum=1)))


async def get_prefs(request: Request) -> JSON:
    user = await auth.require_user(request)
    return JSON(await service.prefs_of(user.id))


async def put_prefs(request: Request) -> JSON:
    user = await auth.require_user(request)
    body = await read_body(request, PrefsIn)
    return JSON(await service.set_prefs(user.id, body.push, body.email, body.email_address))


async def get_policy(request: Request) -> JSON:
    await auth.require_user(request)
    return JSON((await load_policy()).model_dump())


async def put_policy(request: Request) -> JSON:
    user = await auth.require_user(request, "admin")
    policy = await read_body(request, Policy)
    return JSON((await save_policy(policy, user.username)).model_dump())


routes = [
    Route("/api/push/key", push_key, methods=["GET"]),
    Route("/api/push/subscriptions", add_subscription, methods=["POST"]),
    Route("/api/push/subscriptions", remove_subscription, methods=["DELETE"]),
    Route("/api/inbox", get_inbox, methods=["GET"]),
    Route("/api/inbox/{message_id}/read", read_message, methods=["POST"]),
    Route("/api/notify/prefs", get_prefs, methods=["GET"]),
    Route("/api/notify/prefs", put_prefs, methods=["PUT"]),
    Route("/api/reminders/policy", get_policy, methods=["GET"]),
    Route("/api/reminders/policy", put_policy, methods=["PUT"]),
]
