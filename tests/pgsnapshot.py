"""A PostgreSQL test database put back to one saved state before every test.

The suite's database holds the migrated schema and the demo city. Right after the demo is
loaded, every table's rows are copied into the schema ``hub_snapshot`` and one function,
``hub_snapshot.restore()``, is written that empties every table and copies the saved rows
back, with the sequences where they were. A test then starts from exactly that state in
one round trip of a few milliseconds, where truncating 73 tables and reloading the demo
took about two seconds and cloning a database from a template 0.3–0.5 s. Each test still
runs on real connections with real transactions, so the locking and concurrency that the
integrity tests check is not hidden inside a per-test transaction.
"""

from __future__ import annotations

import os

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

SNAPSHOT = "hub_snapshot"
# This process's own database is named after it, so parallel runs (pytest-xdist workers,
# two developers' runs) never share one; see ``drop_stale``.
PREFIX = "hubtest_"


def database_name(base: str) -> str:
    return f"{base}_{PREFIX}{os.getpid()}"


async def _execute(url: str, *statements: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def drop_stale(admin_url: str) -> None:
    """Drops databases left by test runs whose process is gone (a run killed mid-way)."""
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    base = make_url(admin_url).database
    try:
        async with engine.connect() as connection:
            names = await connection.scalars(
                text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                {"pattern": f"{base}_{PREFIX}%"},
            )
            for name in list(names):
                pid = name.rsplit("_", 1)[-1]
                if pid.isdigit() and not _alive(int(pid)):
                    await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def create_empty(admin_url: str) -> str:
    """Creates this process's database (empty) and returns its URL."""
    url = make_url(admin_url)
    name = database_name(url.database or "test")
    await _execute(
        admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )
    return url.set(database=name).render_as_string(hide_password=False)


async def drop(admin_url: str, url: str) -> None:
    name = make_url(url).database
    await _execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def save(url: str) -> None:
    """Saves every table's rows and every sequence's position, and writes the restore."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            body = await _restore_body(connection)
            await connection.execute(text(f"DROP SCHEMA IF EXISTS {SNAPSHOT} CASCADE"))
            await connection.execute(text(f"CREATE SCHEMA {SNAPSHOT}"))
            tables = await _tables(connection)
            for table in tables:
                await connection.execute(
                    text(f'CREATE TABLE {SNAPSHOT}."{table}" AS TABLE public."{table}"')
                )
            await connection.execute(
                text(
                    f"CREATE FUNCTION {SNAPSHOT}.restore() RETURNS void LANGUAGE plpgsql AS "
                    f"$body$ BEGIN {body} END $body$"
                )
            )
    finally:
        await engine.dispose()


async def restore(url: str) -> None:
    """Puts the database back to the saved state; ends connections a test left behind."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            await connection.execute(text(f"SELECT {SNAPSHOT}.restore()"))
    finally:
        await engine.dispose()


async def _tables(connection: AsyncConnection) -> list[str]:
    rows = await connection.scalars(
        text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version' ORDER BY tablename"
        )
    )
    return list(rows)


async def _restore_body(connection: AsyncConnection) -> str:
    """Returns the restore function's statements, written out once for speed."""
    # Foreign keys are enforced by triggers, which the replica role skips: tables can then
    # be emptied and refilled in any order.
    statements = ["SET LOCAL session_replication_role = replica;"]
    for table in await _tables(connection):
        columns = await connection.scalars(
            text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = :table "
                "AND is_generated = 'NEVER' ORDER BY ordinal_position"
            ),
            {"table": table},
        )
        listed = ", ".join(f'"{c}"' for c in columns)
        statements.append(f'DELETE FROM public."{table}";')  # noqa: S608 (names from the catalog)
        refill = f'INSERT INTO public."{table}" ({listed}) OVERRIDING SYSTEM VALUE '
        statements.append(refill + f'SELECT {listed} FROM {SNAPSHOT}."{table}";')  # noqa: S608
    sequences = await connection.execute(
        text("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
    )
    for name, last_value in sequences:
        if last_value is None:
            statements.append(f"PERFORM setval('public.\"{name}\"', 1, false);")
        else:
            statements.append(f"PERFORM setval('public.\"{name}\"', {int(last_value)}, true);")
    return "\n".join(statements)
