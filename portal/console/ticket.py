"""The ticket view: the whole conversation across channels, the clock, the history, and the
panels a staff member acts from. Actions live in ``portal.console.ticket_actions``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.runtime import Hub
from core.sla.countdown import countdown
from core.tickets import conversation, inbox, presenters
from core.tickets import service as tickets_service
from core.tickets.enums import OPEN_STATUSES, TicketStatus
from core.tickets.models import Ticket
from core.web.deps import HubDep, SessionDep
from portal.console import ticket_panels
from portal.console.auth import NotFound, Staff, allow
from portal.console.inbox import Lookups
from portal.console.nav import DESK, TICKET_ROLES
from portal.console.pages import fragment, page

router = APIRouter(prefix="/console/tickets", include_in_schema=False)
ViewerDep = Annotated[Staff, Depends(allow(*TICKET_ROLES))]
# A public number: digits with a check digit; anything longer is not one.
Number = Annotated[str, Path(max_length=20, pattern=r"^[0-9A-Za-z-]+$")]


async def ticket_in_scope(db_session: AsyncSession, number: str, staff: Staff) -> Ticket:
    """Returns the ticket if the staff member's scope holds it; otherwise the 404 page."""
    ticket = await tickets_service.get_by_public_number(db_session=db_session, number=number)
    if ticket is None or not staff.principal.scope.allows(ticket):
        raise NotFound(staff.language)
    return ticket


async def thread_context(
    db_session: AsyncSession, hub: Hub, ticket: Ticket, staff: Staff
) -> dict[str, Any]:
    """Returns what the conversation and history panels draw (also their live redraw)."""
    entries = await conversation.entries(db_session=db_session, ticket_id=ticket.id)
    events = await tickets_service.events(db_session=db_session, ticket_id=ticket.id)
    names = await presenters.names_for(db_session=db_session, ticket=ticket, events=events)
    history = presenters.history_rows(ticket, events, names, language=staff.language, public=False)
    lookups = await Lookups.cached(hub, db_session, staff.language)
    return {
        "ticket": ticket,
        "can_split": staff.may(*DESK) and TicketStatus(ticket.status) in OPEN_STATUSES,
        "entries": entries,
        "history": list(reversed(history)),
        "lookups": lookups,
    }


@router.get("/{number}", response_class=HTMLResponse)
async def ticket_page(
    request: Request, number: Number, hub: HubDep, db_session: SessionDep, staff: ViewerDep
) -> Response:
    """The ticket with everything about it; opening it marks it read for this staff member."""
    table = await hub.routing.get()
    ticket = await ticket_in_scope(db_session, number, staff)
    context = await thread_context(db_session, hub, ticket, staff)
    panels = await ticket_panels.panels(db_session=db_session, hub=hub, ticket=ticket, staff=staff)
    await inbox.mark_read(db_session=db_session, staff_id=staff.id, ticket_id=ticket.id)
    await db_session.commit()
    return page(
        request,
        staff,
        "console/ticket.html",
        clock=countdown(ticket, table, utcnow()),
        **context,
        **panels,
    )


@router.get("/{number}/thread", response_class=HTMLResponse)
async def ticket_thread(
    request: Request, number: Number, hub: HubDep, db_session: SessionDep, staff: ViewerDep
) -> Response:
    """The conversation and history, redrawn when the stream says this ticket changed."""
    table = await hub.routing.get()
    ticket = await ticket_in_scope(db_session, number, staff)
    context = await thread_context(db_session, hub, ticket, staff)
    await inbox.mark_read(db_session=db_session, staff_id=staff.id, ticket_id=ticket.id)
    await db_session.commit()
    return fragment(
        request,
        staff,
        "console/_ticket_live.html",
        clock=countdown(ticket, table, utcnow()),
        **context,
    )
