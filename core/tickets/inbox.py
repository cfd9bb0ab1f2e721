"""The staff inbox: saved views and filters over the tickets in a scope, with unread marks.

One query per page, keyset-paged (no OFFSET that grows with the page number), on indexes
made for it (migration 0016), so a first paint stays fast at a million tickets. The same
predicate decides whether a ticket that just changed belongs in a console's current view,
so the live list and a reload never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, and_, false, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.tickets.enums import OPEN_STATUSES, TicketKind, TicketStatus
from core.tickets.models import Ticket
from core.tickets.numbers import parse_public_number
from core.tickets.service import Scope

PAGE = 50
# Sorted: the same list in every process, as the queue's partial index names it.
_OPEN = sorted(str(status) for status in OPEN_STATUSES)


class TicketRead(Base):
    """When a staff member last opened a ticket: newer activity makes it unread for them."""

    __tablename__ = "ticket_reads"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class View(StrEnum):
    """The saved views every staff member has."""

    MINE = "mine"
    UNASSIGNED = "unassigned"
    TEAM = "team"
    OVERDUE = "overdue"
    # Asked the resident something and waiting (status on hold).
    WAITING = "waiting"
    ALL = "all"


@dataclass(frozen=True)
class InboxQuery:
    view: View = View.MINE
    status: TicketStatus | None = None
    channel: str | None = None
    kind: TicketKind | None = None
    category_id: int | None = None
    district_id: int | None = None
    department_id: int | None = None
    # Keyset cursor: the last row of the previous page (its sort time and id).
    after_time: datetime | None = None
    after_id: int | None = None


@dataclass(frozen=True)
class Viewer:
    """Whose inbox: the staff member, their territory and the teams they answer for."""

    staff_id: int
    scope: Scope
    teams: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class InboxRow:
    ticket: Ticket
    unread: bool


def oldest_first(view: View) -> bool:
    """The unassigned view is the queue: the oldest waiting request comes first."""
    return view is View.UNASSIGNED


def _view_clause(viewer: Viewer, query: InboxQuery) -> ColumnElement[bool]:
    """Returns the condition of a view and its filters (the scope is applied apart)."""
    parts: list[ColumnElement[bool]] = []
    view = query.view
    if query.status is not None:
        parts.append(Ticket.status == str(query.status))
    elif view is View.WAITING:
        parts.append(Ticket.status == str(TicketStatus.ON_HOLD))
    elif view is not View.ALL:
        parts.append(Ticket.status.in_(_OPEN))
    if view is View.MINE:
        parts.append(Ticket.assignee_id == viewer.staff_id)
    elif view is View.UNASSIGNED:
        parts.append(Ticket.assignee_id.is_(None))
    elif view is View.TEAM:
        parts.append(Ticket.back_office.in_(list(viewer.teams)) if viewer.teams else false())
    elif view is View.OVERDUE:
        parts.append(Ticket.overdue.is_(True))
    for column, value in (
        (Ticket.channel, query.channel),
        (Ticket.kind, query.kind),
        (Ticket.category_id, query.category_id),
        (Ticket.district_id, query.district_id),
        (Ticket.department_id, query.department_id),
    ):
        if value is not None:
            parts.append(column == value)
    return and_(true(), *parts)


def _order(view: View) -> tuple[Any, Any]:
    if oldest_first(view):
        return Ticket.created_at, Ticket.id
    return Ticket.updated_at, Ticket.id


async def page(
    *, db_session: AsyncSession, viewer: Viewer, query: InboxQuery, limit: int = PAGE
) -> list[InboxRow]:
    """Returns one page of a view, each row with its unread mark for the viewer."""
    time_column, id_column = _order(query.view)
    statement = viewer.scope.apply(
        select(Ticket, TicketRead.seen_at)
        .outerjoin(
            TicketRead,
            and_(TicketRead.ticket_id == Ticket.id, TicketRead.staff_id == viewer.staff_id),
        )
        .where(_view_clause(viewer, query))
    )
    if query.after_time is not None and query.after_id is not None:
        if oldest_first(query.view):
            statement = statement.where(
                or_(
                    time_column > query.after_time,
                    and_(time_column == query.after_time, id_column > query.after_id),
                )
            )
        else:
            statement = statement.where(
                or_(
                    time_column < query.after_time,
                    and_(time_column == query.after_time, id_column < query.after_id),
                )
            )
    if oldest_first(query.view):
        statement = statement.order_by(time_column, id_column)
    else:
        statement = statement.order_by(time_column.desc(), id_column.desc())
    rows = (await db_session.execute(statement.limit(limit))).all()
    return [InboxRow(ticket, _unread(ticket, seen_at)) for ticket, seen_at in rows]


def _unread(ticket: Ticket, seen_at: datetime | None) -> bool:
    return seen_at is None or ticket.updated_at > seen_at


async def rows_for(
    *, db_session: AsyncSession, viewer: Viewer, query: InboxQuery, numbers: Sequence[str]
) -> tuple[list[InboxRow], list[str]]:
    """Returns the rows of these tickets that belong in the view, and the numbers that don't.

    The live inbox asks this when the stream says tickets changed: a row that now matches
    is drawn (or redrawn), one that no longer does (assigned away, closed) is removed.
    """
    ids = {number: parse_public_number(number) for number in numbers}
    known = [ticket_id for ticket_id in ids.values() if ticket_id is not None]
    if not known:
        return [], list(numbers)
    statement = viewer.scope.apply(
        select(Ticket, TicketRead.seen_at)
        .outerjoin(
            TicketRead,
            and_(TicketRead.ticket_id == Ticket.id, TicketRead.staff_id == viewer.staff_id),
        )
        .where(Ticket.id.in_(known), _view_clause(viewer, query))
    )
    rows = [
        InboxRow(ticket, _unread(ticket, seen_at))
        for ticket, seen_at in (await db_session.execute(statement)).all()
    ]
    shown = {row.ticket.public_number for row in rows}
    return rows, [number for number in numbers if number not in shown]


async def mark_read(*, db_session: AsyncSession, staff_id: int, ticket_id: int) -> None:
    """Records that the staff member has seen the ticket as it is now."""
    now = utcnow()
    changed = await db_session.execute(
        update(TicketRead)
        .where(TicketRead.staff_id == staff_id, TicketRead.ticket_id == ticket_id)
        .values(seen_at=now)
    )
    if getattr(changed, "rowcount", 0):
        return
    try:
        # The same ticket open in two tabs may insert at once: the loser's mark is the same.
        async with db_session.begin_nested():
            await db_session.execute(
                insert(TicketRead).values(staff_id=staff_id, ticket_id=ticket_id, seen_at=now)
            )
    except IntegrityError:
        pass
