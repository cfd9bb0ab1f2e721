"""Shared pieces of the benchmarks: a scratch PostgreSQL database and latency statistics."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg

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
