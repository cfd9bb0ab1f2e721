"""Tickets: create, read, list, thread messages, events and status changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, false, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import ScopeKind
from core.db import utcnow
from core.events.collector import enqueue_after_commit, wake_after_commit
from core.outbox.models import OutboxMessage
from core.tickets.actors import Actor
from core.tickets.enums import (
    ALLOWED_TRANSITIONS,
    Direction,
    EventKind,
    Priority,
    TicketKind,
    TicketStatus,
)
from core.tickets.models import Ticket, TicketEvent, TicketMessage
from core.tickets.numbers import parse_public_number


class IllegalTransition(ValueError):
    """A status change the ticket lifecycle does not allow."""


# Any SELECT that reads tickets (alone, or joined to their events).
_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class Scope:
    """What part of the city a staff member or API key may see."""

    kind: ScopeKind
    id: int | None = None

    def apply(self, query: _Query) -> _Query:
        """Returns the query restricted to tickets inside this scope."""
        if self.kind is ScopeKind.CITY:
            return query
        if self.kind is ScopeKind.DISTRICT:
            return query.where(Ticket.district_id == self.id)
        if self.kind is ScopeKind.COMMUNITY:
            return query.where(Ticket.community_id == self.id)
        if self.kind is ScopeKind.DEPARTMENT:
            return query.where(Ticket.department_id == self.id)
        # Company and committee scopes see only what their own back offices share with them.
        return query.where(false())

    def allows(self, ticket: Ticket) -> bool:
        """Returns whether a ticket lies inside this scope."""
        return {
            ScopeKind.CITY: True,
            ScopeKind.DISTRICT: ticket.district_id == self.id,
            ScopeKind.COMMUNITY: ticket.community_id == self.id,
            ScopeKind.DEPARTMENT: ticket.department_id == self.id,
        }.get(self.kind, False)


CITY_SCOPE = Scope(ScopeKind.CITY)
_INSERT_TICKET = insert(Ticket).returning(Ticket)


def add_event(
    *, db_session: AsyncSession, ticket_id: int, kind: EventKind, actor: Actor | str, **data: Any
) -> TicketEvent:
    """Appends an event to a ticket's audit trail; live streams are woken once it commits.

    ``actor`` is an ``Actor``, or a legacy string ("staff:8") that ``Actor.parse`` reads.
    """
    who = Actor.parse(actor)
    event = TicketEvent(
        ticket_id=ticket_id, kind=kind, actor_kind=who.kind, actor_id=who.id, data=data
    )
    db_session.add(event)
    wake_after_commit(db_session)
    return event


def distribute_after_commit(db_session: AsyncSession, ticket_id: int) -> None:
    """Asks the queue (core.assignment) to hand out waiting conversations after the commit."""
    enqueue_after_commit(db_session, "distribute_tickets", key=f"distribute:{ticket_id}")


async def create(
    *,
    db_session: AsyncSession,
    channel: str,
    kind: TicketKind | str,
    summary: str,
    language: str,
    back_office: str,
    actor: Actor | str,
    category_id: int | None = None,
    resident_id: int | None = None,
    contact_id: int | None = None,
    priority: Priority | str = Priority.NORMAL,
    department_id: int | None = None,
    sla_policy_id: int | None = None,
    due_at: datetime | None = None,
    address: str | None = None,
    district_id: int | None = None,
    community_id: int | None = None,
    building_id: int | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    route_name: str | None = None,
) -> Ticket:
    """Creates a ticket with its 'created' and 'routed' events."""
    now = utcnow()
    # One INSERT ... RETURNING instead of a unit-of-work flush: this is intake's hot path.
    ticket = await db_session.scalar(
        _INSERT_TICKET,
        [
            dict(
                channel=channel,
                kind=kind,
                category_id=category_id,
                resident_id=resident_id,
                contact_id=contact_id,
                summary=summary[:500],
                language=language,
                back_office=back_office,
                priority=priority,
                department_id=department_id,
                sla_policy_id=sla_policy_id,
                due_at=due_at,
                address=address,
                district_id=district_id,
                community_id=community_id,
                building_id=building_id,
                latitude=latitude,
                longitude=longitude,
                status=TicketStatus.ASSIGNED if department_id else TicketStatus.NEW,
                created_at=now,
                updated_at=now,
                overdue=False,
                escalation_level=0,
            )
        ],
    )
    assert ticket is not None
    add_event(
        db_session=db_session,
        ticket_id=ticket.id,
        kind=EventKind.CREATED,
        actor=actor,
        channel=channel,
        ticket_kind=str(kind),
    )
    if department_id is None:
        # A conversation for the call centre: the queue hands it to an available agent.
        distribute_after_commit(db_session, ticket.id)
    add_event(
        db_session=db_session,
        ticket_id=ticket.id,
        kind=EventKind.ROUTED,
        actor=Actor.SYSTEM,
        rule=route_name,
        back_office=back_office,
        department_id=department_id,
        due_at=due_at.isoformat() if due_at else None,
    )
    return ticket


def add_message(
    *,
    db_session: AsyncSession,
    ticket: Ticket,
    direction: Direction,
    channel: str,
    text: str,
    inbound_id: int | None = None,
    author_id: int | None = None,
    touch: bool = True,
) -> TicketMessage:
    """Adds a message to a ticket's thread (``touch=False`` for a ticket created just now)."""
    message = TicketMessage(
        ticket_id=ticket.id,
        direction=direction,
        channel=channel,
        text=text,
        inbound_id=inbound_id,
        author_id=author_id,
        # Stamped now, not at flush, so the thread orders it before the reply it caused.
        created_at=utcnow(),
    )
    db_session.add(message)
    if touch:
        ticket.updated_at = utcnow()
    return message


