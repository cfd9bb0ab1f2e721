"""The jobs the worker runs, and the worker itself."""

from __future__ import annotations

import logging

from saq import CronJob, Worker
from saq.types import Context, PartialTimersDict

from core.db import transaction
from core.outbox import service as outbox_service
from core.outbox.service import RetryDelivery
from core.runtime import TOPIC_OUTBOX, TOPIC_TICKETS, Hub
from core.sla import service as sla_service

logger = logging.getLogger("hub.jobs")


class HubContext(Context, total=False):
    """SAQ's job context with the hub the worker serves."""

    hub: Hub


async def deliver_outbox(ctx: HubContext, *, outbox_id: int) -> str:
    """Delivers one outbox row; raising makes SAQ retry it with backoff."""
    hub: Hub = ctx["hub"]
    try:
        outcome = await outbox_service.deliver(
            session_factory=hub.session_factory,
            senders=hub.senders,
            outbox_id=outbox_id,
            max_attempts=hub.settings.outbox_max_attempts,
            lease_seconds=hub.settings.outbox_lease_seconds,
            retry_delay=hub.settings.outbox_retry_delay,
        )
    except RetryDelivery:
        await hub.publish(TOPIC_OUTBOX, {"outbox_id": outbox_id, "status": "retrying"})
        raise
    await hub.publish(TOPIC_OUTBOX, {"outbox_id": outbox_id, "status": str(outcome.status)})
    return str(outcome.status)


async def sweep_outbox(ctx: HubContext) -> int:
    """Re-enqueues outbox rows whose delivery job was lost."""
    hub: Hub = ctx["hub"]
    async with transaction(hub.session_factory) as session:
        stranded = await outbox_service.list_stranded(db_session=session)
    await hub.enqueue_deliveries(stranded)
    return len(stranded)


async def escalate_overdue(ctx: HubContext) -> int:
    """Marks overdue tickets and records their escalation."""
    hub: Hub = ctx["hub"]
    async with transaction(hub.session_factory) as session:
        escalated = await sla_service.escalate_overdue(db_session=session)
    for ticket_id in escalated:
        await hub.publish(TOPIC_TICKETS, {"ticket_id": ticket_id, "event": "escalated"})
    if escalated:
        logger.info("escalated %d overdue tickets", len(escalated))
    return len(escalated)


def build_worker(hub: Hub, *, concurrency: int = 10, own_signals: bool = True) -> Worker:
    """Returns a SAQ worker bound to the hub, with the periodic jobs scheduled.

    ``own_signals=False`` when the worker runs inside another server (``hub serve``): SAQ
    would otherwise take over SIGTERM, stop itself, and leave the web server running.
    """

    async def startup(ctx: HubContext) -> None:
        ctx["hub"] = hub

    worker = Worker(
        hub.queue,
        functions=[deliver_outbox],
        cron_jobs=[
            CronJob(sweep_outbox, cron="* * * * *", unique=True, timeout=120),
            CronJob(escalate_overdue, cron="* * * * *", unique=True, timeout=120),
        ],
        startup=startup,
        concurrency=concurrency,
        # The schedule timer also moves delayed retries to the queue; once a second keeps
        # a retry's actual delay close to its backoff. SAQ's Redis backend uses the value
        # as a lock TTL (SETEX), so it must be a whole number of seconds.
        timers=PartialTimersDict(schedule=1, sweep=60, abort=1, worker_info=60),
    )
    if not own_signals:
        worker.SIGNALS = []
    return worker
