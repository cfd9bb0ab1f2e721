"""REST API for tickets: create, read by public number, list with filters, change status."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, status

from channels.contract import Channel, InboundMessage
from core.auth.service import Principal
from core.db import utcnow
from core.intake import service as intake_service
from core.intake.intents import read_command
from core.routing.enums import BackOffice
from core.runtime import Hub
from core.tickets import presenters
from core.tickets import service as tickets_service
from core.tickets.actors import Actor
from core.tickets.enums import TicketKind, TicketStatus
from core.tickets.models import Ticket
from core.tickets.notify import notify_status
from core.tickets.schemas import (
    StatusChange,
    TicketCreate,
    TicketCreated,
    TicketDetail,
    TicketOut,
    TicketPage,
)
from core.web.deps import (
    HANDLING_ROLES,
    INTAKE_ROLES,
    STAFF_ROLES,
    DbIdQuery,
    HubDep,
    SessionDep,
    require_roles,
)

router = APIRouter(prefix="/tickets", tags=["tickets"])

StaffDep = Annotated[Principal, Depends(require_roles(*STAFF_ROLES))]
IntakeDep = Annotated[Principal, Depends(require_roles(*INTAKE_ROLES))]
HandlerDep = Annotated[Principal, Depends(require_roles(*HANDLING_ROLES))]


async def _ticket_in_scope(db_session: SessionDep, number: str, principal: Principal) -> Ticket:
    ticket = await tickets_service.get_by_public_number(db_session=db_session, number=number)
    # Outside the caller's scope looks exactly like "no such ticket": existence is data too.
    if ticket is None or not principal.scope.allows(ticket):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no ticket {number}")
    return ticket


async def _refuse_a_reused_key(hub: Hub, provider_message_id: str, fingerprint: str) -> None:
    """Refuses a key already used for another request, on whichever channel it was."""
    async with hub.session_factory() as db_session:
        raws = await intake_service.recorded_raws(
            db_session=db_session,
            provider_message_id=provider_message_id,
            channels=hub.channels.names(),
        )
    if any(raw.get("request") != fingerprint for raw in raws):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "this Idempotency-Key was already used for a different request",
        )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TicketCreated)
async def create_ticket(
    body: TicketCreate,
    hub: HubDep,
    principal: IntakeDep,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> TicketCreated:
    """Takes a request on a resident's behalf; it goes through intake like any message."""
    if read_command(body.text) is not None or hub.offices.claim(body.text) is not None:
        # Refused before intake: STOP, STATUS or a back office's command ("показания 150",
        # an account and PIN) typed into a request form must not act for the resident.
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "the text is a command, not a request"
        )
    key = idempotency_key or uuid.uuid4().hex
    # What the key was first used for: a retry must send the same request (IETF
    # Idempotency-Key draft), or a second, different ticket would silently be the first.
    fingerprint = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    # Keys are per caller: who took the request is the typed actor its message id names
    # ("staff:8:<key>"), so two callers' keys never collide and the record says who it was.
    taken_by = Actor.parse(principal.actor)
    message = InboundMessage(
        channel=body.channel,
        sender_address=body.sender_address,
        text=body.text,
        provider_message_id=f"{taken_by.token}:{key}",
        received_at=utcnow(),
        category_code=body.category_code,
        language=body.language,
        address_text=body.address,
        location=body.location,
        display_name=body.display_name,
        # Staff take each request as its own ticket; joining it to the resident's ticket
        # of a few minutes ago is for residents writing in several pieces.
        continue_recent=False,
        taken_by=taken_by.token,
        # The API's own payload is the request: its digest is what a retry must match.
        raw={"request": fingerprint},
    )
    if idempotency_key is not None:
        await _refuse_a_reused_key(hub, message.provider_message_id, fingerprint)
    try:
        result = await intake_service.receive(hub=hub, message=message)
    except intake_service.IntakeRejected as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    except intake_service.IntakeFailed as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, str(exc), headers={"Retry-After": "5"}
        ) from exc
    if result.duplicate and idempotency_key is not None:
        # A retry racing the first request: the first one's record is there now.
        await _refuse_a_reused_key(hub, message.provider_message_id, fingerprint)
    if result.ticket_number is None:
        # A command such as STATUS was sent through the ticket API: nothing to create.
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "the text is a command, not a request"
        )
    return TicketCreated(
        number=result.ticket_number,
        duplicate=result.duplicate,
        replies=[r.text for r in result.replies],
    )


@router.get("/{number}", response_model=TicketDetail)
async def get_ticket(number: str, db_session: SessionDep, principal: StaffDep) -> TicketDetail:
    """Returns a ticket with its thread and events, by public number."""
    ticket = await _ticket_in_scope(db_session, number, principal)
    return await presenters.ticket_detail(
        db_session=db_session, ticket=ticket, language=principal.language
    )


@router.get("", response_model=TicketPage)
async def list_tickets(
    db_session: SessionDep,
    principal: StaffDep,
    status_: Annotated[TicketStatus | None, Query(alias="status")] = None,
    kind: TicketKind | None = None,
    channel: Channel | None = None,
    category_id: DbIdQuery = None,
    department_id: DbIdQuery = None,
    district_id: DbIdQuery = None,
    overdue: bool | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> TicketPage:
    """Returns tickets in the caller's scope, newest first, one page at a time."""
    for moment in (created_from, created_to):
        if moment is not None and moment.tzinfo is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "dates must carry a timezone, e.g. 2026-11-21T10:00:00Z",
            )
    filters = tickets_service.TicketFilters(
        status=status_,
        kind=kind,
        channel=channel,
        category_id=category_id,
        department_id=department_id,
        district_id=district_id,
        overdue=overdue,
        created_from=created_from,
        created_to=created_to,
    )
    items, total = await tickets_service.list_tickets(
        db_session=db_session, scope=principal.scope, filters=filters, limit=limit, offset=offset
    )
    return TicketPage(
        items=[presenters.ticket_out(t, principal.language) for t in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post("/{number}/status", response_model=TicketOut)
async def change_ticket_status(
    number: str, body: StatusChange, db_session: SessionDep, principal: HandlerDep
) -> TicketOut:
    """Moves a ticket along its lifecycle and tells the resident on their channel."""
    ticket = await _ticket_in_scope(db_session, number, principal)
    if ticket.back_office == BackOffice.DISPATCH:
        # Its stages (dispatched, reported, verified…) drive the status; a bare status change
        # would leave the case's clock and stage behind.
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "a city case moves by its dispatch actions: "
            f"POST /api/v1/dispatch/cases/{number}/actions",
        )
    if ticket.back_office == BackOffice.COMPLAINTS:
        # The company's answer, the resident's verdict and the authority's finding drive it.
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "a complaint moves by its own steps: answer, verdict, route, finding "
            f"(POST /api/v1/complaints/complaints/{number}/...)",
        )
    try:
        tickets_service.change_status(
            db_session=db_session,
            ticket=ticket,
            status=body.status,
            actor=principal.actor,
            reason=body.reason,
        )
    except tickets_service.IllegalTransition as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    if body.notify_resident:
        await notify_status(db_session=db_session, ticket=ticket)
    # The notice is queued and live streams woken once this commits (core.events.collector).
    await db_session.commit()
    return presenters.ticket_out(ticket, principal.language)
