"""Carrying out intake's decision: answer a command or a choice, follow up, or hand off."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import Choice, Expect, InboundMessage
from core.backoffice import (
    Answer,
    BackOffices,
    Claim,
    NotAFollowUp,
    Outcome,
    RoutedRequest,
    notice,
)
from core.config import Settings
from core.i18n import gettext
from core.intake.context import ConversationContext
from core.intake.decision import Decision, Step
from core.intake.intents import Intent, IntentName
from core.intake.models import InboundRecord
from core.notices import service as notices_service
from core.routing.models import Category
from core.routing.service import RoutingTable, kind_of
from core.tickets import service as tickets_service
from core.tickets.enums import Direction, EventKind, TicketStatus
from core.tickets.models import Ticket, TicketMessage
from core.tickets.wording import status_word

# The most requests a status answer lists as choices (one SMS segment or so).
LISTED_TICKETS = 5
OPEN = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.ON_HOLD)


@dataclass(frozen=True)
class Turn:
    """One message being acted on, with everything the steps below need."""

    session: AsyncSession
    offices: BackOffices
    routing: RoutingTable
    message: InboundMessage
    inbound_id: int
    context: ConversationContext
    language: str
    now: datetime
    settings: Settings


async def act(turn: Turn, decision: Decision) -> Outcome:
    """Carries out ``decision`` and returns what was done and what to answer."""
    if decision.step is Step.COMMAND and decision.command is not None:
        return await _command(turn, decision.command)
    if decision.step is Step.CHOICE and decision.pending is not None:
        assert decision.choice is not None
        return await _choice(turn, decision)
    if decision.step is Step.CHOICE_AGAIN and decision.pending is not None:
        # The same choices again: a digit or button that matches none of them.
        pending = decision.pending
        choices = [Choice.model_validate(item) for item in pending.choices]
        structure = notice("choice_again", choices=choices, expects=Expect.CHOICE)
        return Outcome(None, [structure], purpose=pending.purpose, context=pending.context)
    if decision.step is Step.CHOICE_STALE:
        return Outcome(None, [("choice_stale", {})])
    if decision.step is Step.HELP:
        return Outcome(None, [("help", {})])
    if decision.step is Step.CONTINUE and decision.ticket is not None:
        followed = await _continue(turn, decision.ticket, ambiguous=decision.ambiguous)
        if followed is not None:
            return followed
        # The back office saw a new request, not an answer (someone asked to confirm one
        # complaint may text about something else): it goes the ordinary way.
        decision = Decision(Step.REQUEST, category=turn.routing.classify_text(turn.message.text))
    return await hand_off(turn, decision.category, decision.claim)


async def _command(turn: Turn, command: Intent) -> Outcome:
    contact = turn.context.contact
    if command.name is IntentName.HELP:
        return Outcome(None, [("help", {})])
    if command.name in (IntentName.OPT_OUT, IntentName.OPT_IN):
        opting_out = command.name is IntentName.OPT_OUT
        await notices_service.set_opt_out(
            db_session=turn.session, contact=contact, opted_out=opting_out
        )
        return Outcome(None, [("opted_out" if opting_out else "opted_in", {})])
    if command.name in (IntentName.SUBSCRIBE, IntentName.UNSUBSCRIBE) and command.topic:
        subscribing = command.name is IntentName.SUBSCRIBE
        await notices_service.set_subscription(
            db_session=turn.session, contact_id=contact.id, topic=command.topic, active=subscribing
        )
        name = "subscribed" if subscribing else "unsubscribed"
        return Outcome(None, [(name, {"topic": str(command.topic)})])
    if command.name is IntentName.STATUS and not command.argument:
        return await _ticket_list(turn)
    if command.name is IntentName.STATUS:
        ticket = await tickets_service.get_by_public_number(
            db_session=turn.session, number=command.argument or ""
        )
        return _status(turn, ticket, command.argument or "")
    usage = getattr(IntentName, "USAGE", None)
    if usage is not None and command.name is usage:
        return Outcome(None, [("command_usage", {"command": command.argument or ""})])
    return Outcome(None, [("help", {})])


def _status(turn: Turn, ticket: Ticket | None, number: str) -> Outcome:
    # Only the resident who raised a ticket learns its status from a message.
    contact = turn.context.contact
    if ticket is None or not _owns(ticket, contact.id, contact.resident_id):
        return Outcome(None, [("status_unknown", {"number": number})])
    return Outcome(
        None, [("ticket_status", {"number": ticket.public_number, "status": str(ticket.status)})]
    )


def _owns(ticket: Ticket, contact_id: int, resident_id: int | None) -> bool:
    return ticket.contact_id == contact_id or (
        resident_id is not None and ticket.resident_id == resident_id
    )


async def _ticket_list(turn: Turn) -> Outcome:
    """Answers a bare "status": how many requests are open, the latest as choices."""
    contact = turn.context.contact
    mine = Ticket.contact_id == contact.id
    if contact.resident_id is not None:
        mine = mine | (Ticket.resident_id == contact.resident_id)
    open_ones = select(Ticket).where(mine, Ticket.status.in_(OPEN))
    count = int(
        await turn.session.scalar(select(func.count()).select_from(open_ones.subquery())) or 0
    )
    latest = await turn.session.scalars(open_ones.order_by(Ticket.id.desc()).limit(LISTED_TICKETS))
    tickets = list(latest)
    if not tickets:
        return Outcome(None, [("ticket_list", {"count": 0, "items": []})])
    language = turn.language
    items = [{"number": t.public_number, "status": str(t.status)} for t in tickets]
    # Each request is a choice labelled with its number and state; answering one gives
    # its status, so nobody has to type a seven-digit number on a phone.
    choices = [
        Choice(
            id=f"ticket:{t.id}",
            labels={
                language: gettext(
                    language,
                    "{number}: {status}",
                    number=t.public_number,
                    status=status_word(language, str(t.status)),
                )
            },
        )
        for t in tickets
    ]
    structure = notice(
        "ticket_list",
        choices=choices,
        expects=Expect.CHOICE,
        count=count,
        items=items,
        listed=True,
    )
    return Outcome(None, [structure], purpose="status")


async def _choice(turn: Turn, decision: Decision) -> Outcome:
    """Acts on the choice a resident picked from the last reply."""
    pending, choice = decision.pending, decision.choice
    assert pending is not None and choice is not None
    if pending.purpose == "status" and choice.id.startswith("ticket:"):
        ticket = await turn.session.get(Ticket, int(choice.id.removeprefix("ticket:")))
        return _status(turn, ticket, ticket.public_number if ticket else "")
    if pending.purpose == "split" and choice.id == "split":
        return await _split(turn, pending.context)
    if pending.purpose == "split":  # "keep it there": nothing to do but say so
        return Outcome(None, [("ticket_continued", {"number": pending.context.get("number", "")})])
    if pending.purpose in turn.offices:
        # A back office asked: it reads the answer, handed over as its claim's payload.
        answer = Answer(choice, dict(pending.context))
        claim = Claim(pending.purpose, str(pending.context.get("kind", "")), payload=answer)
        category = turn.routing.category_by_kind(claim.kind) if claim.kind else None
        return await hand_off(turn, category, claim)
    return Outcome(None, [("choice_stale", {})])


async def _split(turn: Turn, context: dict[str, object]) -> Outcome:
    """Moves a message out of the ticket it joined into a request of its own."""
    inbound_id, ticket_id = context.get("inbound_id"), context.get("ticket_id")
    record = await turn.session.get(InboundRecord, inbound_id) if inbound_id else None
    ticket = await turn.session.get(Ticket, ticket_id) if ticket_id else None
    if record is None or ticket is None:
        return Outcome(None, [("choice_stale", {})])
    original = InboundMessage.model_validate(record.payload)
    moved = await turn.session.execute(
        delete(TicketMessage).where(
            TicketMessage.ticket_id == ticket.id, TicketMessage.inbound_id == record.id
        )
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        # Split already (a second press, an answer sent twice): nothing is filed again.
        return Outcome(None, [("choice_stale", {})])
    split_turn = replace(turn, message=original, inbound_id=record.id)
    outcome = await hand_off(split_turn, turn.routing.classify_text(original.text), None)
    if outcome.ticket is not None:
        tickets_service.add_event(
            db_session=turn.session,
            ticket_id=ticket.id,
            kind=EventKind.SPLIT,
            actor="resident",
            to=outcome.ticket.public_number,
        )
    return outcome


async def _continue(turn: Turn, ticket: Ticket, *, ambiguous: bool) -> Outcome | None:
    """Adds a follow-up to its ticket; None if the back office says it is a new request."""
    session, message = turn.session, turn.message
    follow = turn.offices.continuation_for(ticket.back_office)
    followed: Outcome | None = None
    if follow is not None:
        try:
            followed = await follow(
                db_session=session,
                ticket=ticket,
                message=message,
                routing=turn.routing,
                settings=turn.settings,
                now=turn.now,
            )
        except NotAFollowUp:
            return None
    tickets_service.add_message(
        db_session=session,
        ticket=ticket,
        direction=Direction.IN,
        channel=message.channel,
        text=message.text,
        inbound_id=turn.inbound_id,
    )
    tickets_service.add_event(
        db_session=session,
        ticket_id=ticket.id,
        kind=EventKind.MESSAGE_IN,
        actor="resident",
        channel=message.channel,
    )
    if followed is not None:
        return followed
    if ticket.status == TicketStatus.ON_HOLD:
        tickets_service.change_status(
            db_session=session,
            ticket=ticket,
            status=TicketStatus.IN_PROGRESS,
            actor="resident",
            reason="resident answered",
        )
    number = ticket.public_number
    if not ambiguous:
        return Outcome(ticket, [("ticket_continued", {"number": number})])
    # It may be a separate matter: say where it went, and offer to make it its own request.
    split = Choice(
        id="split",
        labels={turn.language: gettext(turn.language, "Make it a separate request")},
    )
    structure = notice("ticket_joined", choices=[split], expects=Expect.CHOICE, number=number)
    context = {"inbound_id": turn.inbound_id, "ticket_id": ticket.id, "number": number}
    return Outcome(ticket, [structure], purpose="split", context=context)


async def hand_off(turn: Turn, category: Category | None, claim: Claim | None) -> Outcome:
    """Routes a request to its back office and returns what that back office did."""
    kind = claim.kind if claim else kind_of(category)
    home = turn.context.home
    route = turn.routing.match(
        kind=kind,
        category_id=category.id if category else None,
        district_id=home.district_id if home else None,
        community_id=home.community_id if home else None,
    )
    if claim is not None:
        # A back office's own command is answered by it whatever the routing data says.
        route = replace(route, back_office=claim.back_office)
    back_office, handler = turn.offices.handler_for(route.back_office)
    request = RoutedRequest(
        inbound_id=turn.inbound_id,
        message=turn.message,
        contact=turn.context.contact,
        language=turn.language,
        category=category,
        kind=kind,
        route=replace(route, back_office=back_office),
        home=home,
        routing=turn.routing,
        now=turn.now,
        settings=turn.settings,
        claim=claim,
    )
    outcome: Outcome = await handler(db_session=turn.session, request=request)
    return outcome
