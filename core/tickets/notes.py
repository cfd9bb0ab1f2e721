"""Internal notes: what staff tell each other about a ticket, never sent to the resident.

A note may mention colleagues (``@username``); the mention is recorded by staff id on the
note's event, so the mentioned person's console can flag it, and only colleagues who can
see the ticket count (a mention must not reveal a ticket outside someone's scope).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.models import StaffUser
from core.auth.service import principal_for
from core.tickets import service as tickets_service
from core.tickets.actors import Actor
from core.tickets.enums import Direction, EventKind
from core.tickets.models import Ticket, TicketMessage

MAX_NOTE = 4000
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.-]{1,64})")


class NoteRefused(ValueError):
    """An empty or oversized note."""


@dataclass(frozen=True)
class Note:
    message: TicketMessage
    mentions: list[int]


async def mentioned(*, db_session: AsyncSession, ticket: Ticket, text: str) -> list[int]:
    """Returns the ids of active colleagues named in ``text`` who can see the ticket."""
    names = {name.rstrip(".").lower() for name in _MENTION.findall(text)}
    if not names:
        return []
    users = await db_session.scalars(
        select(StaffUser).where(
            func.lower(StaffUser.username).in_(sorted(names)), StaffUser.active.is_(True)
        )
    )
    return sorted(u.id for u in users if principal_for(u).scope.allows(ticket))


async def add_note(*, db_session: AsyncSession, ticket: Ticket, author_id: int, text: str) -> Note:
    """Adds a note to the ticket's thread and its history, with whom it mentions."""
    text = text.strip()
    if not text:
        raise NoteRefused("the note is empty")
    if len(text) > MAX_NOTE:
        raise NoteRefused(f"the note has {len(text)} characters; at most {MAX_NOTE}")
    mentions = await mentioned(db_session=db_session, ticket=ticket, text=text)
    message = tickets_service.add_message(
        db_session=db_session,
        ticket=ticket,
        direction=Direction.NOTE,
        channel="console",
        text=text,
        author_id=author_id,
        # A note is not news for the resident's side of the inbox: the ticket keeps its
        # place in the list, and a colleague mentioned is told through the stream.
        touch=False,
    )
    tickets_service.add_event(
        db_session=db_session,
        ticket_id=ticket.id,
        kind=EventKind.NOTE,
        actor=Actor.staff(author_id),
        mentions=mentions,
    )
    return Note(message, mentions)
