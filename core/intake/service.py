"""The intake pipeline: record the raw message once, resolve the person, decide, hand off."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import Channel, InboundMessage
from channels.templates import render
from core.billing import intake as billing_intake  # noqa: F401  (registers billing)
from core.complaints import intake as complaints_intake  # noqa: F401  (registers complaints)
from core.config import Settings
from core.db import utcnow
from core.dispatch import intake as dispatch_intake  # noqa: F401  (registers dispatch)
from core.i18n import detect_language
from core.intake import triage  # noqa: F401  (registers the general triage back office)
from core.intake.backoffices import (
    NotAFollowUp,
    Outcome,
    RoutedRequest,
    continuation_for,
    handler_for,
)
from core.intake.context import ConversationContext, read_context
from core.intake.intents import Intent, IntentName, UnknownCategory, decide
from core.intake.models import InboundRecord
from core.notices import service as notices_service
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxKind
from core.residents import service as residents_service
from core.residents.models import Contact
from core.residents.service import InvalidAddress, mask_address
from core.routing.service import RoutingTable, kind_of
from core.runtime import TOPIC_TICKETS, Hub
from core.tickets import service as tickets_service
from core.tickets.enums import Direction, EventKind, TicketStatus
from core.tickets.models import Ticket, TicketMessage
from core.votes import intake as votes_intake  # noqa: F401  (registers votes)

logger = logging.getLogger("hub.intake")


class IntakeRejected(ValueError):
    """The message cannot be taken as it is; the reason is safe to show the sender."""


class IntakeFailed(RuntimeError):
    """Processing failed after the raw message was kept; a provider retry reprocesses it."""


@dataclass(frozen=True)
class ReplyView:
    outbox_id: int
    channel: str
    text: str
    language: str


@dataclass
class IntakeResult:
    inbound_id: int
    duplicate: bool
    resident_id: int | None = None
    ticket_id: int | None = None
    ticket_number: str | None = None
    intent: str | None = None
    replies: list[ReplyView] = field(default_factory=list)


# The raw-record INSERT, one per dialect, built once (see core/intake/context.py for why).
_RECORD_RAW = {
    name: dialect.insert(InboundRecord)
    .on_conflict_do_nothing(index_elements=["channel", "provider_message_id"])
    .returning(InboundRecord.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


async def _record_raw(session: AsyncSession, message: InboundMessage) -> int | None:
    """Inserts the raw message; returns its id, or None if this provider id was seen."""
    statement = _RECORD_RAW[session.get_bind().dialect.name]
    return await session.scalar(
        statement,
        {
            "channel": message.channel,
            "provider_message_id": message.provider_message_id,
            "sender_address": message.sender_address,
            "text": message.text,
            "payload": message.model_dump(mode="json"),
            "received_at": message.received_at,
            "recorded_at": utcnow(),
            "status": "processed",
            "error": None,
            "attempts": 0,
        },
    )


async def _record_failure(session: AsyncSession, message: InboundMessage, error: str) -> None:
    """Keeps the raw message as failed (new), or counts another failure (reprocessed)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(InboundRecord).values(
        channel=message.channel,
        provider_message_id=message.provider_message_id,
        sender_address=message.sender_address,
        text=message.text,
        payload=message.model_dump(mode="json"),
        received_at=message.received_at,
        recorded_at=utcnow(),
        status="failed",
        error=error,
        attempts=1,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["channel", "provider_message_id"],
            set_={"attempts": InboundRecord.attempts + 1, "error": error},
            where=InboundRecord.status == "failed",
        )
    )


async def list_failed(
    *, db_session: AsyncSession, max_attempts: int, limit: int = 100
) -> list[InboundMessage]:
    """Returns recently failed messages that may be tried again."""
    records = await db_session.scalars(
        select(InboundRecord)
        .where(
            InboundRecord.status == "failed",
            InboundRecord.attempts < max_attempts,
            InboundRecord.recorded_at >= utcnow() - timedelta(days=1),
        )
        .order_by(InboundRecord.id)
        .limit(limit)
    )
    return [InboundMessage.model_validate(record.payload) for record in records]


async def _reclaim_failed(session: AsyncSession, message: InboundMessage) -> int | None:
    """Returns the id of an earlier failed record of this message, marking it for reprocessing."""
    return await session.scalar(
        update(InboundRecord)
        .where(
            InboundRecord.channel == message.channel,
            InboundRecord.provider_message_id == message.provider_message_id,
            InboundRecord.status == "failed",
        )
        .values(status="processed", error=None)
        .returning(InboundRecord.id)
    )


def _choose_language(message: InboundMessage, contact: Contact, default: str) -> str:
    return message.language or detect_language(message.text) or contact.language or default


