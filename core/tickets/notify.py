"""Telling the resident about their ticket, in their language, on the channel they used or
where that channel sends later news."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import Structure
from channels.registry import of_session
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
    """Queues ``notice`` to whoever raised the ticket; None if there is nobody to tell, or
    if they turned ticket notices off.

    It goes on the ticket's channel, or where that channel's spec sends later notices
    (``notify_via``): a caller has hung up and a kiosk user has left, so they hear about
    their ticket by SMS on their phone.
    """
    if ticket.contact_id is None:
        return None
    channels = of_session(db_session)
    channel = channels.notify_channel(ticket.channel)
    contact = await db_session.get(Contact, ticket.contact_id)
    if channel is None or contact is None:
        return None
    if await notices_service.is_unsubscribed(
        db_session=db_session, contact_id=contact.id, topic=Topic.TICKET_STATUS
    ):
        return None
    address = await _address_on(db_session, contact, channels.address_kind(channel))
    if address is None:
        return None
    language = contact.language or ticket.language
    structure = Structure(notice=notice, values=values)
    return await outbox_service.create(
        db_session=db_session,
        kind=OutboxKind.NOTICE,
        channel=channel,
        address=address,
        language=language,
        text=channels.render(channel, structure, language),
        structure=structure,
        ticket=ticket,
        resident_id=ticket.resident_id,
    )


async def _address_on(db_session: AsyncSession, contact: Contact, kind: str) -> str | None:
    """Returns the resident's address of ``kind``: the contact's own, or their latest other
    contact of that kind (a kiosk user's phone); None if they left none."""
    if contact.kind == kind:
        return contact.value
    return await db_session.scalar(
        select(Contact.value)
        .where(
            Contact.resident_id == contact.resident_id,
            Contact.kind == kind,
            Contact.opted_out_at.is_(None),
        )
        .order_by(Contact.id.desc())
        .limit(1)
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
