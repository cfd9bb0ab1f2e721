"""Telling reporters about their case on the channel and in the language they used."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.templates import render
from core.dispatch.models import Case
from core.notices import service as notices_service
from core.notices.enums import Topic
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxKind
from core.residents.models import Contact
from core.tickets.models import Ticket


async def notify_reporter(
    *, db_session: AsyncSession, ticket: Ticket, notice: str, **values: Any
) -> int | None:
    """Queues ``notice`` to whoever reported ``ticket``; returns the outbox id, or None."""
    if ticket.contact_id is None:
        return None
    contact = await db_session.get(Contact, ticket.contact_id)
    if contact is None:
        return None
    if await notices_service.is_unsubscribed(
        db_session=db_session, contact_id=contact.id, topic=Topic.TICKET_STATUS
    ):
        return None
    language = contact.language or ticket.language
    row = await outbox_service.create(
        db_session=db_session,
        kind=OutboxKind.NOTICE,
        channel=ticket.channel,
        address=contact.value,
        language=language,
        text=render(ticket.channel, notice, language, **values),
        ticket=ticket,
        resident_id=ticket.resident_id,
    )
    return row.id


async def notify_followers(
    *, db_session: AsyncSession, ticket: Ticket, notice: str, **values: Any
) -> list[int]:
    """Queues ``notice`` to the reporters of every report merged into this case.

    Each follower hears it under their own request number, which is the one they know.
    """
    followers = await db_session.scalars(
        select(Ticket)
        .join(Case, Case.ticket_id == Ticket.id)
        .where(Case.merged_into_id == ticket.id)
        .order_by(Ticket.id)
    )
    ids = []
    for follower in followers:
        row = await notify_reporter(
            db_session=db_session,
            ticket=follower,
            notice=notice,
            **{**values, "number": follower.public_number},
        )
        if row is not None:
            ids.append(row)
    return ids
