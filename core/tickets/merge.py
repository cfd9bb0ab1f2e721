"""Merging duplicate requests into one, and splitting a message out into its own request.

Merging moves the whole conversation (messages in, replies out, notes) into the request
that is kept, so its thread reads as one across channels; the duplicate is closed with a
pointer. Requests of two different residents are merged only when staff confirm it: one
resident's messages then show in the other's request. A city case merges by dispatch's own
rule (its duplicates join the main case, with their photos and clocks).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.outbox.models import OutboxMessage
from core.routing.enums import BackOffice
from core.tickets import service as tickets_service
from core.tickets.actors import Actor
from core.tickets.enums import OPEN_STATUSES, Direction, EventKind, TicketKind, TicketStatus
from core.tickets.models import Ticket, TicketMessage

# Back offices whose records hang on the ticket: merging them is their own step.
OWN_MERGE = {BackOffice.DISPATCH: "dispatch", BackOffice.COMPLAINTS: "complaints"}


class MergeRefused(ValueError):
    """A merge or split that cannot be made: ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class MergeNeedsConfirmation(MergeRefused):
    """The two requests are two residents'; merging needs an explicit yes."""


def _check_merge(source: Ticket, target: Ticket, confirm: bool) -> None:
    if source.id == target.id:
        raise MergeRefused("same_ticket", "a request cannot be merged into itself")
    for ticket in (source, target):
        if TicketStatus(ticket.status) not in OPEN_STATUSES:
            raise MergeRefused("closed", f"request {ticket.public_number} is closed")
        if ticket.back_office in OWN_MERGE:
            raise MergeRefused(
                "own_workflow",
                f"request {ticket.public_number} is merged by its back office's own step",
            )
    different = (
        source.resident_id is not None
        and target.resident_id is not None
        and source.resident_id != target.resident_id
    )
    if different and not confirm:
        raise MergeNeedsConfirmation(
            "different_residents", "these are requests of two different residents"
        )


async def merge(
    *, db_session: AsyncSession, source: Ticket, target: Ticket, actor: Actor, confirm: bool
) -> Ticket:
    """Moves ``source``'s conversation into ``target`` and closes ``source``; returns target."""
    _check_merge(source, target, confirm)
    for model in (TicketMessage, OutboxMessage):
        await db_session.execute(
            update(model).where(model.ticket_id == source.id).values(ticket_id=target.id)
        )
    tickets_service.add_event(
        db_session=db_session,
        ticket_id=target.id,
        kind=EventKind.MERGED,
        actor=actor,
        joined=source.public_number,
    )
    tickets_service.add_event(
        db_session=db_session,
        ticket_id=source.id,
        kind=EventKind.MERGED,
        actor=actor,
        into=target.public_number,
    )
    # Closed at once: a duplicate has nothing left to resolve (its work is the target's).
    tickets_service.change_status(
        db_session=db_session,
        ticket=source,
        status=TicketStatus.CLOSED,
        actor=actor,
        reason=f"merged into {target.public_number}",
        enforce=False,
    )
    target.updated_at = source.updated_at
    return target


async def split(
    *, db_session: AsyncSession, ticket: Ticket, message_id: int, actor: Actor
) -> Ticket:
    """Moves one of the resident's messages out into a new request of its own.

    The new request is a general one in the same place: its topic may differ from the
    first's, so a person triages it (a city case's department would be a guess).
    """
    message = await db_session.get(TicketMessage, message_id)
    if message is None or message.ticket_id != ticket.id or message.direction != Direction.IN:
        raise MergeRefused("no_such_message", "no message of the resident with that id here")
    if TicketStatus(ticket.status) not in OPEN_STATUSES:
        raise MergeRefused("closed", f"request {ticket.public_number} is closed")
    new = await tickets_service.create(
        db_session=db_session,
        channel=message.channel,
        kind=TicketKind.GENERAL,
        summary=message.text,
        language=ticket.language,
        back_office=BackOffice.GENERAL,
        actor=actor,
        resident_id=ticket.resident_id,
        contact_id=ticket.contact_id,
        address=ticket.address,
        district_id=ticket.district_id,
        community_id=ticket.community_id,
        building_id=ticket.building_id,
    )
    message.ticket_id = new.id
    tickets_service.add_event(
        db_session=db_session,
        ticket_id=ticket.id,
        kind=EventKind.SPLIT,
        actor=actor,
        to=new.public_number,
    )
    return new
