"""The engine (`sync/`) is pure of the web: no module of it pulls in the server, the seed loader, Starlette,
an HTTP client or the client tools, and it runs on its own tables.

Each check runs in a fresh interpreter, since this test process has all of them loaded already.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import sync

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("server", "seed", "starlette", "httpx", "client")

IMPORT_ALL = """
import importlib, json, sys
for name in sys.argv[2:]:
    importlib.import_module(name)
forbidden = tuple(json.loads(sys.argv[1]))
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in forbidden)))
"""

INIT_ALONE = """
import asyncio, json, sys
from tortoise import Tortoise
from sync.models import MODEL_MODULES

async def main():
    await Tortoise.init(db_url="sqlite://:memory:", modules={"models": MODEL_MODULES})
    await Tortoise.generate_schemas()
    tables = sorted(m._meta.db_table for m in Tortoise.apps["models"].values())
    await Tortoise.close_connections()
    return tables

tables = asyncio.run(main())
forbidden = tuple(json.loads(sys.argv[1]))
print(json.dumps({"tables": tables, "loaded": sorted(m for m in sys.modules if m.split(".")[0] in forbidden)}))
"""


def engine_modules() -> list[str]:
    return ["sync"] + [f"sync.{m.name}" for m in pkgutil.iter_modules(sync.__path__)]


def run_fresh(script: str, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", script, json.dumps(FORBIDDEN), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_every_engine_module_imports_without_the_web():
    modules = engine_modules()
    assert {"sync.push", "sync.batch", "sync.pull", "sync.rows", "sync.models", "sync.tables"} <= set(modules)
    assert json.loads(run_fresh(IMPORT_ALL, *modules)) == []


def test_the_engine_initialises_on_its_own_tables():
    found = json.loads(run_fresh(INIT_ALONE))
    assert found["loaded"] == []
    assert {
        "unit",
        "user",
        "template",
        "template_item",
        "checklist",
        "answer",
        "conflict",
        "device",
        "edit",
        "change",
    } <= set(found["tables"])
