"""Several `eiso remind` processes (cron) at once, as with the scheduler in two server processes: the
ledger lets exactly one of them send each message, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from datetime import timedelta

from server.reminders import service
from server.reminders.models import ReminderLedger

from .reminder_fixtures import *  # noqa: F401 - fixtures
from .reminder_world import DUE, at, channel_env, channel_settings, make_world, subscribe

PROCESSES = 4


async def _remind(env: dict[str, str], now: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "remind",
        "--now",
        now,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode, (out + err).decode()


async def test_processes_reminding_at_once_send_each_message_exactly_once(db, settings, push_service, smtp_server):
    w = await make_world()
    s = channel_settings(settings, push_service, smtp_server)
    for name in ("off1", "off2", "rev"):
        await service.set_prefs(w[name].id, None, None, f"{name}@gov.vn")
        await subscribe(push_service, f"{name}-phone", w[name])
    env = channel_env(s)
    push_service.delay = 1.0  # every process is still sending while the others claim

    for day in (DUE - timedelta(days=7), DUE + timedelta(days=1)):
        results = await asyncio.gather(*(_remind(env, at(day, 7).isoformat()) for _ in range(PROCESSES)))
        assert [code for code, _ in results] == [0] * PROCESSES, [text for _, text in results]

    # 7 days before: off1 and off2 on 3 channels; 1 day after: off1, off2 and the reviewer's summary.
    rows = await ReminderLedger.all().values_list("stage", "recipient_id", "channel", "status")
    assert len(rows) == 2 * 3 + 3 * 3 and {r[3] for r in rows} == {"sent"}
    assert push_service.faults == []
    assert Counter(p.name for p in push_service.received) == {"off1-phone": 2, "off2-phone": 2, "rev-phone": 1}
    assert Counter(m["To"] for m in smtp_server.messages) == {"off1@gov.vn": 2, "off2@gov.vn": 2, "rev@gov.vn": 1}
