"""Telling residents about their complaint and companies about what concerns them.

Residents hear on the channel they used (core.tickets.notify). Companies get SMS at the
phone in the register, outside any ticket's thread: the resident's thread is theirs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from channels.registry import of_session
from channels.templates import render
from core.complaints.models import PropertyCompany
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxKind
from core.residents.enums import ContactKind
from core.tickets.models import Ticket
from core.tickets.notify import notify


async def tell_resident(
    *, db_session: AsyncSession, ticket: Ticket, notice: str, outbox_ids: list[int], **values: Any
) -> None:
    """Queues ``notice`` to whoever raised the complaint and notes the outbox id."""
    row = await notify(db_session=db_session, ticket=ticket, notice=notice, **values)
    if row is not None:
        outbox_ids.append(row.id)


async def tell_company(
    *,
    db_session: AsyncSession,
    company: PropertyCompany,
    notice: str,
    outbox_ids: list[int],
    **values: Any,
) -> None:
    """Queues ``notice`` to the company's registered phone, if it has one, on the channel
    that carries notices to phones (SMS today).

    The notice is also visible in the company's own view, so a company without a phone
    in the register still learns of it there.
    """
    channel = of_session(db_session).notices_channel(ContactKind.PHONE)
    if not company.phone or channel is None:
        return
    row = await outbox_service.create(
        db_session=db_session,
        kind=OutboxKind.NOTICE,
        channel=channel,
        address=company.phone,
        language=company.language,
        text=render(channel, notice, company.language, **values),
    )
    outbox_ids.append(row.id)
