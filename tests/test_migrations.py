"""Schema changes go through migrations: they build the schema from nothing and match the models."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import asyncio, sys
from server.migrate import pending_model_changes, upgrade
url = sys.argv[1]
asyncio.run(upgrade(url))
asyncio.run(upgrade(url))  # a second run applies nothing and fails on nothing
print(asyncio.run(pending_model_changes()))
"""


def test_migrations_build_the_schema_and_match_the_models(tmp_path):
    # A separate process: the migration runner initialises Tortoise globally.
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, f"sqlite://{tmp_path / 'm.sqlite3'}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]", (
        "models changed: run `tortoise -c server.db.TORTOISE_ORM makemigrations`"
    )
