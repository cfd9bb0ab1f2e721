"""An in-process backend for SAQ, for the embedded mode and tests.

SAQ ships Redis and PostgreSQL backends; the embedded hub has neither. This implements
SAQ's own ``Queue`` interface in memory with the semantics of its Redis backend (job keys
de-duplicate incomplete jobs, delayed jobs wait in a schedule, retries back off, sweeps
recover stuck jobs), so the worker, retries and cron jobs are SAQ's and behave the same
in every mode. Nothing here survives a restart: the outbox table does, and the periodic
outbox sweep re-enqueues whatever was pending.
"""

from __future__ import annotations

import asyncio
import time
import typing as t
from collections import deque

from saq.job import Job, Status
from saq.queue.base import Queue
from saq.types import CountKind, QueueInfo, WorkerInfo
from saq.utils import now, seconds


class MemoryQueue(Queue):
    def __init__(self, name: str = "default") -> None:
        super().__init__(name=name, dump=None, load=None)
        self._jobs: dict[str, bytes | str] = {}
        self._expiry: dict[str, float] = {}
        # job id → epoch seconds it is scheduled for (0 = now), for every incomplete job
        self._incomplete: dict[str, float] = {}
        self._queued: deque[str] = deque()
        self._active: list[str] = []
        self._aborts: dict[str, float] = {}
        self._workers: dict[str, tuple[WorkerInfo, float]] = {}
        self._wakeup = asyncio.Event()

    def _purge(self) -> None:
        moment = time.time()
        for job_id in [k for k, exp in self._expiry.items() if exp <= moment]:
            self._jobs.pop(job_id, None)
            self._expiry.pop(job_id, None)
        for key in [k for k, exp in self._aborts.items() if exp <= moment]:
            self._aborts.pop(key, None)

    def _put(self, job: Job, ttl: float | None = None) -> None:
        self._jobs[job.id] = self.serialize(job)
        if ttl:
            self._expiry[job.id] = time.time() + ttl
        else:
            self._expiry.pop(job.id, None)

    def _get(self, job_id: str) -> Job | None:
        self._purge()
        data = self._jobs.get(job_id)
        return self.deserialize(data) if data is not None else None

    def _push(self, job_id: str) -> None:
        self._queued.append(job_id)
        self._wakeup.set()

    async def disconnect(self) -> None:
        self._wakeup.set()

    async def info(self, jobs: bool = False, offset: int = 0, limit: int = 10) -> QueueInfo:
        moment = time.time()
        workers = {wid: info for wid, (info, exp) in self._workers.items() if exp > moment}
        listed: list[dict[str, t.Any]] = []
        if jobs:
            for job_id in self._active[offset : offset + limit]:
                job = self._get(job_id)
                if job:
                    listed.append(job.to_dict())
        return {
            "workers": workers,
            "name": self.name,
            "queued": len(self._queued),
            "active": len(self._active),
            "scheduled": sum(1 for s in self._incomplete.values() if s > 0),
            "jobs": listed,
        }

    async def count(self, kind: CountKind) -> int:
        if kind == "queued":
            return len(self._queued)
        if kind == "active":
            return len(self._active)
        return len(self._incomplete)

    async def schedule(self, _lock: int = 1) -> list[str]:
        moment = seconds(now())
        due = [jid for jid, at in self._incomplete.items() if 0 < at <= moment]
        for job_id in due:
            self._incomplete[job_id] = 0
            self._push(job_id)
        return due

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        swept = []
        for job_id in list(self._active):
            job = self._get(job_id)
            if job is None:
                swept.append(job_id)
                self._active.remove(job_id)
                self._incomplete.pop(job_id, None)
                continue
            if job.status != Status.ACTIVE or job.stuck:
                swept.append(job_id)
                await self.abort(job, error=self.swept_error_message)
                if job.retryable:
                    await self.retry(job, error=self.swept_error_message)
                else:
                    await self.finish(job, Status.ABORTED, error=self.swept_error_message)
        return swept

    async def _update(self, job: Job, status: Status | None = None, **kwargs: t.Any) -> None:
        if not status:
            stored = self._get(job.id)
            status = stored.status if stored else None
        job.status = status or job.status
        self._put(job)

    async def job(self, job_key: str) -> Job | None:
        return self._get(self.job_id(job_key))

    async def jobs(self, job_keys: t.Iterable[str]) -> list[Job | None]:
        return [self._get(self.job_id(key)) for key in job_keys]

    async def iter_jobs(
        self,
        statuses: list[Status] = list(Status),  # noqa: B006 (SAQ's signature)
        batch_size: int = 100,
    ) -> t.AsyncIterator[Job]:
        wanted = set(statuses)
        for job_id in list(self._jobs):
            job = self._get(job_id)
            if job and job.status in wanted:
                yield job

    async def abort(self, job: Job, error: str, ttl: float = 5) -> None:
        job.status = Status.ABORTING
        job.error = error
        was_queued = job.id in self._queued
        if was_queued:
            self._queued.remove(job.id)
        self._incomplete.pop(job.id, None)
        self._put(job)
        self._aborts[job.abort_id] = time.time() + ttl
        if was_queued:
            await self.finish(job, Status.ABORTED, error=error)
            self._aborts.pop(job.abort_id, None)
        elif job.id in self._active:
            self._active.remove(job.id)

    async def finish_abort(self, job: Job) -> None:
        self._aborts.pop(job.abort_id, None)
        await super().finish_abort(job)

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:
        # SAQ's Redis backend blocks forever on a zero timeout (BLMOVE); so does this.
        deadline = time.monotonic() + timeout if timeout else None
        while not self._queued:
            self._wakeup.clear()
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                return None
        job_id = self._queued.popleft()
        self._active.append(job_id)
        return self._get(job_id)

    async def write_worker_info(self, worker_id: str, info: WorkerInfo, ttl: int) -> None:
        self._workers[worker_id] = (info, time.time() + ttl)

    async def _retry(self, job: Job, error: str | None) -> None:
        if job.id in self._active:
            self._active.remove(job.id)
        if job.id in self._queued:
            self._queued.remove(job.id)
        delay = job.next_retry_delay()
        self._put(job)
        if delay:
            self._incomplete[job.id] = time.time() + delay
        else:
            self._incomplete[job.id] = job.scheduled
            self._push(job.id)

    async def _finish(
        self,
        job: Job,
        status: Status,
        *,
        result: t.Any = None,
        error: str | None = None,
    ) -> None:
        if job.id in self._active:
            self._active.remove(job.id)
        self._incomplete.pop(job.id, None)
        if job.ttl >= 0:
            self._put(job, ttl=job.ttl or None)
        else:
            self._jobs.pop(job.id, None)

    async def _enqueue(self, job: Job) -> Job | None:
        self._purge()
        if job.id in self._incomplete or job.abort_id in self._aborts:
            return None
        self._put(job)
        self._incomplete[job.id] = job.scheduled
        if not job.scheduled:
            self._push(job.id)
        return job
