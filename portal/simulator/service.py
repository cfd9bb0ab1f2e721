"""What the simulator shows: the conversation of the identities this browser played."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import Choice, Structure
from core.intake.models import InboundRecord
from core.outbox.models import OutboxMessage
from core.tickets.models import Ticket, TicketMessage
from core.tickets.numbers import format_public_number

MAX_IDENTITIES = 10


def identities(session: MutableMapping[str, Any]) -> list[tuple[str, str, str]]:
    """Returns the (channel, as typed, normalised) addresses this browser has played."""
    return [(str(c), str(raw), str(norm)) for c, raw, norm in session.get("sim", [])]


def remember_identity(session: MutableMapping[str, Any], identity: tuple[str, str, str]) -> None:
    """Adds an address to this browser's conversation, newest first."""
    known = [list(i) for i in identities(session) if tuple(i) != identity]
    session["sim"] = ([list(identity)] + known)[:MAX_IDENTITIES]


@dataclass(frozen=True)
class Line:
    at: datetime
    direction: str
    channel: str
    text: str
    status: str
    ticket_number: str | None
    # Keys pressed on the phone: shown as "Pressed 2" in the page's language.
    keys: str | None = None
    # The language a reply was written in, and the choices it offers (drawn as buttons).
    language: str = "en"
    choices: tuple[Choice, ...] = ()


async def conversation(
    *, db_session: AsyncSession, identities: list[tuple[str, str, str]], limit: int = 100
) -> list[Line]:
    """Returns messages in and out for (channel, raw address, normalised address) triples."""
    if not identities:
        return []
    inbound = list(
        (
            await db_session.execute(
                select(InboundRecord, TicketMessage.ticket_id)
                .outerjoin(TicketMessage, TicketMessage.inbound_id == InboundRecord.id)
                .where(
                    or_(
                        *(
                            and_(InboundRecord.channel == ch, InboundRecord.sender_address == raw)
                            for ch, raw, _ in identities
                        )
                    )
                )
                .order_by(InboundRecord.id.desc())
                .limit(limit)
            )
        ).all()
    )
    outbound = list(
        await db_session.scalars(
            select(OutboxMessage)
            .where(
                or_(
                    *(
                        and_(OutboxMessage.channel == ch, OutboxMessage.address == norm)
                        for ch, _, norm in identities
                    )
                )
            )
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
    lines = [
        Line(
            r.recorded_at,
            "in",
            r.channel,
            r.text,
            r.status,
            format_public_number(t) if t else None,
            None if r.text else (r.payload or {}).get("menu_choice"),
        )
        for r, t in inbound
    ] + [
        Line(
            o.created_at,
            "out",
            o.channel,
            o.text,
            o.status,
            format_public_number(o.ticket_id) if o.ticket_id else None,
            language=o.language,
            choices=_choices(o),
        )
        for o in outbound
    ]
    return sorted(lines, key=lambda line: (line.at, line.direction == "out"))


def _choices(row: OutboxMessage) -> tuple[Choice, ...]:
    """Returns the choices a reply offers, from the structure it was written from."""
    if not row.structure:
        return ()
    try:
        return Structure.model_validate(row.structure).choices
    except ValidationError:
        return ()  # a row written by an older hub: shown as its text alone


async def ticket_if_mine(
    *, db_session: AsyncSession, ticket_id: int, identities: list[tuple[str, str, str]]
) -> Ticket | None:
    """Returns the ticket if one of this browser's identities raised it."""
    if not identities:
        return None
    ticket = await db_session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    mine = await db_session.scalar(
        select(TicketMessage.id)
        .join(InboundRecord, InboundRecord.id == TicketMessage.inbound_id)
        .where(
            TicketMessage.ticket_id == ticket_id,
            or_(
                *(
                    and_(InboundRecord.channel == ch, InboundRecord.sender_address == raw)
                    for ch, raw, _ in identities
                )
            ),
        )
        .limit(1)
    )
    return ticket if mine else None


def ticket_key(*, secret: str, ticket_id: int) -> str:
    """Returns the key that opens a ticket's page for whoever holds the link.

    A signature of the ticket id: unguessable without the hub's secret, and it carries
    nothing about the resident (not their phone, not their chat id), so the link can be
    opened in another browser or passed on.
    """
    message = f"simulator-ticket:{ticket_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def key_opens(*, secret: str, ticket_id: int, key: str) -> bool:
    """Returns whether ``key`` is the one ``ticket_key`` gives for this ticket."""
    expected = ticket_key(secret=secret, ticket_id=ticket_id)
    return hmac.compare_digest(expected.encode(), key.encode())
