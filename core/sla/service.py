"""The SLA clock's periodic side: marking overdue tickets and recording the escalation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.tickets import service as tickets_service
from core.tickets.enums import OPEN_STATUSES, EventKind
from core.tickets.models import Ticket


async def escalate_overdue(
    *, db_session: AsyncSession, now: datetime | None = None, batch: int = 500
) -> list[int]:
    """Marks open tickets past their due time as overdue; returns the ids it escalated.

    The conditional UPDATE makes this safe to run from several workers at once: a ticket
    is escalated, and gets its event, exactly once per crossing of its due time.
    """
    moment = now or utcnow()
    candidates = list(
        await db_session.scalars(
            select(Ticket.id)
            .where(
                Ticket.due_at.is_not(None),
                Ticket.due_at < moment,
                Ticket.overdue.is_(False),
                Ticket.status.in_([str(s) for s in OPEN_STATUSES]),
            )
            .order_by(Ticket.due_at)
            .limit(batch)
        )
    )
    if not candidates:
        return []
    escalated = list(
        (
            await db_session.execute(
                update(Ticket)
                .where(Ticket.id.in_(candidates), Ticket.overdue.is_(False))
                .values(
                    overdue=True,
                    escalation_level=Ticket.escalation_level + 1,
                    updated_at=moment,
                )
                .returning(Ticket.id, Ticket.due_at, Ticket.escalation_level)
            )
        ).all()
    )
    for ticket_id, due_at, level in escalated:
        tickets_service.add_event(
            db_session=db_session,
            ticket_id=ticket_id,
            kind=EventKind.ESCALATED,
            actor="system",
            due_at=due_at.isoformat() if due_at else None,
            level=level,
        )
    return [row[0] for row in escalated]
