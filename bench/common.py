"""Shared pieces of the benchmarks: a scratch PostgreSQL database and latency statistics."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from channels.installed import registry as installed_channels
from core.config import Settings
from core.demo import load_demo_if_empty
from core.installed import installed
from core.migrate import upgrade_engine
from core.runtime import Hub, open_hub

ADMIN_URL = os.environ.get("HUB_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_DB = os.environ.get("HUB_BENCH_DATABASE", "hub_bench")
REDIS_URL = os.environ.get("HUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def bench_database_url() -> str:
    """Returns the async URL of the scratch benchmark database."""
    base = ADMIN_URL.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{BENCH_DB}"


async def recreate_database() -> None:
    """Drops and creates the scratch database, so every run starts empty."""
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{BENCH_DB}"')
    finally:
        await connection.close()


@dataclass(frozen=True)
class RunStats:
    count: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    def line(self, label: str) -> str:
        return (
            f"{label}: {self.count} in {self.seconds:.2f} s = {self.per_second:,.0f}/s, "
            f"p50 {self.p50_ms:.2f} ms, p99 {self.p99_ms:.2f} ms"
        )


async def run_concurrently(
    items: Sequence[object], action: Callable[[object], Awaitable[object]], concurrency: int
) -> RunStats:
    """Runs ``action`` over ``items`` with ``concurrency`` tasks; returns timing statistics."""
    latencies: list[float] = []
    position = 0

    async def lane() -> None:
        nonlocal position
        while position < len(items):
            item = items[position]
            position += 1
            started = time.perf_counter()
            await action(item)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return RunStats(
        count=len(ordered),
        seconds=elapsed,
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )


async def fresh_hub(*, concurrency: int, use_redis: bool, **overrides: Any) -> Hub:
    """Returns a hub on a new scratch database, migrated, with the demo city (no billing).

    The pool is as large as the benchmark's concurrency, so no task waits for a connection
    that the bare-limit loop would not wait for either. ``overrides`` replace settings.
    """
    await recreate_database()
    settings = Settings(
        database_url=bench_database_url(),
        redis_url=REDIS_URL if use_redis else None,
        secret_key="bench-only-secret-value-0123456789",
        db_pool_size=concurrency,
        db_max_overflow=0,
        **{"continuation_minutes": 0, **overrides},
    )
    hub = await open_hub(settings, channels=installed_channels(settings), offices=installed())
    try:
        if hub.redis is not None:
            await hub.redis.flushdb()
        await upgrade_engine(hub.engine, settings)
        await load_demo_if_empty(session_factory=hub.session_factory, with_staff=False)
    except BaseException:
        await hub.close()
        raise
    return hub
