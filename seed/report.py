"""What one run of the seed did: counts of rows written, the anomalies found, the demo logins.

Shared by the loader (`seed.load`) and the demo data (`seed.demo`); `eiso seed` prints it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# The author of every history row the seed writes: the loader reads its own rows back to tell a value the
# seed set from one changed in the application since.
SEED_USER = "seed"

# progress(stage, done, total), called as each stage advances (the CLI draws a bar).
Progress = Callable[[str, int, int], None]


@dataclass
class SeedReport:
    units_created: int = 0
    units_updated: int = 0
    history_written: int = 0
    templates_created: int = 0
    templates_updated: int = 0
    items_created: int = 0
    items_updated: int = 0
    items_deleted: int = 0
    deadlines_created: int = 0
    deadlines_updated: int = 0
    users_created: int = 0
    statuses_set: int = 0
    anomalies: list[str] = field(default_factory=list)
    demo_password: str | None = None  # only when generated here (not when given by the caller)
    logins: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.units_created,
                self.units_updated,
                self.history_written,
                self.templates_created,
                self.templates_updated,
                self.items_created,
                self.items_updated,
                self.items_deleted,
                self.deadlines_created,
                self.deadlines_updated,
                self.users_created,
                self.statuses_set,
            )
        )
