"""Fixtures and helpers for the sync tests: import the fixtures by name into the test module."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import httpx
import pytest_asyncio

from client.sync_client import SyncClient
from server.services.checklists import create_checklist
from tests.conftest import DEMO_PASSWORD, template_id, unit_id

PERIODS = {
    "conversion": "once",
    "rollout": "once",
    "self_assessment": "2026",
    "monthly_report": "2026-11",
    "annual_report": "2026",
}


async def make_checklist(unit_code: str, template_code: str = "self_assessment", username: str = "admin") -> str:
    c = await create_checklist(
        await unit_id(unit_code), await template_id(template_code), PERIODS[template_code], username
    )
    return c.id


@pytest_asyncio.fixture
async def device(app, seeded, tmp_path) -> Any:
    """device("xa.iatoi", skew_ms=0, transport=None) -> a logged-in, registered SyncClient on the app."""
    made: list[SyncClient] = []
    counter = itertools.count()

    async def _device(
        username: str,
        *,
        skew_ms: int = 0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], int] | None = None,
        batch_size: int = 500,
    ) -> SyncClient:
        import time

        clock = clock or (lambda: int(time.time() * 1000) + skew_ms)
        c = SyncClient(
            tmp_path / f"{username}-{next(counter)}.sqlite3",
            transport=transport or httpx.ASGITransport(app=app),
            clock=clock,
            batch_size=batch_size,
        )
        await c.login(username, DEMO_PASSWORD)
        await c.register(f"{username} phone")
        made.append(c)
        return c

    yield _device
    for c in made:
        try:
            await c.close()
        except Exception:  # noqa: BLE001 - already closed by the test
            pass
