"""Tortoise configuration shared by the app, the CLI, migrations and tests."""

from __future__ import annotations

from tortoise.backends.base.config_generator import expand_db_url

from sync.models import MODEL_MODULES as ENGINE_MODEL_MODULES

from .config import Settings, normalise_db_url

MODEL_MODULES = ["server.models", *ENGINE_MODEL_MODULES, "server.reminders.models"]


def tortoise_config(db_url: str) -> dict:
    return {
        "connections": {"default": connection_config(db_url)},
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


def connection_config(db_url: str) -> str | dict:
    """The URL Tortoise connects with; a SQLite file gets our engine, whose transactions BEGIN IMMEDIATE
    (server/sqlite_engine.py: another process's commit cannot then fail a transaction with "locked")."""
    url = normalise_db_url(db_url)
    if not url.startswith("sqlite://") or ":memory:" in url:
        return url
    config = expand_db_url(url)
    config["engine"] = "server.sqlite_engine"
    return config


def is_postgres(db_url: str) -> bool:
    return db_url.startswith(("postgres://", "postgresql://", "asyncpg://"))


def __getattr__(name: str) -> dict:
    """`TORTOISE_ORM`, for the `tortoise` CLI (`tortoise -c server.db.TORTOISE_ORM makemigrations`): built
    from DATABASE_URL when asked for, so importing this module reads no environment and makes no folder."""
    if name == "TORTOISE_ORM":
        return tortoise_config(Settings.from_env().database_url)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
