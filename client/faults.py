"""A fault-injecting HTTP transport for tests and the simulator.

Wraps the app (through `httpx.ASGITransport`) or any inner transport. Each request takes the next fault
from `plan` (default: none):

- `lose_response`: the server handles the request (and commits), the client sees a network error;
- `fail_before`: the request never reaches the server;
- `duplicate`: the request is delivered twice (as a browser re-sending a POST); the client sees the second answer;
- `replay_old`: an earlier push is delivered again first (a late, reordered batch), then this request.

`holder.app` may be replaced at any time (a server restart: a new app instance on the same database).
"""

from __future__ import annotations

import random
from typing import Any

import httpx

FAULTS = ("none", "lose_response", "fail_before", "duplicate", "replay_old")


class AppHolder:
    def __init__(self, app: Any) -> None:
        self.app = app


class FaultyTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        holder: AppHolder | None = None,
        *,
        inner: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.holder, self.inner = holder, inner
        self.plan: list[str] = []
        self.sent_pushes: list[httpx.Request] = []
        self.rng = rng or random.Random(0)
        self.delivered = 0

    def _transport(self) -> httpx.AsyncBaseTransport:
        if self.inner is not None:
            return self.inner
        assert self.holder is not None
        return httpx.ASGITransport(app=self.holder.app)

    async def _deliver(self, request: httpx.Request) -> httpx.Response:
        self.delivered += 1
        response = await self._transport().handle_async_request(request)
        await response.aread()
        return response

    @staticmethod
    def _copy(request: httpx.Request) -> httpx.Request:
        return httpx.Request(request.method, request.url, headers=request.headers, content=request.content)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        fault = self.plan.pop(0) if self.plan else "none"
        is_push = request.url.path.endswith("/sync/push")
        if is_push:
            self.sent_pushes.append(self._copy(request))
        if fault == "fail_before":
            raise httpx.ConnectError("injected: connection failed", request=request)
        if fault == "replay_old" and len(self.sent_pushes) > 1:
            old = self.rng.choice(self.sent_pushes[:-1])
            await self._deliver(self._copy(old))
        if fault == "duplicate":
            await self._deliver(self._copy(request))
        response = await self._deliver(request)
        if fault == "lose_response":
            raise httpx.ReadError("injected: answer lost after the server handled the request", request=request)
        return response
