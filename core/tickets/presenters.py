"""Turning tickets into what people read: readable names beside the codes, the history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.models import ApiKey, StaffUser
from core.i18n import pick_name
from core.routing.models import Department
from core.tickets import service as tickets_service
from core.tickets.enums import ActorKind
from core.tickets.models import Ticket, TicketEvent
from core.tickets.schemas import EventOut, MessageOut, TicketDetail, TicketOut
from core.tickets.wording import (
    Names,
    actor_name,
    back_office_name,
    describe_event,
    status_word,
)


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    what: str
    who: str


async def _rows(db_session: AsyncSession, model: Any, ids: set[int], *columns: Any) -> list[Any]:
    if not ids:
        return []
    return list(
        (await db_session.execute(select(model.id, *columns).where(model.id.in_(ids)))).all()
    )


def department_ids(ticket: Ticket, events: list[TicketEvent]) -> set[int]:
    """Returns the departments a ticket and its events name."""
    found = {ticket.department_id} if ticket.department_id else set()
    for event in events:
        department = (event.data or {}).get("department_id")
        if isinstance(department, int):
            found.add(department)
    return found


async def names_for(
    *,
    db_session: AsyncSession,
    ticket: Ticket,
    events: list[TicketEvent],
    departments: Mapping[int, Mapping[str, str]] | None = None,
) -> Names:
    """Returns the people, keys and departments a ticket's events name, one query each."""
    staff_ids: set[int] = set()
    key_ids: set[int] = set()
    for event in events:
        actor = event.actor
        if actor.kind is ActorKind.STAFF and actor.id is not None:
            staff_ids.add(actor.id)
        elif actor.kind is ActorKind.API_KEY and actor.id is not None:
            key_ids.add(actor.id)
    staff = await _rows(db_session, StaffUser, staff_ids, StaffUser.display_name, StaffUser.role)
    keys = await _rows(db_session, ApiKey, key_ids, ApiKey.name)
    if departments is None:
        # A back office that already read these departments (for their codes) passes them in,
        # so the table is read once per request.
        rows = await _rows(db_session, Department, department_ids(ticket, events), Department.names)
        departments = {row[0]: row[1] for row in rows}
    return Names(
        staff={row[0]: (row[1], str(row[2])) for row in staff},
        api_keys={row[0]: row[1] for row in keys},
        departments=departments,
    )


def history_rows(
    ticket: Ticket, events: list[TicketEvent], names: Names, *, language: str, public: bool
) -> list[HistoryRow]:
    """Returns a ticket's events as sentences: what changed and who did it."""
    return [
        HistoryRow(
            at=event.created_at,
            what=describe_event(
                language, event.kind, event.data or {}, back_office=ticket.back_office, names=names
            ),
            who=actor_name(language, event.actor.token, names, public=public),
        )
        for event in events
    ]


def department_name(ticket: Ticket, names: Names, language: str) -> str | None:
    """Returns the name of the department handling a ticket, if any."""
    found = names.departments.get(ticket.department_id) if ticket.department_id else None
    return pick_name(dict(found), language) if found else None


def ticket_out(ticket: Ticket, language: str) -> TicketOut:
    """Returns a ticket for the API: its codes, and beside them the names people read."""
    out = TicketOut.model_validate(ticket)
    out.status_name = status_word(language, ticket.status)
    out.back_office_name = back_office_name(language, ticket.back_office)
    return out


async def ticket_detail(*, db_session: AsyncSession, ticket: Ticket, language: str) -> TicketDetail:
    """Returns a ticket with its thread and its events, each described in words."""
    messages = await tickets_service.thread(db_session=db_session, ticket_id=ticket.id)
    events = await tickets_service.events(db_session=db_session, ticket_id=ticket.id)
    names = await names_for(db_session=db_session, ticket=ticket, events=events)
    rows = history_rows(ticket, events, names, language=language, public=False)
    return TicketDetail(
        **ticket_out(ticket, language).model_dump(),
        department_name=department_name(ticket, names, language),
        messages=[MessageOut.model_validate(m) for m in messages],
        events=described_events(events, rows),
    )


def described_events(events: Sequence[TicketEvent], rows: Sequence[HistoryRow]) -> list[EventOut]:
    """Returns each event with who did it and what changed, in words, beside its codes."""
    return [
        EventOut(
            kind=e.kind,
            actor=e.actor.token,
            actor_kind=e.actor_kind,
            actor_id=e.actor_id,
            data=e.data,
            created_at=e.created_at,
            actor_name=row.who,
            description=row.what,
        )
        for e, row in zip(events, rows, strict=True)
    ]