async def _process(
    *,
    session: AsyncSession,
    hub: Hub,
    routing: RoutingTable,
    message: InboundMessage,
    inbound_id: int,
    contact_kind: str,
    address: str,
    inline_reply: bool,
) -> IntakeResult:
    settings = hub.settings
    now = utcnow()
    guessed = message.language or detect_language(message.text) or settings.default_language
    context = await read_context(
        db_session=session,
        kind=contact_kind,
        value=address,
        language=guessed,
        display_name=message.display_name,
        now=now,
        continuation_window=timedelta(
            minutes=settings.continuation_minutes if message.continue_recent else 0
        ),
    )
    contact = context.contact
    language = _choose_language(message, contact, settings.default_language)
    if language not in settings.languages:
        language = settings.default_language
    if contact.language != language:
        contact.language = language

    intent = await decide(
        db_session=session,
        message=message,
        routing=routing,
        continuable_ticket_id=context.continuable_ticket_id,
        contact=contact,
        now=now,
    )
    outcome = await _act(
        session=session,
        routing=routing,
        message=message,
        inbound_id=inbound_id,
        context=context,
        language=language,
        intent=intent,
        now=now,
        settings=settings,
    )

    result = IntakeResult(
        inbound_id=inbound_id,
        duplicate=False,
        resident_id=contact.resident_id,
        intent=str(intent.name),
    )
    if outcome.ticket is not None:
        result.ticket_id = outcome.ticket.id
        result.ticket_number = outcome.ticket.public_number
    for notice, values in outcome.notices:
        text = render(message.channel, notice, language, **values)
        row = await outbox_service.create(
            db_session=session,
            kind=OutboxKind.REPLY,
            channel=message.channel,
            address=contact.value,
            language=language,
            text=text,
            ticket=outcome.ticket,
            resident_id=contact.resident_id,
            inbound_id=inbound_id,
            handed_inline=inline_reply,
            lease_seconds=settings.outbox_lease_seconds,
        )
        result.replies.append(ReplyView(row.id, row.channel, row.text, row.language))
    return result


async def _act(
    *,
    session: AsyncSession,
    routing: RoutingTable,
    message: InboundMessage,
    inbound_id: int,
    context: ConversationContext,
    language: str,
    intent: Intent,
    now: datetime,
    settings: Settings,
) -> Outcome:
    """Carries out the intent: answer a command, extend a ticket, or hand to a back office."""
    contact = context.contact
    if intent.name is IntentName.HELP:
        return Outcome(ticket=None, notices=[("help", {})])
    if intent.name in (IntentName.OPT_OUT, IntentName.OPT_IN):
        opting_out = intent.name is IntentName.OPT_OUT
        await notices_service.set_opt_out(db_session=session, contact=contact, opted_out=opting_out)
        return Outcome(None, [("opted_out" if opting_out else "opted_in", {})])
    if intent.name in (IntentName.SUBSCRIBE, IntentName.UNSUBSCRIBE) and intent.topic:
        subscribing = intent.name is IntentName.SUBSCRIBE
        await notices_service.set_subscription(
            db_session=session, contact_id=contact.id, topic=intent.topic, active=subscribing
        )
        notice = "subscribed" if subscribing else "unsubscribed"
        return Outcome(None, [(notice, {"topic": str(intent.topic)})])
    if intent.name is IntentName.STATUS:
        ticket = await tickets_service.get_by_public_number(
            db_session=session, number=intent.argument or ""
        )
        # Only the resident who raised a ticket learns its status from a text message.
        if ticket is None or ticket.resident_id != contact.resident_id:
            return Outcome(None, [("status_unknown", {"number": intent.argument or ""})])
        return Outcome(
            None,
            [("ticket_status", {"number": ticket.public_number, "status": str(ticket.status)})],
        )
    if intent.name is IntentName.CONTINUE and intent.ticket is not None:
        followed = await _continue(
            session, routing, message, inbound_id, intent.ticket, now, settings
        )
        if followed is not None:
            return followed
        # The back office saw a new request, not an answer (someone waiting to confirm one
        # complaint may text about something else): it goes the ordinary way.
        intent = Intent(IntentName.REQUEST, category=routing.classify_text(message.text))

    category = intent.category
    kind = intent.claim.kind if intent.claim else kind_of(category)
    home = context.home
    route = routing.match(
        kind=kind,
        category_id=category.id if category else None,
        district_id=home.district_id if home else None,
        community_id=home.community_id if home else None,
    )
    if intent.claim is not None:
        # A back office's own command is answered by it whatever the routing data says.
        route = replace(route, back_office=intent.claim.back_office)
    back_office, handler = handler_for(route.back_office)
    request = RoutedRequest(
        inbound_id=inbound_id,
        message=message,
        contact=contact,
        language=language,
        category=category,
        kind=kind,
        route=replace(route, back_office=back_office),
        home=home,
        routing=routing,
        now=now,
        settings=settings,
    )
    outcome: Outcome = await handler(db_session=session, request=request)
    return outcome


