"""Handing a ticket to a colleague or a department by hand (the queue hands out the rest)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import Role
from core.auth.models import StaffUser
from core.auth.service import principal_for
from core.db import utcnow
from core.routing.models import Department
from core.tickets import service as tickets_service
from core.tickets.actors import Actor
from core.tickets.enums import OPEN_STATUSES, EventKind, TicketStatus
from core.tickets.models import Ticket

# Who can hold a ticket: those who work conversations (a department holds it as a whole).
ASSIGNABLE = frozenset({Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})


class AssignRefused(ValueError):
    """An assignment that cannot be made: ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def _check_assignee(db_session: AsyncSession, ticket: Ticket, staff_id: int) -> None:
    user = await db_session.get(StaffUser, staff_id)
    if user is None or not user.active or Role(user.role) not in ASSIGNABLE:
        raise AssignRefused("no_such_agent", "no active colleague with that id takes tickets")
    if not principal_for(user).scope.allows(ticket):
        raise AssignRefused("outside_scope", "this colleague cannot see this request")


async def assign(
    *,
    db_session: AsyncSession,
    ticket: Ticket,
    actor: Actor,
    assignee_id: int | None,
    department_id: int | None = None,
) -> None:
    """Gives the ticket to ``assignee_id`` (None: back to the queue) and, if given, a
    department; records who did it. Raises AssignRefused."""
    if TicketStatus(ticket.status) not in OPEN_STATUSES:
        raise AssignRefused("closed", "a closed request cannot be assigned")
    if assignee_id is not None:
        await _check_assignee(db_session, ticket, assignee_id)
    if department_id is not None:
        department = await db_session.get(Department, department_id)
        if department is None or not department.active:
            raise AssignRefused("no_such_department", "no active department with that id")
    if assignee_id == ticket.assignee_id and department_id in (None, ticket.department_id):
        return
    ticket.assignee_id = assignee_id
    if department_id is not None:
        ticket.department_id = department_id
    ticket.updated_at = utcnow()
    tickets_service.add_event(
        db_session=db_session,
        ticket_id=ticket.id,
        kind=EventKind.ASSIGNED,
        actor=actor,
        assignee_id=assignee_id,
        department_id=department_id,
    )
    held = assignee_id is not None or department_id is not None
    # A new or reopened request someone now holds is assigned; one in progress stays so.
    if held and ticket.status in (TicketStatus.NEW, TicketStatus.REOPENED):
        tickets_service.change_status(
            db_session=db_session, ticket=ticket, status=TicketStatus.ASSIGNED, actor=actor
        )
