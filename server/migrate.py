"""Bring the database schema up to date with Tortoise's built-in migrations (server/migrations/)."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate

from .db import tortoise_config


async def upgrade(db_url: str) -> None:
    """Apply every migration not yet applied. Safe to run at each start; never drops data."""
    await migrate(config=tortoise_config(db_url))
    await Tortoise.close_connections()


async def pending_model_changes(db_url: str = "sqlite://:memory:") -> list[str]:
    """Names of migrations `tortoise makemigrations` would write now: empty when models and
    server/migrations agree. A test keeps them in step."""
    from tortoise.cli.cli import tortoise_cli_context
    from tortoise.migrations.autodetector import MigrationAutodetector

    config = tortoise_config(db_url)
    async with tortoise_cli_context(config) as ctx:
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    return [w.name for w in writers]
