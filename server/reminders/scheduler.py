"""The reminder scheduler inside the server: a lifespan task calling `run_once` every
EISO_REMIND_INTERVAL seconds. Every server process may run one, and `eiso remind` from cron too: the
ledger lets only one of them send each message."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from ..config import Settings
from .run import run_once

log = logging.getLogger("eiso.reminders")


class Scheduler:
    def __init__(self, settings: Settings, clock: Callable[[], datetime] | None = None):
        self.settings = settings
        self.clock = clock  # None: the real clock (tests pass their own)
        self.task = asyncio.create_task(self._loop(), name="eiso-reminders")

    async def _loop(self) -> None:
        while True:
            try:
                await run_once(self.settings, self.clock() if self.clock else None)
            except Exception:  # noqa: BLE001 - a failed run must not stop the next one
                log.exception("reminder run failed")
            await asyncio.sleep(self.settings.remind_interval)

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def start_scheduler(settings: Settings, clock: Callable[[], datetime] | None = None) -> Scheduler | None:
    return Scheduler(settings, clock) if settings.remind_interval > 0 else None
