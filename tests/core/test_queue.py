"""One conformance test for both queue backends: SAQ on Redis, and our in-memory one."""

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from saq import Worker
from saq.queue.base import Queue
from saq.queue.redis import RedisQueue

from core.jobs.memory_queue import MemoryQueue
from tests.conftest import eventually

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL")
BACKENDS = ["memory"] + (["redis"] if REDIS_URL else [])


@pytest.fixture(params=BACKENDS)
async def queue(request: pytest.FixtureRequest) -> AsyncIterator[Queue]:
    if request.param == "redis":
        redis = Redis.from_url(REDIS_URL or "")
        await redis.flushdb()
        q: Queue = RedisQueue(redis, name="conformance")
    else:
        q = MemoryQueue(name="conformance")
    await q.connect()
    yield q
    await q.disconnect()


async def run_worker(queue: Queue, calls: list[Any], fail_times: int = 0) -> asyncio.Task[None]:
    async def job(ctx: dict[str, Any], *, n: int) -> int:
        calls.append(n)
        if calls.count(n) <= fail_times:
            raise RuntimeError("try again")
        return n * 10

    worker = Worker(
        queue,
        functions=[("job", job)],
        concurrency=2,
        timers={"schedule": 1, "sweep": 60, "abort": 1, "worker_info": 60},
    )
    return asyncio.create_task(worker.start())


async def test_job_keys_deduplicate_incomplete_jobs(queue: Queue) -> None:
    assert await queue.enqueue("job", n=1, key="same") is not None
    assert await queue.enqueue("job", n=1, key="same") is None
    assert await queue.count("queued") == 1


async def test_retries_back_off_then_complete(queue: Queue) -> None:
    calls: list[int] = []
    task = await run_worker(queue, calls, fail_times=2)
    try:
        await queue.enqueue("job", n=7, key="r", retries=3, retry_delay=0.05, retry_backoff=True)

        async def complete() -> bool:
            job = await queue.job("r")
            return job is not None and job.status == "complete"

        await eventually(complete)
        job = await queue.job("r")
        assert job is not None and job.result == 70 and job.attempts == 3 and calls == [7, 7, 7]
    finally:
        task.cancel()


async def test_delayed_jobs_wait_for_their_time(queue: Queue) -> None:
    calls: list[int] = []
    ran_at: list[float] = []
    task = await run_worker(queue, calls)
    try:
        scheduled = int(time.time()) + 1
        await queue.enqueue("job", n=1, key="later", scheduled=scheduled)

        async def ran() -> bool:
            if calls and not ran_at:
                ran_at.append(time.time())
            return calls == [1]

        await eventually(ran, timeout=5, interval=0.01)
        # It ran, and not before its time (the check polls every 10 ms).
        assert ran_at[0] >= scheduled
    finally:
        task.cancel()
