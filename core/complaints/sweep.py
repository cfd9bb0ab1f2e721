"""The periodic sweep: overdue answers go to the authority, silent residents count as
satisfied, overdue orders get their deduction, unappealed deductions are confirmed.

Each step takes its rows FOR UPDATE SKIP LOCKED and moves them out of the state it
selects on, so several workers sweeping at once never act twice on one complaint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.complaints import integrity
from core.complaints.enums import Escalation, Stage, Verdict
from core.complaints.flow import escalate, give_verdict
from core.complaints.inspections import mark_overdue_orders
from core.complaints.models import Complaint
from core.complaints.service import Context
from core.tickets.models import Ticket


@dataclass
class SweepResult:
    escalated: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    orders_overdue: int = 0
    deductions_confirmed: int = 0
    outbox_ids: list[int] = field(default_factory=list)


async def sweep(*, db_session: AsyncSession, ctx: Context, batch: int = 500) -> SweepResult:
    """Runs every time-driven step once; the caller commits."""
    result = SweepResult()
    overdue = await db_session.execute(
        select(Ticket, Complaint)
        .join(Complaint, Complaint.ticket_id == Ticket.id)
        .where(Complaint.stage == Stage.WITH_COMPANY, Complaint.respond_by < ctx.now)
        .order_by(Complaint.respond_by)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    for ticket, complaint in overdue.all():
        await escalate(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=result.outbox_ids,
            ticket=ticket,
            complaint=complaint,
            why=Escalation.OVERDUE,
        )
        result.escalated.append(ticket.id)
    silent_since = ctx.now - timedelta(days=ctx.settings.complaints_confirm_days)
    silent = await db_session.execute(
        select(Ticket, Complaint)
        .join(Complaint, Complaint.ticket_id == Ticket.id)
        .where(Complaint.stage == Stage.ANSWERED, Complaint.answered_at <= silent_since)
        .order_by(Complaint.answered_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    for ticket, complaint in silent.all():
        await give_verdict(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=result.outbox_ids,
            ticket=ticket,
            complaint=complaint,
            verdict=Verdict.CONFIRMED,
            automatic=True,
        )
        result.confirmed.append(ticket.id)
    result.orders_overdue = await mark_overdue_orders(
        db_session=db_session, ctx=ctx, outbox_ids=result.outbox_ids, batch=batch
    )
    result.deductions_confirmed = await integrity.confirm_unappealed(
        db_session=db_session, now=ctx.now
    )
    return result