def change_status(
    *,
    db_session: AsyncSession,
    ticket: Ticket,
    status: TicketStatus,
    actor: Actor | str,
    reason: str | None = None,
    enforce: bool = True,
) -> TicketEvent:
    """Moves a ticket to ``status`` if the lifecycle allows it, recording why.

    ``enforce=False`` is for a back office with its own, stricter workflow (dispatch),
    which has already checked the move against its stages.
    """
    if enforce and status not in ALLOWED_TRANSITIONS[TicketStatus(ticket.status)]:
        raise IllegalTransition(f"a ticket cannot go from {ticket.status} to {status}")
    previous = ticket.status
    if ticket.assignee_id is not None and status in (
        TicketStatus.RESOLVED,
        TicketStatus.CLOSED,
        TicketStatus.REJECTED,
        TicketStatus.ON_HOLD,
    ):
        # The agent has room for the next conversation in the queue.
        distribute_after_commit(db_session, ticket.id)
    ticket.status = status
    ticket.updated_at = utcnow()
    if status in (TicketStatus.CLOSED, TicketStatus.REJECTED):
        ticket.closed_at = ticket.updated_at
    elif status is TicketStatus.REOPENED:
        ticket.closed_at = None
    return add_event(
        db_session=db_session,
        ticket_id=ticket.id,
        kind=EventKind.STATUS_CHANGED,
        actor=actor,
        previous=str(previous),
        status=str(status),
        reason=reason,
    )


async def get(*, db_session: AsyncSession, ticket_id: int) -> Ticket | None:
    """Returns a ticket based on the given id."""
    return await db_session.get(Ticket, ticket_id)


async def get_by_public_number(*, db_session: AsyncSession, number: str) -> Ticket | None:
    """Returns the ticket a public number names, or None for an unknown or mistyped one."""
    ticket_id = parse_public_number(number)
    if ticket_id is None:
        return None
    return await db_session.get(Ticket, ticket_id)


@dataclass(frozen=True)
class TicketFilters:
    status: TicketStatus | None = None
    kind: TicketKind | None = None
    channel: str | None = None
    category_id: int | None = None
    department_id: int | None = None
    district_id: int | None = None
    resident_id: int | None = None
    overdue: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


async def list_tickets(
    *,
    db_session: AsyncSession,
    scope: Scope,
    filters: TicketFilters,
    limit: int,
    offset: int,
) -> tuple[list[Ticket], int]:
    """Returns one page of tickets inside ``scope`` matching ``filters``, and the total."""
    query = scope.apply(select(Ticket))
    for column, value in (
        (Ticket.status, filters.status),
        (Ticket.kind, filters.kind),
        (Ticket.channel, filters.channel),
        (Ticket.category_id, filters.category_id),
        (Ticket.department_id, filters.department_id),
        (Ticket.district_id, filters.district_id),
        (Ticket.resident_id, filters.resident_id),
        (Ticket.overdue, filters.overdue),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.created_from is not None:
        query = query.where(Ticket.created_at >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(Ticket.created_at < filters.created_to)
    total = await db_session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await db_session.scalars(
        query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


@dataclass(frozen=True)
class ThreadEntry:
    direction: str
    channel: str
    text: str
    created_at: datetime
    delivery_status: str | None = None


async def thread(*, db_session: AsyncSession, ticket_id: int) -> list[ThreadEntry]:
    """Returns a ticket's messages in and out (with delivery status), oldest first."""
    inbound = await db_session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
    )
    outbound = await db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id)
    )
    entries = [ThreadEntry(m.direction, m.channel, m.text, m.created_at) for m in inbound] + [
        ThreadEntry(Direction.OUT, o.channel, o.text, o.created_at, o.status) for o in outbound
    ]
    return sorted(entries, key=lambda entry: (entry.created_at, entry.direction == Direction.OUT))


async def events(*, db_session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
    """Returns a ticket's events, oldest first."""
    return list(
        await db_session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
    )
