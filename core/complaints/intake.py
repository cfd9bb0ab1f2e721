"""The complaints back office's side of intake: a complaint about an estate goes to the
company that serves it under the contract register, with a deadline to answer.

The estate is the one the message names (portal and kiosk send its code), else the one
the resident's home is in, else the one whose building the address text names. No
estate, or no contract on the day: the authority's triage, never nowhere.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import InboundMessage
from core.backoffice import NotAFollowUp, Outcome, RoutedRequest
from core.complaints.enums import Stage
from core.complaints.flow import assign, give_verdict, read_verdict
from core.complaints.models import Complaint, PropertyCompany
from core.complaints.service import RESIDENT, SYSTEM, Context, local_day
from core.config import Settings
from core.i18n import pick_name
from core.intake.triage import due_at_for, summary_for
from core.routing.enums import BackOffice
from core.routing.service import RoutingTable
from core.territory.geocode import geocode
from core.territory.models import Estate
from core.territory.service import estate_of_building
from core.tickets import service as tickets_service
from core.tickets.enums import Direction, Priority, TicketKind
from core.tickets.models import Ticket


async def _estate_for(db_session: AsyncSession, request: RoutedRequest) -> Estate | None:
    message = request.message
    # The portal and kiosk name the estate picked as a typed field.
    code = message.fields.get("estate", "")
    if isinstance(code, str) and code.strip():
        estate = await db_session.scalar(select(Estate).where(Estate.code == code.strip()))
        if estate is not None:
            return estate
    if request.home is not None:
        estate = await estate_of_building(
            db_session=db_session, building_id=request.home.building_id
        )
        if estate is not None:
            return estate
    for text in (message.address_text, message.text):
        place = await geocode(db_session=db_session, text=text) if text else None
        if place is not None and place.building_id is not None:
            return await estate_of_building(db_session=db_session, building_id=place.building_id)
    return None


async def take_complaint(*, db_session: AsyncSession, request: RoutedRequest) -> Outcome:
    """Opens a complaint and routes it; answers with the number and who will answer."""
    message = request.message
    category = request.category
    if category is not None and category.kind != TicketKind.PROPERTY_COMPLAINT:
        category = None
    home = request.home
    ticket = await tickets_service.create(
        db_session=db_session,
        channel=message.channel,
        kind=TicketKind.PROPERTY_COMPLAINT,
        summary=summary_for(request),
        language=request.language,
        back_office=BackOffice.COMPLAINTS,
        actor=request.actor,
        category_id=category.id if category is not None else None,
        resident_id=request.contact.resident_id,
        contact_id=request.contact.id,
        priority=request.route.priority
        or (category.default_priority if category is not None else Priority.NORMAL),
        # The authority's department: it triages, and steps in when the company fails.
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
    complaint = Complaint(ticket_id=ticket.id, stage=Stage.TRIAGE)
    db_session.add(complaint)
    ctx = Context(SYSTEM, request.routing, request.settings, request.now)
    estate = await _estate_for(db_session, request)
    # Company notices are queued rows; the outbox sweep sends them within the minute.
    await assign(
        db_session=db_session,
        ctx=ctx,
        outbox_ids=[],
        ticket=ticket,
        complaint=complaint,
        estate=estate,
    )
    await db_session.flush()
    if complaint.stage == Stage.WITH_COMPANY and complaint.company_id is not None:
        company = await db_session.get(PropertyCompany, complaint.company_id)
        assert company is not None and complaint.respond_by is not None
        values = {
            "number": ticket.public_number,
            "company": pick_name(company.names, request.language),
            "respond_by": f"{local_day(request.settings, complaint.respond_by)}",
        }
        return Outcome(ticket=ticket, notices=[("complaint_received", values)])
    category_name = pick_name(category.names, request.language) if category else ""
    return Outcome(
        ticket=ticket,
        notices=[("ticket_created", {"number": ticket.public_number, "category": category_name})],
    )


async def follow_up(
    *,
    db_session: AsyncSession,
    ticket: Ticket,
    message: InboundMessage,
    routing: RoutingTable,
    settings: Settings,
    now: datetime,
) -> Outcome | None:
    """Reads a resident's reply to an answered complaint as their verdict."""
    complaint = await db_session.get(Complaint, ticket.id, with_for_update=True)
    if complaint is None or complaint.stage != Stage.ANSWERED:
        return None
    found = read_verdict(message.text or "")
    number = ticket.public_number
    if found is None:
        # Something the classifier recognises as another matter is a new request.
        if message.text and routing.classify_text(message.text) is not None:
            raise NotAFollowUp
        return Outcome(ticket=ticket, notices=[("complaint_verdict_help", {"number": number})])
    verdict, _why = found
    # Intake adds the resident's own words to the thread.
    await give_verdict(
        db_session=db_session,
        ctx=Context(RESIDENT, routing, settings, now),
        outbox_ids=[],
        ticket=ticket,
        complaint=complaint,
        verdict=verdict,
        tell=False,
    )
    notice = "complaint_resolved" if complaint.stage == Stage.RESOLVED else "complaint_escalated"
    return Outcome(ticket=ticket, notices=[(notice, {"number": number})])
