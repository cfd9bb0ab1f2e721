"""Alembic is the only schema source: migrating from empty yields exactly the models."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import core.models  # noqa: F401
import sms.models  # noqa: F401
from core.db import Base
from core.runtime import Hub


async def test_migrations_from_empty_match_the_models(hub: Hub) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata), set(inspect(connection).get_table_names())

    async with hub.engine.connect() as connection:
        differences, tables = await connection.run_sync(diff)
    assert differences == []
    assert set(Base.metadata.tables) <= tables and "alembic_version" in tables
