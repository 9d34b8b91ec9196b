"""Hypothesis drives several devices through a fault-injecting transport and server restarts.

After each run every device syncs with a healthy network, then: every edit made on any device was
recorded exactly once on the server (seqs 1..n, nothing lost), each device knows every edit's outcome and
it equals the server's, the outboxes are empty, and every device's replica equals the server's state of
its scope (convergence).
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
from pathlib import Path

import httpx
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from client.faults import FAULTS, AppHolder, FaultyTransport
from client.sync_client import SyncClient, SyncFailed
from server.app import create_app
from server.auth import scope_unit_ids
from server.models import User
from sync.models import Device, Edit
from sync.state import server_replica
from tests.conftest import DEMO_PASSWORD, MUTABLE_TABLES, template_id, unit_id, wipe
from tests.sync_fixtures import make_checklist

USERS = ("xa.iatoi", "xa.iatoi", "admin")
KEYS = ("c4_1_context", "c4_2_interested_parties", "c4_3_scope")
VALUES = ("yes", "no", "partial", "na")
YEAR = 365 * 86_400_000
SKEWS = (0, 3 * YEAR, -2 * YEAR)
NEW_PERIODS = ("2025", "2024")  # self-assessments started offline, by several devices at once


def make_machine(loop: asyncio.AbstractEventLoop, app_settings):
    def run(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=120)

    class SyncMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.tmp = Path(tempfile.mkdtemp(prefix="eiso-stateful-"))
            self.holder = AppHolder(create_app(app_settings, init_db=False))
            self.files = itertools.count()
            self.clients: list[SyncClient] = []
            self.transports: list[FaultyTransport] = []
            self.made = [0] * len(USERS)
            self.created: list[list[str]] = [[] for _ in USERS]  # checklist ids each device made
            try:
                self.cid = run(self._setup())
            except BaseException:  # no teardown follows a failed set-up
                self._close()
                raise

        async def _setup(self) -> str:
            await wipe(MUTABLE_TABLES)
            cid = await make_checklist("KT-147")
            self.unit_id, self.template_id = await unit_id("KT-147"), await template_id("self_assessment")
            for i, username in enumerate(USERS):
                t = FaultyTransport(self.holder)
                skew = SKEWS[i % len(SKEWS)]
                c = SyncClient(
                    self.tmp / f"d{i}.sqlite3",
                    transport=t,
                    clock=lambda s=skew: int(__import__("time").time() * 1000) + s,
                )
                await c.login(username, DEMO_PASSWORD)
                await c.register()
                await c.pull()
                self.clients.append(c)
                self.transports.append(t)
            return cid

        @rule(
            d=st.integers(0, len(USERS) - 1),
            key=st.sampled_from(KEYS),
            value=st.sampled_from(VALUES),
            note=st.sampled_from([None, "", "ghi chú"]),
        )
        def edit(self, d, key, value, note):
            self.clients[d].edit_answer(self.cid, key, value, note=note)
            self.made[d] += 1

        @rule(d=st.integers(0, len(USERS) - 1), period=st.sampled_from(NEW_PERIODS))
        def create(self, d, period):
            self.created[d].append(self.clients[d].create_checklist(self.unit_id, self.template_id, period))
            self.made[d] += 1

        @precondition(lambda self: any(self.created))
        @rule(d=st.integers(0, len(USERS) - 1), pick=st.integers(0, 7), key=st.sampled_from(KEYS))
        def edit_created(self, d, pick, key):
            mine = self.created[d]
            if mine:
                self.clients[d].edit_answer(mine[pick % len(mine)], key, VALUES[pick % len(VALUES)])
                self.made[d] += 1

        @rule(d=st.integers(0, len(USERS) - 1), faults=st.lists(st.sampled_from(FAULTS), max_size=3))
        def sync(self, d, faults):
            self.transports[d].plan = list(faults)
            try:
                run(self.clients[d].sync())
            except (httpx.TransportError, SyncFailed):
                pass
            self.transports[d].plan = []

        @rule(d=st.integers(0, len(USERS) - 1))
        def crash(self, d):
            """The app is killed (after saving, maybe before sending) and started again from its store."""
            old = self.clients[d]
            run(old.http.aclose())
            old.db.close()
            self.clients[d] = SyncClient(old.path, transport=self.transports[d], clock=old.clock)

        @rule()
        def restart_server(self):
            self.holder.app = create_app(app_settings, init_db=False)

        @precondition(lambda self: any(c.conflicts(open_only=True) for c in self.clients[:2]))
        @rule(d=st.integers(0, 1), value=st.sampled_from(VALUES))
        def resolve(self, d, value):
            open_ = sorted(self.clients[d].conflicts(open_only=True))
            if open_:
                self.clients[d].resolve(open_[0], value)
                self.made[d] += 1

        @invariant()
        def outbox_holds_what_is_unacknowledged(self):
            for d, c in enumerate(self.clients):
                assert c.pending() + len(c.outcomes()) == self.made[d]

        def teardown(self):
            try:
                run(self._check())
            finally:
                self._close()

        def _close(self):
            try:
                for c in self.clients:
                    run(c.http.aclose())
                    c.db.close()
            finally:  # each run has its own folder of device stores: leave none behind
                shutil.rmtree(self.tmp, ignore_errors=True)

        async def _check(self):
            for _ in range(2):
                for c in self.clients:
                    await c.push()
            for c in self.clients:
                await c.pull()
            for d, c in enumerate(self.clients):
                assert c.pending() == 0
                rows = await Edit.filter(device_id=c.device_id).order_by("seq").values_list("seq", "outcome")
                assert [s for s, _ in rows] == list(range(1, self.made[d] + 1))  # exactly once, nothing lost
                assert (await Device.get(id=c.device_id)).last_seq == self.made[d]
                local = c.outcomes()
                assert {s: local[s]["outcome"] for s in local} == dict(rows)
                for made in self.created[d]:  # every checklist made offline is one of the server's, re-keyed
                    assert c.canonical(made) in c.checklists()
                user = await User.get(username=USERS[d])
                assert c.replica() == await server_replica(await scope_unit_ids(user))

    return SyncMachine


async def test_devices_with_faults_converge(seeded, settings):
    loop = asyncio.get_running_loop()
    machine = make_machine(loop, settings)
    config = hsettings(max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck))
    await asyncio.to_thread(run_state_machine_as_test, machine, settings=config)
