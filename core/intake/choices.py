"""The choices a conversation's last reply offered: kept per contact and channel."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import Structure
from core.intake.models import PendingChoice
from core.residents.models import Contact
from core.tickets.models import Ticket

# How long a reply's choices may be answered: long enough to read an SMS and reply,
# short enough that a digit sent tomorrow is not taken for today's menu.
CHOICES_LAST = timedelta(minutes=30)


async def offer(
    *,
    db_session: AsyncSession,
    contact: Contact,
    channel: str,
    structure: Structure | None,
    purpose: str,
    context: dict[str, Any],
    ticket: Ticket | None,
    now: datetime,
    had_pending: bool = True,
) -> None:
    """Makes ``structure``'s choices the ones an answer is read against (None clears them).

    Every reply replaces what the previous one offered: an answer is always read against
    the last reply the resident received on that channel.
    """
    if had_pending:  # the conversation's context said whether there is a row to replace
        await db_session.execute(
            delete(PendingChoice).where(
                PendingChoice.contact_id == contact.id, PendingChoice.channel == channel
            )
        )
    if structure is None or not structure.choices:
        return
    dumped = structure.model_dump(mode="json")
    db_session.add(
        PendingChoice(
            contact_id=contact.id,
            channel=channel,
            purpose=purpose or "none",
            ticket_id=ticket.id if ticket is not None else None,
            choices=dumped["choices"],
            context={**context, "address": contact.value},
            notice=dumped,
            created_at=now,
            expires_at=now + CHOICES_LAST,
        )
    )
