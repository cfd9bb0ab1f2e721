"""The jobs the worker runs, and the worker itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from saq import CronJob, Worker
from saq.types import PartialTimersDict

from core.assignment import service as assignment_service
from core.db import transaction, utcnow
from core.events.collector import deliver_after_commit
from core.intake import service as intake_service
from core.notices import service as notices_service
from core.outbox import service as outbox_service
from core.runtime import Hub, HubContext
from core.sla import service as sla_service

logger = logging.getLogger("hub.jobs")


async def deliver_outbox(ctx: HubContext, *, outbox_id: int) -> str:
    """Delivers one outbox row; raising makes SAQ retry it with backoff."""
    hub: Hub = ctx["hub"]
    # RetryDelivery propagates to SAQ; the outbox records each attempt and wakes live views.
    outcome = await outbox_service.deliver(
        session_factory=hub.session_factory,
        channels=hub.channels,
        outbox_id=outbox_id,
        max_attempts=hub.settings.outbox_max_attempts,
        lease_seconds=hub.settings.outbox_lease_seconds,
        retry_delay=hub.settings.outbox_retry_delay,
        replies_after_opt_out=hub.settings.sms_replies_after_opt_out,
    )
    return str(outcome.status)


async def sweep_outbox(ctx: HubContext) -> int:
    """Re-enqueues outbox rows whose delivery job was lost."""
    hub: Hub = ctx["hub"]
    async with transaction(hub.session_factory) as session:
        stranded = await outbox_service.list_stranded(
            db_session=session, max_attempts=hub.settings.outbox_max_attempts
        )
        deliver_after_commit(session, [i for i, bulk in stranded if not bulk])
        deliver_after_commit(session, [i for i, bulk in stranded if bulk], bulk=True)
    return len(stranded)


MAX_INBOUND_ATTEMPTS = 5


async def retry_failed_inbound(ctx: HubContext) -> int:
    """Processes again messages that failed (a bug fixed, a database back): nothing accepted
    is left unanswered because a provider did not retry."""
    hub: Hub = ctx["hub"]
    async with hub.session_factory() as session:
        failed = await intake_service.list_failed(
            db_session=session, max_attempts=MAX_INBOUND_ATTEMPTS
        )
    done = 0
    for message in failed:
        try:
            await intake_service.receive(hub=hub, message=message)
            done += 1
        except (intake_service.IntakeFailed, intake_service.IntakeRejected):
            logger.warning("inbound %s still fails", message.provider_message_id)
    return done


async def send_due_notices(ctx: HubContext) -> int:
    """Fans out every scheduled notice whose time has come."""
    hub: Hub = ctx["hub"]
    async with transaction(hub.session_factory) as session:
        due = await notices_service.due_notices(db_session=session, now=utcnow())
    for notice_id in due:
        await send_notice(ctx, notice_id=notice_id)
    return len(due)


async def send_notice(ctx: HubContext, *, notice_id: int) -> int:
    """Writes a notice's outbox rows (once) and hands them to the bulk queue."""
    hub: Hub = ctx["hub"]
    async with transaction(hub.session_factory) as session:
        # The outbox hands the rows to the bulk queue once this commits.
        ids = await notices_service.fan_out(db_session=session, notice_id=notice_id)
    return len(ids)


async def distribute_tickets(ctx: HubContext) -> int:
    """Hands waiting conversations to available agents (core.assignment)."""
    hub: Hub = ctx["hub"]
    async with transaction(hub.session_factory) as session:
        placed = await assignment_service.distribute(db_session=session)
    return len(placed)


async def escalate_overdue(ctx: HubContext) -> int:
    """Marks overdue tickets and records their escalation."""
    hub: Hub = ctx["hub"]
    async with transaction(hub.session_factory) as session:
        escalated = await sla_service.escalate_overdue(db_session=session)
    if escalated:
        logger.info("escalated %d overdue tickets", len(escalated))
    return len(escalated)


def build_workers(hub: Hub, *, concurrency: int = 10, own_signals: bool = True) -> list[Worker]:
    """Returns the SAQ workers for the hub: replies (and periodic jobs), and bulk notices.

    Two queues, two workers: a blast waiting on the SMS rate limit occupies only the bulk
    worker, so replies to residents are never stuck behind it.
    ``own_signals=False`` when the workers run inside another server (``hub serve``): SAQ
    would otherwise take over SIGTERM, stop itself, and leave the web server running.
    """

    async def startup(ctx: HubContext) -> None:
        ctx["hub"] = hub

    timers = PartialTimersDict(schedule=1, sweep=60, abort=1, worker_info=60)
    # The schedule timer also moves delayed retries to the queue; once a second keeps a
    # retry's actual delay close to its backoff. SAQ's Redis backend uses the value as a
    # lock TTL (SETEX), so it must be a whole number of seconds.
    replies = Worker(
        hub.queue,
        # The platform's jobs, then each installed back office's own (its spec lists them).
        functions=[deliver_outbox, send_notice, distribute_tickets, *hub.offices.jobs()],
        cron_jobs=[
            CronJob(sweep_outbox, cron="* * * * *", unique=True, timeout=120),
            CronJob(escalate_overdue, cron="* * * * *", unique=True, timeout=120),
            # The backstop: an agent back from away, a job lost with a worker.
            CronJob(distribute_tickets, cron="* * * * *", unique=True, timeout=120),
            CronJob(send_due_notices, cron="* * * * *", unique=True, timeout=600),
            CronJob(retry_failed_inbound, cron="*/5 * * * *", unique=True, timeout=600),
            *hub.offices.cron_jobs(),
        ],
        startup=startup,
        concurrency=concurrency,
        timers=timers,
    )
    bulk = Worker(
        hub.bulk_queue,
        functions=[deliver_outbox],
        startup=startup,
        concurrency=max(2, concurrency // 2),
        timers=timers,
    )
    workers = [replies, bulk]
    if not own_signals:
        for worker in workers:
            worker.SIGNALS = []
    return workers


@asynccontextmanager
async def running_workers(hub: Hub, *, concurrency: int = 10) -> AsyncIterator[list[Worker]]:
    """Runs the hub's workers in this event loop for the duration of the block."""
    workers = build_workers(hub, concurrency=concurrency, own_signals=False)
    tasks = [asyncio.create_task(worker.start()) for worker in workers]
    try:
        yield workers
    finally:
        for worker in workers:
            await worker.stop()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
