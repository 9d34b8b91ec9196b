"""`simulate` (behind `eiso simulate`) runs in-process and reports a consistent summary."""

from __future__ import annotations

from client.simulate import simulate
from tests.conftest import DEMO_PASSWORD


async def test_simulate_in_process(seeded, settings):
    seen = []
    summary = await simulate(
        devices=6,
        units=3,
        edits=20,
        base_url=None,
        progress=lambda stage, done, total: seen.append(stage),
        password=DEMO_PASSWORD,
        settings=settings,
    )
    assert summary["converged"] and summary["lost"] == 0 and summary["pending"] == 0
    assert sum(summary["outcomes"].values()) == 120 and summary["units"] == 3
    assert {"setup", "edit", "push", "pull", "check"} <= set(seen)
