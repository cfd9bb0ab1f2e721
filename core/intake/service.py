"""The intake pipeline: record the raw message once, resolve the person, decide, hand off."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import InboundMessage, Structure
from channels.registry import UnknownChannel
from core.backoffice import Outcome
from core.db import utcnow
from core.i18n import detect_language
from core.intake import choices as choices_service
from core.intake.acts import Turn, act
from core.intake.context import read_context
from core.intake.decision import UnknownCategory, decide
from core.intake.models import InboundRecord
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxKind
from core.residents import service as residents_service
from core.residents.service import InvalidAddress, mask_address
from core.routing.service import RoutingTable
from core.runtime import Hub
from core.tickets.models import Ticket, TicketMessage

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
    # What the text says, for channels that show it their own way (buttons, keys).
    structure: Structure | None = None
    # The row's delivery status when the result was made (inline until confirmed).
    status: str = ""


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


async def _process(
    *,
    session: AsyncSession,
    hub: Hub,
    routing: RoutingTable,
    message: InboundMessage,
    inbound_id: int,
    address: tuple[str, str],
    inline: bool,
) -> IntakeResult:
    settings = hub.settings
    now = utcnow()
    # Detected once: it names a new contact's language and, with the message's own
    # language, decides this reply's.
    detected = message.language or detect_language(message.text)
    context = await read_context(
        db_session=session,
        kind=address[0],
        value=address[1],
        channel=message.channel,
        language=detected or settings.default_language,
        display_name=message.display_name,
        now=now,
        continuation_window=timedelta(
            minutes=settings.continuation_minutes if message.continue_recent else 0
        ),
    )
    contact = context.contact
    language = detected or contact.language or settings.default_language
    if language not in settings.languages:
        language = settings.default_language
    if contact.language != language:
        contact.language = language
    decision = await decide(
        db_session=session,
        message=message,
        routing=routing,
        context=context,
        offices=hub.offices,
        menu=_menu(hub, message.channel),
        now=now,
    )
    turn = Turn(
        session, hub.offices, routing, message, inbound_id, context, language, now, settings
    )
    outcome = await act(turn, decision)
    result = IntakeResult(
        inbound_id=inbound_id,
        duplicate=False,
        resident_id=contact.resident_id,
        intent=decision.name,
    )
    if outcome.ticket is not None:
        result.ticket_id = outcome.ticket.id
        result.ticket_number = outcome.ticket.public_number
    result.replies = await _reply(hub, turn, outcome, inline=inline)
    return result


def _menu(hub: Hub, channel: str) -> dict[str, str]:
    """Returns the channel's top-level menu: key → category code (the IVR's first menu)."""
    return dict(hub.channels.spec(channel).menu)


async def _reply(hub: Hub, turn: Turn, outcome: Outcome, *, inline: bool) -> list[ReplyView]:
    """Writes the outcome's replies to the outbox, and the choices the last one offers."""
    session, message, contact = turn.session, turn.message, turn.context.contact
    views: list[ReplyView] = []
    row = None
    structures = outcome.replies()
    for structure in structures:
        text = hub.channels.render(message.channel, structure, turn.language)
        row = await outbox_service.create(
            db_session=session,
            kind=OutboxKind.REPLY,
            channel=message.channel,
            address=contact.value,
            language=turn.language,
            text=text,
            structure=structure,
            ticket=outcome.ticket,
            resident_id=contact.resident_id,
            inbound_id=turn.inbound_id,
            handed_inline=inline,
            lease_seconds=hub.settings.outbox_lease_seconds,
        )
        if inline and hub.channels.is_inline(message.channel):
            # Shown or spoken within this request: delivered, never swept for resending.
            await outbox_service.confirm_inline(db_session=session, row_or_id=row)
        views.append(
            ReplyView(row.id, row.channel, row.text, row.language, structure, str(row.status))
        )
    last = structures[-1] if structures else None
    offers = last is not None and bool(last.choices)
    if not offers and not turn.context.has_pending:
        return views  # nothing offered before, nothing now: nothing to record
    await choices_service.offer(
        db_session=session,
        contact=contact,
        channel=message.channel,
        structure=last if last is not None and last.choices else None,
        purpose=outcome.purpose or "",
        context={**outcome.context, "outbox_id": row.id if row else 0},
        ticket=outcome.ticket,
        now=turn.now,
        had_pending=turn.context.has_pending,
    )
    return views


async def recorded_raws(
    *, db_session: AsyncSession, provider_message_id: str, channels: Iterable[str]
) -> list[dict[str, Any]]:
    """Returns the raw fields kept with every message of this provider id, on any channel."""
    payloads = await db_session.scalars(
        select(InboundRecord.payload).where(
            # Every channel named: the unique index leads with the channel, so this is a
            # handful of index lookups rather than a scan of every message ever received.
            InboundRecord.channel.in_(list(channels)),
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
        structure = Structure.model_validate(row.structure) if row.structure else None
        result.replies.append(
            ReplyView(row.id, row.channel, row.text, row.language, structure, str(row.status))
        )
    return result


async def receive(*, hub: Hub, message: InboundMessage, inline: bool = False) -> IntakeResult:
    """Takes one inbound message through the pipeline; idempotent on its provider id.

    ``inline``: the caller waits for the answer within its own request (a phone call, a
    kiosk screen, Twilio's TwiML response), so the replies come back in the result with
    their structure and are not queued. On a channel that delivers inline the rows are
    confirmed at once; on a provider's (TwiML) they wait for its delivery report.

    Everything happens in one transaction, so a message either fully becomes its ticket,
    thread entry and replies, or (on a bug or outage) is kept raw as ``failed`` and
    processed again when the provider retries. Delivery is enqueued at the commit.
    """
    try:
        contact_kind, address = residents_service.normalise_address(
            hub.channels.address_kind(message.channel),
            message.sender_address,
            region=hub.settings.phone_region,
        )
    except (InvalidAddress, UnknownChannel) as exc:
        raise IntakeRejected(str(exc)) from exc
    # A caller or a screen waits for its answer: on a channel that delivers inline the
    # reply is never queued for later, whatever the adapter asked.
    inline = inline or hub.channels.is_inline(message.channel)
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
                    address=(contact_kind, address),
                    inline=inline,
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

    # Deliveries were queued and live streams woken when the transaction committed (the
    # outbox and tickets services register those effects; core/events/collector.py).
    return result
