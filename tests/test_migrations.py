"""Schema changes go through migrations: they build the schema from nothing and match the models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

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


# Every migration must apply to a database in use: each step runs on tables that all hold a row (a column
# added NOT NULL without a database default fails there, though it passes on an empty database).
STEP_BY_STEP = """
import asyncio, sqlite3, sys
from pathlib import Path
from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate
from server.db import tortoise_config

path = sys.argv[1]
names = sorted(p.stem for p in Path("server/migrations").glob("0*.py"))

def value(kind):
    kind = (kind or "").upper()
    if "INT" in kind or "BOOL" in kind:
        return 1
    if "REAL" in kind or "FLOAT" in kind or "DEC" in kind or "DOUBLE" in kind:
        return 1.0
    if "DATE" in kind or "TIME" in kind:
        return "2026-01-01 00:00:00"
    if "JSON" in kind:
        return "{}"
    return "x"

def fill_empty_tables():
    with sqlite3.connect(path) as c:
        tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for t in tables:
            if c.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]:
                continue
            cols = [r for r in c.execute(f'PRAGMA table_info("{t}")') if r[3] and r[4] is None]  # NOT NULL, no default
            names_ = ", ".join(f'"{r[1]}"' for r in cols)
            marks = ", ".join("?" for _ in cols)
            sql = f'INSERT INTO "{t}" ({names_}) VALUES ({marks})' if cols else f'INSERT INTO "{t}" DEFAULT VALUES'
            c.execute(sql, [value(r[2]) for r in cols])

async def step(name):
    try:
        await migrate(config=tortoise_config("sqlite://" + path), target="models." + name)
    finally:
        await Tortoise.close_connections()

for name in names:
    asyncio.run(step(name))
    fill_empty_tables()
    print("applied", name)
"""


def test_every_migration_applies_to_tables_that_hold_rows(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", STEP_BY_STEP, str(tmp_path / "used.sqlite3")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    applied = [line.split()[1] for line in out.stdout.splitlines() if line.startswith("applied ")]
    assert applied and applied[-1] == max(p.stem for p in (ROOT / "server" / "migrations").glob("0*.py"))


# The indexes a migrated database ends with must be the ones the models declare: on SQLite, an AlterField
# rebuilds its table and drops the table's indexes unless the migration makes them again.
INDEXES = """
import asyncio, sqlite3, sys
from tortoise import Tortoise
from server.db import tortoise_config
from server.migrate import upgrade

migrated, generated = sys.argv[1], sys.argv[2]
asyncio.run(upgrade(f"sqlite://{migrated}"))

async def generate():
    await Tortoise.init(config=tortoise_config(f"sqlite://{generated}"))
    await Tortoise.generate_schemas()
    await Tortoise.close_connections()

asyncio.run(generate())

def indexes(path):
    with sqlite3.connect(path) as c:
        rows = c.execute("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        return sorted(f"{t}: {s}" for t, s in rows if t != "tortoise_migrations")

print(sorted(set(indexes(generated)) - set(indexes(migrated))))
"""


def test_a_migrated_database_has_every_index_the_models_declare(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", INDEXES, str(tmp_path / "migrated.sqlite3"), str(tmp_path / "generated.sqlite3")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]", "indexes the migrations do not make"
