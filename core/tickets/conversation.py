"""A ticket's conversation as the console shows it: every message in and out, on every
channel, with internal notes between them, each with what a staff member acts on (the
message's id to split it out, the delivery state and its reason for a reply)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.outbox.models import OutboxMessage
from core.tickets.enums import Direction
from core.tickets.models import TicketMessage


@dataclass(frozen=True)
class Entry:
    # "in" (the resident), "out" (to the resident, through the outbox) or "note" (staff only)
    direction: str
    channel: str
    text: str
    at: datetime
    # A thread message's id (what a split names), or the outbox row's for a reply.
    message_id: int | None = None
    outbox_id: int | None = None
    author_id: int | None = None
    delivery: str | None = None
    error_code: str | None = None


async def entries(*, db_session: AsyncSession, ticket_id: int) -> list[Entry]:
    """Returns the conversation oldest first; a reply sorts after the message it answers."""
    messages = await db_session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
    )
    outbound = await db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id)
    )
    found = [
        Entry(
            direction=str(m.direction),
            channel=m.channel,
            text=m.text,
            at=m.created_at,
            message_id=m.id,
            author_id=m.author_id,
        )
        for m in messages
    ] + [
        Entry(
            direction=str(Direction.OUT),
            channel=o.channel,
            text=o.text,
            at=o.created_at,
            outbox_id=o.id,
            delivery=str(o.status),
            error_code=o.error_code,
        )
        for o in outbound
    ]
    return sorted(found, key=lambda e: (e.at, e.direction == Direction.OUT, e.message_id or 0))
