"""General triage: a request no back office claims becomes a ticket in the triage queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.backoffice import BackOfficeSpec, Outcome, RoutedRequest
from core.i18n import pick_name
from core.routing.enums import BackOffice
from core.sla.calendar import WorkingCalendar
from core.tickets import service as tickets_service
from core.tickets.enums import Direction, Priority, TicketKind, TicketStatus
from core.tickets.models import Ticket


def due_at_for(request: RoutedRequest) -> datetime | None:
    """Returns the due time the route's SLA policy gives, or None when it has none."""
    policy = request.routing.policies.get(request.route.sla_policy_id or -1)
    if policy is None:
        return None
    calendar: WorkingCalendar = request.routing.calendars[policy.calendar_id]
    return calendar.due_at(request.now, policy.resolution_limit, policy.unit)


def summary_for(request: RoutedRequest) -> str:
    """Returns a one-line summary: the resident's words, or the category they chose."""
    if request.message.text:
        return request.message.text.splitlines()[0][:500]
    if request.category is not None:
        return pick_name(request.category.names, request.language)
    return "(no text)"


async def open_ticket(*, db_session: AsyncSession, request: RoutedRequest) -> Outcome:
    """Creates a ticket for a new request and answers with its number."""
    message = request.message
    category = request.category
    priority = request.route.priority or (
        category.default_priority if category is not None else Priority.NORMAL
    )
    home = request.home
    ticket = await tickets_service.create(
        db_session=db_session,
        channel=message.channel,
        kind=request.kind,
        summary=summary_for(request),
        language=request.language,
        back_office=request.route.back_office,
        actor=request.actor,
        category_id=category.id if category is not None else None,
        resident_id=request.contact.resident_id,
        contact_id=request.contact.id,
        priority=priority,
        department_id=request.route.department_id,
        sla_policy_id=request.route.sla_policy_id,
        due_at=due_at_for(request),
        address=message.address_text,
        district_id=home.district_id if home else None,
        community_id=home.community_id if home else None,
        building_id=home.building_id if home else None,
        latitude=message.location.latitude if message.location else None,
        longitude=message.location.longitude if message.location else None,
        route_name=request.route.rule_name,
    )
    tickets_service.add_message(
        db_session=db_session,
        ticket=ticket,
        direction=Direction.IN,
        channel=message.channel,
        text=message.text,
        inbound_id=request.inbound_id,
        touch=False,
    )
    category_name = pick_name(category.names, request.language) if category else ""
    return Outcome(
        ticket=ticket,
        notices=[("ticket_created", {"number": ticket.public_number, "category": category_name})],
    )


async def _held_for_resident(*, db_session: AsyncSession, ticket: Ticket) -> bool:
    # Staff put a general request on hold to ask the resident something.
    return ticket.status == TicketStatus.ON_HOLD


SPEC = BackOfficeSpec(
    name=BackOffice.GENERAL,
    kinds=(TicketKind.GENERAL,),
    handler=open_ticket,
    awaits_answer=_held_for_resident,
)
