"""Test fixtures: a real database (PostgreSQL in CI, SQLite otherwise) and a real hub.

With HUB_TEST_DATABASE_URL / HUB_TEST_REDIS_URL set (CI sets both) the suite runs on
PostgreSQL and Redis and stops at once if either is unreachable; without them it runs on
a SQLite file and the in-process queue, so a fresh clone passes with nothing installed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from channels.contract import Sender
from channels.installed import registry as installed_channels
from channels.registry import bind as bind_channels
from core.config import Settings, normalise_database_url
from core.db import create_engine, create_session_factory
from core.demo import load_demo_if_empty
from core.installed import installed
from core.jobs.tasks import running_workers
from core.migrate import upgrade
from core.runtime import Hub, open_hub
from portal.app import create_app
from tests import pgsnapshot

PG_URL = os.environ.get("HUB_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL")
SECRET = "test-secret-not-for-production-0123456789"
T = TypeVar("T")
# Apps built for these tests, by the settings that shape them (see ``client``).
_apps: dict[str, FastAPI] = {}


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


def _run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs ``coroutine`` on a loop of its own: sync fixtures run beside the test's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _load_demo(url: str) -> None:
    settings = Settings(database_url=url, secret_key=SECRET)
    engine = create_engine(settings)
    session_factory = create_session_factory(engine)
    bind_channels(session_factory, installed_channels(settings))
    try:
        await load_demo_if_empty(session_factory=session_factory, with_staff=True)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Returns a database migrated to head and holding the demo city, made once a run.

    Every test starts from exactly this state (see ``database_url``) without truncating
    or reloading anything, on real connections and transactions.
    """
    try:
        asyncio.run(_check_services())
    except Exception as exc:
        pytest.exit(f"test services configured but unreachable: {exc!r}", returncode=3)
    if PG_URL:
        admin_url = make_url(normalise_database_url(PG_URL)).render_as_string(hide_password=False)
        _run_apart(pgsnapshot.drop_stale(admin_url))
        url = _run_apart(pgsnapshot.create_empty(admin_url))
        try:
            upgrade(Settings(database_url=url, secret_key=SECRET))
            _run_apart(_load_demo(url))
            _run_apart(pgsnapshot.save(url))
            yield url
        finally:
            _run_apart(pgsnapshot.drop(admin_url, url))
        return
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(Settings(database_url=url, secret_key=SECRET))
    asyncio.run(_load_demo(url))
    yield url


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    """Returns a database in the state the template was saved in, for this test alone.

    SQLite: a copy of the template file. PostgreSQL: the run's database, put back to the
    saved state by one server-side function (tests/pgsnapshot.py).
    """
    if migrated_database.startswith("sqlite"):
        template = Path(migrated_database.split("///", 1)[1])
        copy = tmp_path / "hub.sqlite3"
        shutil.copy(template, copy)
        return f"sqlite+aiosqlite:///{copy}"
    _run_apart(pgsnapshot.restore(migrated_database))
    return migrated_database


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Returns settings for one test, on its own copy of the migrated database."""
    return Settings(
        database_url=database_url,
        redis_url=REDIS_URL,
        secret_key=SECRET,
        data_dir=tmp_path,
        simulator_enabled=True,
        outbox_retry_delay=0.05,
        routing_cache_seconds=0,
    )


@pytest.fixture
def senders() -> dict[str, Sender] | None:
    """Override in a test module to deliver some channels through other senders."""
    return None


@pytest.fixture
async def hub(settings: Settings, senders: dict[str, Sender] | None) -> AsyncIterator[Hub]:
    """Returns a hub on a clean database holding the demo city."""
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url)
        await redis.flushdb()
        await redis.aclose()
    channels = installed_channels(settings, senders=senders)
    the_hub = await open_hub(settings, channels=channels, offices=installed())
    try:
        yield the_hub
    finally:
        await the_hub.close()


@pytest.fixture
async def worker(hub: Hub) -> AsyncIterator[None]:
    """Runs the real SAQ worker for the test's duration."""
    async with running_workers(hub, concurrency=4):
        yield


@pytest.fixture
async def client(hub: Hub, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Returns an HTTP client talking to the app in-process."""
    # Building the app costs about a quarter of a second; what it is made of depends only
    # on the settings below, so tests share one app per shape and each sets its own hub.
    # (The dump writes secrets as stars, so the key's own value is added.)
    shape = settings.model_dump_json(exclude={"database_url", "data_dir"})
    shape += settings.secret_key.get_secret_value()
    app = _apps.get(shape)
    if app is None:
        app = _apps[shape] = create_app(settings, hub=hub, run_worker=False, prepare_database=False)
    app.state.hub = hub
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
