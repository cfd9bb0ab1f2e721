"""Test fixtures: a real database (PostgreSQL in CI, SQLite otherwise) and a real hub.

With HUB_TEST_DATABASE_URL / HUB_TEST_REDIS_URL set (CI sets both) the suite runs on
PostgreSQL and Redis and stops at once if either is unreachable; without them it runs on
a SQLite file and the in-process queue, so a fresh clone passes with nothing installed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import core.models  # noqa: F401  (every table, for truncation)
import sms.models  # noqa: F401
from channels.registry import SenderRegistry
from core.config import Settings, normalise_database_url
from core.db import Base, create_engine, create_session_factory
from core.demo import load_demo_if_empty
from core.jobs.tasks import running_workers
from core.migrate import upgrade
from core.runtime import Hub, open_hub
from portal.app import create_app

PG_URL = os.environ.get("HUB_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL")
SECRET = "test-secret-not-for-production-0123456789"


async def _check_services() -> None:
    if PG_URL:
        engine = create_async_engine(normalise_database_url(PG_URL))
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        finally:
            await engine.dispose()
    if REDIS_URL:
        redis = Redis.from_url(REDIS_URL)
        try:
            await redis.ping()
        finally:
            await redis.aclose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Returns a database URL migrated from empty to head once per session."""
    try:
        asyncio.run(_check_services())
    except Exception as exc:
        pytest.exit(f"test services configured but unreachable: {exc!r}", returncode=3)
    if PG_URL:
        url = normalise_database_url(PG_URL)

        async def reset() -> None:
            engine = create_async_engine(url)
            async with engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
            await engine.dispose()

        asyncio.run(reset())
        upgrade(Settings(database_url=url, secret_key=SECRET))
        return url
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(Settings(database_url=url))

    async def demo() -> None:
        engine = create_engine(Settings(database_url=url))
        await load_demo_if_empty(session_factory=create_session_factory(engine), with_staff=True)
        await engine.dispose()

    # Each test copies this file, so the demo city is loaded once, not per test.
    asyncio.run(demo())
    return url


@pytest.fixture
def settings(migrated_database: str, tmp_path: Path) -> Settings:
    """Returns settings for one test, on its own copy of the migrated database."""
    if migrated_database.startswith("sqlite"):
        template = Path(migrated_database.split("///", 1)[1])
        copy = tmp_path / "hub.sqlite3"
        shutil.copy(template, copy)
        url = f"sqlite+aiosqlite:///{copy}"
    else:
        url = migrated_database
    return Settings(
        database_url=url,
        redis_url=REDIS_URL,
        secret_key=SECRET,
        data_dir=tmp_path,
        simulator_enabled=True,
        outbox_retry_delay=0.05,
        routing_cache_seconds=0,
    )


async def _truncate_all(hub: Hub) -> None:
    if hub.engine.dialect.name != "postgresql":
        return
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with hub.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def senders() -> SenderRegistry | None:
    """Override in a test module to deliver through other senders."""
    return None


@pytest.fixture
async def hub(settings: Settings, senders: SenderRegistry | None) -> AsyncIterator[Hub]:
    """Returns a hub on a clean database holding the demo city."""
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url)
        await redis.flushdb()
        await redis.aclose()
    the_hub = await open_hub(settings, senders=senders)
    await _truncate_all(the_hub)
    await load_demo_if_empty(session_factory=the_hub.session_factory, with_staff=True)
    try:
        yield the_hub
    finally:
        await _truncate_all(the_hub)
        await the_hub.close()


@pytest.fixture
async def worker(hub: Hub) -> AsyncIterator[None]:
    """Runs the real SAQ worker for the test's duration."""
    async with running_workers(hub, concurrency=4):
        yield


@pytest.fixture
async def client(hub: Hub, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Returns an HTTP client talking to the app in-process."""
    app = create_app(settings, hub=hub, run_worker=False, prepare_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://hub.test") as http:
        yield http


async def eventually(
    check: Callable[[], Awaitable[Any]],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
) -> Any:
    """Returns the first truthy result of ``check``, polling; fails after ``timeout``.

    For work done by the background worker; the timeout is a safety net, not a measurement.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
