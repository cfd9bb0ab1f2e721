"""Telling reporters about their case on the channel and in the language they used."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.dispatch.models import Case
from core.tickets.models import Ticket
from core.tickets.notify import notify


async def notify_reporter(
    *, db_session: AsyncSession, ticket: Ticket, notice: str, **values: Any
) -> int | None:
    """Queues ``notice`` to whoever reported ``ticket``; returns the outbox id, or None."""
    row = await notify(db_session=db_session, ticket=ticket, notice=notice, **values)
    return row.id if row is not None else None


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
