"""Runs Alembic migrations, the only source of the schema."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    """Returns an Alembic config bound to the hub's migrations and settings."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["settings"] = settings
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Upgrades the configured database to ``revision`` (blocking; for the CLI)."""
    command.upgrade(alembic_config(settings), revision)


async def upgrade_engine(engine: AsyncEngine, settings: Settings, revision: str = "head") -> None:
    """Upgrades the database behind ``engine`` from inside a running event loop."""

    def _run(connection: object) -> None:
        config = alembic_config(settings)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_run)


def upgrade_in_thread(settings: Settings) -> None:
    """Upgrades from synchronous code that may itself run inside an event loop."""
    asyncio.run(asyncio.to_thread(upgrade, settings))
