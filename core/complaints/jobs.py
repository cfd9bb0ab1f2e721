"""The complaints back office's jobs for the worker (listed in its spec)."""

from __future__ import annotations

from saq import CronJob

from core.complaints import service as complaints_service
from core.complaints import sweep as complaints_sweep
from core.complaints.service import Context as ComplaintContext
from core.db import transaction, utcnow
from core.runtime import Hub, HubContext


async def sweep_complaints(ctx: HubContext) -> int:
    """Moves complaints, orders and deductions along when their deadlines pass."""
    hub: Hub = ctx["hub"]
    routing = await hub.routing.get()
    async with transaction(hub.session_factory) as session:
        result = await complaints_sweep.sweep(
            db_session=session,
            ctx=ComplaintContext(complaints_service.SYSTEM, routing, hub.settings, utcnow()),
        )
    return len(result.escalated) + len(result.confirmed) + result.orders_overdue


CRON_JOBS = (CronJob(sweep_complaints, cron="* * * * *", unique=True, timeout=600),)
