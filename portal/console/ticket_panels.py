"""What the ticket page offers a staff member: which panels, with which choices.

Only choices the rules allow are offered (the next statuses of the lifecycle, colleagues who
can see the ticket, channels the resident can be reached on); the services check again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.models import StaffUser
from core.auth.service import principal_for
from core.i18n import gettext, pick_name
from core.routing.enums import BackOffice
from core.routing.models import Department
from core.runtime import Hub
from core.tickets import canned as canned_service
from core.tickets import replies
from core.tickets.actions_views import NOTE_ROLES, REPLY_ROLES
from core.tickets.assign import ASSIGNABLE
from core.tickets.enums import ALLOWED_TRANSITIONS, OPEN_STATUSES, TicketStatus
from core.tickets.models import Ticket
from portal.console.auth import Staff
from portal.console.nav import DESK

# Who may reply, note, assign, change a status, merge and split on the ticket page: the
# same roles the JSON API lets do it.
ASSIGN_ROLES = DESK
MERGE_ROLES = DESK
# Back offices whose own steps move the status (their screens do it, not this panel).
OWN_WORKFLOW = {
    BackOffice.DISPATCH: "/console/dispatch/cases/{number}",
    BackOffice.COMPLAINTS: "/console/complaints/{number}",
}


async def assignees(db_session: AsyncSession, ticket: Ticket) -> list[tuple[int, str]]:
    """Returns the colleagues a ticket can be assigned to: active, whose scope holds it."""
    users = await db_session.scalars(
        select(StaffUser)
        .where(StaffUser.active.is_(True), StaffUser.role.in_(sorted(ASSIGNABLE)))
        .order_by(StaffUser.display_name)
    )
    return [(u.id, u.display_name) for u in users if principal_for(u).scope.allows(ticket)]


async def departments(db_session: AsyncSession, language: str) -> list[tuple[int, str]]:
    """Returns the active departments, by name in the staff member's language."""
    rows = await db_session.scalars(select(Department).where(Department.active.is_(True)))
    return sorted(((d.id, pick_name(d.names, language)) for d in rows), key=lambda p: p[1])


def next_statuses(ticket: Ticket) -> list[str]:
    """Returns the statuses the generic lifecycle allows next, for a console button each."""
    return [
        str(status)
        for status in ALLOWED_TRANSITIONS[TicketStatus(ticket.status)]
        if status is not TicketStatus.ASSIGNED
    ]


async def panels(
    *, db_session: AsyncSession, hub: Hub, ticket: Ticket, staff: Staff
) -> dict[str, Any]:
    """Returns the panels' choices for this staff member and ticket."""
    own = (
        OWN_WORKFLOW.get(BackOffice(ticket.back_office))
        if ticket.back_office in set(BackOffice)
        else None
    )
    is_open = TicketStatus(ticket.status) in OPEN_STATUSES
    can_reply = staff.may(*REPLY_ROLES) and ticket.contact_id is not None
    context: dict[str, Any] = {
        "can_reply": can_reply,
        "can_note": staff.may(*NOTE_ROLES),
        "can_assign": staff.may(*ASSIGN_ROLES) and is_open,
        "can_merge": staff.may(*MERGE_ROLES) and is_open and own is None,
        "statuses": [] if own or not staff.may(*ASSIGN_ROLES) else next_statuses(ticket),
        "status_elsewhere": gettext(
            staff.language, "This request moves by the steps of its back office."
        )
        if own
        else None,
        "status_link": own.format(number=ticket.public_number) if own else None,
        "assignees": await assignees(db_session, ticket) if staff.may(*ASSIGN_ROLES) else [],
        "departments": await departments(db_session, staff.language)
        if staff.may(*ASSIGN_ROLES)
        else [],
        "reply_options": [],
        "canned": [],
    }
    if can_reply:
        context["reply_options"] = await replies.reply_options(db_session=db_session, ticket=ticket)
        context["reply_channel"] = next(
            (o.channel for o in context["reply_options"] if o.is_origin and o.available), None
        )
        context["canned"] = await canned_service.list_canned(
            db_session=db_session, language=ticket.language
        )
    return context
