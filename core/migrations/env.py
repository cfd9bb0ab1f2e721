"""Alembic environment: async engine, the hub's metadata, the URL from settings."""

from __future__ import annotations

import asyncio
import importlib

from alembic import context
from sqlalchemy.engine import Connection

import core.models  # noqa: F401  (registers every table on the metadata)
from core.config import Settings
from core.db import Base, create_engine

# The installed channels' own tables (the SMS adapter's status events), loaded by name from
# the composition root as the `hub` command does: the core imports no channel package.
importlib.import_module("channels.installed")

target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    settings = context.config.attributes.get("settings") or Settings()
    engine = create_engine(settings)
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
        await connection.commit()
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _configure(connection)
else:
    asyncio.run(_run_online())
