"""The dispatch back office's side of intake: a street problem becomes an accepted case.

The report is placed (its point, else an address found in the gazetteer), checked against
open cases nearby, and its pictures queued for fetching. A person then verifies and
registers it: the clock does not start until dispatch (DOMAIN §1).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import InboundMessage
from channels.registry import of_session
from channels.spec import Delivery
from core.backoffice import Outcome, RoutedRequest
from core.config import Settings
from core.dispatch import duplicates
from core.dispatch.actions import place_case
from core.dispatch.enums import PhotoStatus, Stage, Urgency
from core.dispatch.models import Case, CasePhoto
from core.events.collector import enqueue_after_commit
from core.i18n import pick_name
from core.intake.triage import summary_for
from core.routing.enums import BackOffice
from core.routing.service import RoutingTable
from core.territory.geocode import geocode
from core.tickets import service as tickets_service
from core.tickets.enums import Direction, EventKind, Priority, TicketKind
from core.tickets.models import Ticket


async def take_report(*, db_session: AsyncSession, request: RoutedRequest) -> Outcome:
    """Accepts a city-case report and answers with its number."""
    message = request.message
    category = request.category
    if category is not None and category.kind != TicketKind.CITY_CASE:
        category = None
    priority = request.route.priority or (
        category.default_priority if category is not None else Priority.NORMAL
    )
    ticket = await tickets_service.create(
        db_session=db_session,
        channel=message.channel,
        kind=TicketKind.CITY_CASE,
        summary=summary_for(request),
        language=request.language,
        back_office=BackOffice.DISPATCH,
        actor=request.actor,
        category_id=category.id if category is not None else None,
        resident_id=request.contact.resident_id,
        contact_id=request.contact.id,
        priority=priority,
        address=message.address_text,
        route_name=request.route.rule_name,
    )
    # Open311 attribute answers arrive as typed fields "attribute:<code>".
    attributes = {
        key.removeprefix("attribute:"): value
        for key, value in message.fields.items()
        if key.startswith("attribute:")
    }
    case = Case(
        ticket_id=ticket.id,
        stage=Stage.ACCEPTED,
        urgency=Urgency.URGENT if priority == Priority.URGENT else Urgency.NORMAL,
        attributes=attributes,
        extensions=0,
        reworks=0,
        returns=0,
    )
    db_session.add(case)
    tickets_service.add_message(
        db_session=db_session,
        ticket=ticket,
        direction=Direction.IN,
        channel=message.channel,
        text=message.text,
        inbound_id=request.inbound_id,
        touch=False,
    )
    await _place(db_session, ticket, request)
    _queue_photos(db_session, ticket, message)
    await db_session.flush()
    settings = request.settings
    await duplicates.suggest(
        db_session=db_session,
        ticket=ticket,
        radius_m=settings.dispatch_duplicate_radius_m,
        window=timedelta(hours=settings.dispatch_duplicate_window_hours),
        now=request.now,
    )
    if of_session(db_session).spec(message.channel).delivery is Delivery.NONE:
        # An Open311 client has the number in the POST's answer and polls for the rest.
        return Outcome(ticket=ticket)
    category_name = pick_name(category.names, request.language) if category else ""
    return Outcome(
        ticket=ticket,
        notices=[("ticket_created", {"number": ticket.public_number, "category": category_name})],
    )


def _queue_photos(db_session: AsyncSession, ticket: Ticket, message: InboundMessage) -> None:
    """Queues the message's pictures for fetching into the case's photos."""
    for attachment in message.attachments:
        db_session.add(
            CasePhoto(
                ticket_id=ticket.id,
                status=PhotoStatus.PENDING,
                source=str(message.channel),
                source_url=attachment.url,
                content_type=(attachment.content_type or "")[:64] or None,
                attempts=0,
            )
        )
    if message.attachments:
        enqueue_after_commit(db_session, "fetch_case_photos", key=f"photos:{ticket.id}")


async def add_to_report(
    *,
    db_session: AsyncSession,
    ticket: Ticket,
    message: InboundMessage,
    routing: RoutingTable,
    settings: Settings,
    now: datetime,
) -> Outcome | None:
    """Keeps what a follow-up adds to a case: its photos, and its pin if it had none.

    Intake adds the words to the thread and gives the ordinary "added" answer.
    """
    _queue_photos(db_session, ticket, message)
    if message.location is not None and ticket.latitude is None:
        await place_case(
            db_session=db_session,
            ticket=ticket,
            latitude=message.location.latitude,
            longitude=message.location.longitude,
            max_age=settings.routing_cache_seconds,
        )
    return None


async def _place(db_session: AsyncSession, ticket: Ticket, request: RoutedRequest) -> None:
    """Puts the case where the reporter says: their point, or an address they named."""
    message = request.message
    max_age = request.settings.routing_cache_seconds
    if message.location is not None:
        await place_case(
            db_session=db_session,
            ticket=ticket,
            latitude=message.location.latitude,
            longitude=message.location.longitude,
            max_age=max_age,
        )
        return
    for text in (message.address_text, message.text):
        place = await geocode(db_session=db_session, text=text) if text else None
        if place is None:
            continue
        await place_case(
            db_session=db_session,
            ticket=ticket,
            latitude=place.latitude,
            longitude=place.longitude,
            max_age=max_age,
        )
        if place.building_id is not None:
            ticket.building_id = place.building_id
        tickets_service.add_event(
            db_session=db_session,
            ticket_id=ticket.id,
            kind=EventKind.ROUTED,
            actor="system",
            geocoded=place.name,
            place_kind=place.kind,
        )
        return
