"""Tortoise configuration shared by the app, the CLI, migrations and tests."""
from __future__ import annotations

import os

from sync.models import MODEL_MODULES as ENGINE_MODEL_MODULES

from .config import normalise_db_url

MODEL_MODULES = ["server.models", *ENGINE_MODEL_MODULES]


def tortoise_config(db_url: str) -> dict:
    return {
        "connections": {"default": normalise_db_url(db_url)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "server.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def is_postgres(db_url: str) -> bool:
    return db_url.startswith(("postgres://", "postgresql://", "asyncpg://"))


# Used by the `tortoise` CLI: `tortoise -c server.db.TORTOISE_ORM makemigrations`.
TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL", "sqlite://data/eiso.sqlite3"))
