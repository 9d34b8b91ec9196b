"""Bring the database schema up to date with Tortoise's built-in migrations (server/migrations/)."""
from __future__ import annotations

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate

from .db import tortoise_config


async def upgrade(db_url: str) -> None:
    """Apply every migration not yet applied. Safe to run at each start; never drops data."""
    await migrate(config=tortoise_config(db_url))
    await Tortoise.close_connections()
