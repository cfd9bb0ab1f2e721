"""Telling the resident about their ticket, on the channel and in the language they used."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import Channel
from channels.templates import render
from core.notices import service as notices_service
from core.notices.enums import Topic
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxKind
from core.outbox.models import OutboxMessage
from core.residents.models import Contact
from core.tickets.models import Ticket


async def notify(
    *, db_session: AsyncSession, ticket: Ticket, notice: str, **values: object
) -> OutboxMessage | None:
    """Queues ``notice`` to the contact that raised the ticket; None if there is none, or
    if they turned ticket notices off."""
    # Open311 clients poll GET requests: there is no one to send a notice to.
    if ticket.contact_id is None or ticket.channel == Channel.OPEN311:
        return None
    contact = await db_session.get(Contact, ticket.contact_id)
    if contact is None:
        return None
    if await notices_service.is_unsubscribed(
        db_session=db_session, contact_id=contact.id, topic=Topic.TICKET_STATUS
    ):
        return None
    language = contact.language or ticket.language
    return await outbox_service.create(
        db_session=db_session,
        kind=OutboxKind.NOTICE,
        channel=ticket.channel,
        address=contact.value,
        language=language,
        text=render(ticket.channel, notice, language, **values),
        ticket=ticket,
        resident_id=ticket.resident_id,
    )


async def notify_status(*, db_session: AsyncSession, ticket: Ticket) -> OutboxMessage | None:
    """Queues a status notice to the contact that raised the ticket; None if there is none."""
    return await notify(
        db_session=db_session,
        ticket=ticket,
        notice="ticket_status",
        number=ticket.public_number,
        status=str(ticket.status),
    )
