"""The outbox: write replies and notices as rows, then deliver them through senders."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.contract import Channel, Reply, SendError
from channels.registry import SenderRegistry, UnknownChannel
from channels.segments import count_segments
from core.db import utcnow
from core.outbox.enums import OutboxKind, OutboxStatus
from core.outbox.models import OutboxMessage
from core.residents.models import Contact
from core.residents.service import CHANNEL_CONTACT_KIND
from core.tickets import service as tickets_service
from core.tickets.enums import EventKind
from core.tickets.models import Ticket

logger = logging.getLogger("hub.outbox")

_INSERT_OUTBOX = insert(OutboxMessage).returning(OutboxMessage)


class RetryDelivery(Exception):
    """Raised to the queue so it retries the delivery job with backoff."""


async def create(
    *,
    db_session: AsyncSession,
    kind: OutboxKind,
    channel: str,
    address: str,
    language: str,
    text: str,
    ticket: Ticket | None = None,
    resident_id: int | None = None,
    inbound_id: int | None = None,
    notice_id: int | None = None,
    handed_inline: bool = False,
    lease_seconds: int = 120,
) -> OutboxMessage:
    """Creates an outbound message; with a ticket it is part of the ticket's thread.

    ``handed_inline``: the channel answers within the provider's request (TwiML), so the row
    starts as sending; if the provider never confirms it, the lease runs out and the sweep
    sends it the ordinary way.
    """
    now = utcnow()
    message = await db_session.scalar(
        _INSERT_OUTBOX,
        [
            dict(
                kind=kind,
                channel=channel,
                address=address,
                language=language,
                text=text,
                ticket_id=ticket.id if ticket else None,
                resident_id=resident_id,
                inbound_id=inbound_id,
                notice_id=notice_id,
                segments=count_segments(text).parts if channel == Channel.SMS else None,
                status=OutboxStatus.SENDING if handed_inline else OutboxStatus.PENDING,
                attempts=1 if handed_inline else 0,
                provider_status="inline" if handed_inline else None,
                next_attempt_at=now + timedelta(seconds=lease_seconds) if handed_inline else now,
                created_at=now,
            )
        ],
    )
    assert message is not None
    if ticket is not None:
        tickets_service.add_event(
            db_session=db_session,
            ticket_id=ticket.id,
            kind=EventKind.MESSAGE_OUT,
            actor="system",
            outbox_id=message.id,
            channel=channel,
        )
    return message


@dataclass(frozen=True)
class DeliveryOutcome:
    outbox_id: int
    status: OutboxStatus
    attempts: int
    error: str | None = None


async def deliver(
    *,
    session_factory: async_sessionmaker[AsyncSession],
    senders: SenderRegistry,
    outbox_id: int,
    max_attempts: int,
    lease_seconds: int,
    retry_delay: float = 5.0,
    replies_after_opt_out: bool = True,
) -> DeliveryOutcome:
    """Delivers one outbox row, recording the result; raises RetryDelivery to be retried.

    The row is claimed with a conditional UPDATE so two workers given the same job (the
    queue is at-least-once) cannot both send it.
    """
    now = utcnow()
    async with session_factory() as session, session.begin():
        claimed = await session.scalar(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == outbox_id,
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.attempts < max_attempts,
            )
            .values(
                status=OutboxStatus.SENDING,
                attempts=OutboxMessage.attempts + 1,
                next_attempt_at=now + timedelta(seconds=lease_seconds),
            )
            .returning(OutboxMessage)
        )
        if claimed is None:
            current = await session.get(OutboxMessage, outbox_id)
            if current is None:
                raise LookupError(f"outbox message {outbox_id} does not exist")
            return DeliveryOutcome(outbox_id, current.status, current.attempts, current.last_error)
        session.expunge(claimed)

    if claimed.kind == OutboxKind.NOTICE and await _suppressed(
        session_factory=session_factory,
        message=claimed,
        replies_after_opt_out=replies_after_opt_out,
    ):
        async with session_factory() as session, session.begin():
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == outbox_id)
                .values(status=OutboxStatus.SUPPRESSED)
            )
        return DeliveryOutcome(outbox_id, OutboxStatus.SUPPRESSED, claimed.attempts)
    reply = Reply(
        channel=claimed.channel,
        address=claimed.address,
        text=claimed.text,
        language=claimed.language,
        bulk=claimed.notice_id is not None,
        reference=str(claimed.id),
    )
    try:
        sender = senders.get(claimed.channel)
        result = await sender.send(reply, idempotency_key=f"outbox-{claimed.id}")
    except (SendError, UnknownChannel) as exc:
        retryable = isinstance(exc, SendError) and exc.retryable
        code = exc.code if isinstance(exc, SendError) else "no_sender"
        final = not retryable or claimed.attempts >= max_attempts
        await _record_failure(
            session_factory=session_factory,
            message=claimed,
            error=str(exc),
            code=code,
            final=final,
            # The queue retries with exponential backoff; the sweep leaves the row alone
            # until well after that retry is due.
            retry_at=utcnow() + timedelta(seconds=retry_delay * 2**claimed.attempts + 60),
        )
        logger.warning("outbox %s attempt %s failed (%s)", claimed.id, claimed.attempts, code)
        if not final:
            raise RetryDelivery(str(exc)) from exc
        return DeliveryOutcome(outbox_id, OutboxStatus.FAILED, claimed.attempts, str(exc))

    async with session_factory() as session, session.begin():
        # Only from "sending": a status report that beat us here (delivered, failed) stays.
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.status == OutboxStatus.SENDING)
            .values(
                status=OutboxStatus.SENT,
                provider_message_id=result.provider_message_id,
                provider_status=result.status,
                sent_at=utcnow(),
                last_error=None,
                error_code=None,
            )
        )
    return DeliveryOutcome(outbox_id, OutboxStatus.SENT, claimed.attempts)


async def _suppressed(
    *,
    session_factory: async_sessionmaker[AsyncSession],
    message: OutboxMessage,
    replies_after_opt_out: bool,
) -> bool:
    """Whether a notice must not go: its recipient sent STOP after it was queued.

    Bulk notices always stop; a notice about the resident's own ticket stops only if the
    setting says opted-out residents get no replies.
    """
    if message.notice_id is None and replies_after_opt_out:
        return False
    async with session_factory() as session:
        opted_out = await session.scalar(
            select(Contact.opted_out_at).where(
                Contact.kind == CHANNEL_CONTACT_KIND[Channel(message.channel)],
                Contact.value == message.address,
            )
        )
    return opted_out is not None


async def _record_failure(
    *,
    session_factory: async_sessionmaker[AsyncSession],
    message: OutboxMessage,
    error: str,
    code: str | None,
    final: bool,
    retry_at: datetime,
) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(
                status=OutboxStatus.FAILED if final else OutboxStatus.PENDING,
                last_error=error[:500],
                error_code=code,
                next_attempt_at=retry_at,
            )
        )
        if message.ticket_id is not None:
            # A failed reply must be visible to the agent, who can then call the resident.
            tickets_service.add_event(
                db_session=session,
                ticket_id=message.ticket_id,
                kind=EventKind.DELIVERY,
                actor="system",
                outbox_id=message.id,
                status="failed" if final else "retrying",
                attempt=message.attempts,
                error=error[:200],
                code=code,
            )


async def list_stranded(
    *, db_session: AsyncSession, max_attempts: int, limit: int = 500
) -> list[tuple[int, bool]]:
    """Returns (id, bulk) of rows whose delivery job was lost: pending or sending too long.

    A job can vanish if the queue's storage is wiped or a web process dies between commit
    and enqueue; the periodic sweep hands these rows to the queue again.
    """
    now = utcnow()
    # A row that used up its attempts (its worker kept dying mid-send) fails for good,
    # visibly, instead of going round forever.
    await db_session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status.in_([OutboxStatus.SENDING, OutboxStatus.PENDING]),
            OutboxMessage.next_attempt_at < now,
            OutboxMessage.attempts >= max_attempts,
        )
        .values(status=OutboxStatus.FAILED, last_error="gave up after the last attempt")
    )
    stale_sending = await db_session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.next_attempt_at < now)
        .values(status=OutboxStatus.PENDING)
        .returning(OutboxMessage.id, OutboxMessage.notice_id)
    )
    rows = [(row[0], row[1] is not None) for row in stale_sending.all()]
    rows += [
        (row[0], row[1] is not None)
        for row in await db_session.execute(
            select(OutboxMessage.id, OutboxMessage.notice_id)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.next_attempt_at < now - timedelta(minutes=1),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    ]
    return sorted(set(rows))


async def list_for_inbound(*, db_session: AsyncSession, inbound_id: int) -> list[OutboxMessage]:
    """Returns the replies written for one inbound message."""
    return list(
        await db_session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.inbound_id == inbound_id)
            .order_by(OutboxMessage.id)
        )
    )