async def _continue(
    session: AsyncSession,
    routing: RoutingTable,
    message: InboundMessage,
    inbound_id: int,
    ticket: Ticket,
    now: datetime,
    settings: Settings,
) -> Outcome | None:
    """Adds a follow-up to its ticket; None if the back office says it is a new request."""
    follow = continuation_for(ticket.back_office)
    followed: Outcome | None = None
    if follow is not None:
        try:
            followed = await follow(
                db_session=session,
                ticket=ticket,
                message=message,
                routing=routing,
                settings=settings,
                now=now,
            )
        except NotAFollowUp:
            return None
    tickets_service.add_message(
        db_session=session,
        ticket=ticket,
        direction=Direction.IN,
        channel=message.channel,
        text=message.text,
        inbound_id=inbound_id,
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
    return Outcome(ticket, [("ticket_continued", {"number": ticket.public_number})])


async def recorded_raws(
    *, db_session: AsyncSession, provider_message_id: str
) -> list[dict[str, Any]]:
    """Returns the raw fields kept with every message of this provider id, on any channel."""
    payloads = await db_session.scalars(
        select(InboundRecord.payload).where(
            # Every channel named: the unique index leads with the channel, so this is a
            # handful of index lookups rather than a scan of every message ever received.
            InboundRecord.channel.in_([str(channel) for channel in Channel]),
            InboundRecord.provider_message_id == provider_message_id,
        )
    )
    raws = [(payload or {}).get("raw") for payload in payloads]
    return [raw for raw in raws if isinstance(raw, dict)]


async def _existing_result(session: AsyncSession, message: InboundMessage) -> IntakeResult:
    record = await session.scalar(
        select(InboundRecord).where(
            InboundRecord.channel == message.channel,
            InboundRecord.provider_message_id == message.provider_message_id,
        )
    )
    if record is None:  # only possible if the row was deleted between the two statements
        raise IntakeFailed("inbound record vanished")
    result = IntakeResult(inbound_id=record.id, duplicate=True)
    ticket = await session.scalar(
        select(Ticket)
        .join(TicketMessage, TicketMessage.ticket_id == Ticket.id)
        .where(TicketMessage.inbound_id == record.id)
    )
    if ticket is not None:
        result.ticket_id, result.ticket_number = ticket.id, ticket.public_number
        result.resident_id = ticket.resident_id
    for row in await outbox_service.list_for_inbound(db_session=session, inbound_id=record.id):
        result.resident_id = result.resident_id or row.resident_id
        result.replies.append(ReplyView(row.id, row.channel, row.text, row.language))
    return result


async def receive(*, hub: Hub, message: InboundMessage, inline_reply: bool = False) -> IntakeResult:
    """Takes one inbound message through the pipeline; idempotent on its provider id.

    ``inline_reply``: the adapter answers within the provider's request (Twilio TwiML),
    so the replies are not queued; their rows wait for the provider's confirmation.

    Everything happens in one transaction, so a message either fully becomes its ticket,
    thread entry and replies, or (on a bug or outage) is kept raw as ``failed`` and
    processed again when the provider retries. Delivery is enqueued after the commit.
    """
    try:
        contact_kind, address = residents_service.normalise_address(
            message.channel, message.sender_address, region=hub.settings.phone_region
        )
    except InvalidAddress as exc:
        raise IntakeRejected(str(exc)) from exc
    routing = await hub.routing.get()
    if message.category_code and routing.category_by_code(message.category_code) is None:
        raise IntakeRejected(f"unknown category {message.category_code!r}")

    result: IntakeResult | None = None
    try:
        # Autoflush off: the events and thread rows a message produces go out in one flush
        # at commit instead of being flushed before every statement (a back office that
        # needs its pending rows visible to its own queries calls flush()).
        async with hub.session_factory(autoflush=False) as session, session.begin():
            inbound_id = await _record_raw(session, message)
            if inbound_id is None:
                inbound_id = await _reclaim_failed(session, message)
            if inbound_id is not None:
                result = await _process(
                    session=session,
                    hub=hub,
                    routing=routing,
                    message=message,
                    inbound_id=inbound_id,
                    contact_kind=contact_kind,
                    address=address,
                    inline_reply=inline_reply,
                )
    except UnknownCategory as exc:
        raise IntakeRejected(f"unknown category {exc}") from exc
    except Exception as exc:
        logger.exception(
            "intake failed for %s message from %s", message.channel, mask_address(address)
        )
        async with hub.session_factory() as session, session.begin():
            await _record_failure(session, message, repr(exc)[:500])
        raise IntakeFailed("the message was kept and will be processed on retry") from exc

    if result is None:
        async with hub.session_factory() as session:
            return await _existing_result(session, message)

    if not inline_reply:
        await hub.enqueue_deliveries(reply.outbox_id for reply in result.replies)
    if result.ticket_id is not None:
        await hub.publish(TOPIC_TICKETS, {"ticket_id": result.ticket_id, "event": "message"})
    return result
