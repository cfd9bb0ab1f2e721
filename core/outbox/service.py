"""The outbox: write replies and notices as rows, then deliver them through senders."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from channels.contract import Reply, SendError, SendResult, Structure
from channels.registry import ChannelRegistry, UnknownChannel, of_session
from channels.segments import count_segments
from core.db import utcnow
from core.events.collector import TOPIC_OUTBOX, deliver_after_commit, wake_after_commit
from core.outbox.enums import OutboxKind, OutboxStatus
from core.outbox.models import OutboxMessage
from core.residents.models import Contact
from core.tickets import service as tickets_service
from core.tickets.actors import Actor
from core.tickets.enums import EventKind
from core.tickets.models import Ticket

logger = logging.getLogger("hub.outbox")

_INSERT_OUTBOX = insert(OutboxMessage).returning(OutboxMessage)
# The provider status of a row answered within the resident's request.
INLINE = "inline"
# Rows per INSERT when a notice goes to thousands.
_CHUNK = 1_000


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
    structure: Structure | None = None,
    ticket: Ticket | None = None,
    resident_id: int | None = None,
    inbound_id: int | None = None,
    notice_id: int | None = None,
    handed_inline: bool = False,
    lease_seconds: int = 120,
    actor: Actor = Actor.SYSTEM,
) -> OutboxMessage:
    """Creates an outbound message; with a ticket it is part of the ticket's thread.

    ``handed_inline``: the answer goes back within the resident's own request (TwiML, a
    voice prompt, a page), so the row is not queued; the adapter confirms it
    (``confirm_inline``) once the answer is built. A row still unconfirmed when
    ``lease_seconds`` run out was never answered (the process died first): the sweep then
    delivers it through the provider, so a reply is never lost.
    """
    now = utcnow()
    segmented = of_session(db_session).spec(channel).capabilities.segmented
    message = await db_session.scalar(
        _INSERT_OUTBOX,
        [
            dict(
                kind=kind,
                channel=channel,
                address=address,
                language=language,
                text=text,
                structure=structure.model_dump(mode="json") if structure else None,
                ticket_id=ticket.id if ticket else None,
                resident_id=resident_id,
                inbound_id=inbound_id,
                notice_id=notice_id,
                segments=count_segments(text).parts if segmented else None,
                status=OutboxStatus.INLINE if handed_inline else OutboxStatus.PENDING,
                attempts=1 if handed_inline else 0,
                provider_status=INLINE if handed_inline else None,
                # An inline answer's lease: if the adapter never confirms it (its process
                # died before answering), the sweep sends it the ordinary way after this.
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
            actor=actor,
            outbox_id=message.id,
            channel=channel,
        )
    if not handed_inline:
        deliver_after_commit(db_session, [message.id])
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
    channels: ChannelRegistry,
    outbox_id: int,
    max_attempts: int,
    lease_seconds: int,
    retry_delay: float = 5.0,
    replies_after_opt_out: bool = True,
) -> DeliveryOutcome:
    """Delivers one outbox row, recording the result; raises RetryDelivery to be retried."""
    claimed = await _claim(
        session_factory=session_factory,
        outbox_id=outbox_id,
        max_attempts=max_attempts,
        lease_seconds=lease_seconds,
    )
    if isinstance(claimed, DeliveryOutcome):
        return claimed
    if claimed.kind == OutboxKind.NOTICE and await _suppressed(
        session_factory=session_factory,
        channels=channels,
        message=claimed,
        replies_after_opt_out=replies_after_opt_out,
    ):
        await _set_status(session_factory, outbox_id, OutboxStatus.SUPPRESSED)
        return DeliveryOutcome(outbox_id, OutboxStatus.SUPPRESSED, claimed.attempts)
    try:
        result = await _send(channels, claimed)
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
    await _record_sent(session_factory, outbox_id, result)
    return DeliveryOutcome(outbox_id, OutboxStatus.SENT, claimed.attempts)


async def _claim(
    *,
    session_factory: async_sessionmaker[AsyncSession],
    outbox_id: int,
    max_attempts: int,
    lease_seconds: int,
) -> OutboxMessage | DeliveryOutcome:
    """Returns the row, now "sending" under a lease, or where it stands if not pending.

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
    return claimed


async def _send(channels: ChannelRegistry, message: OutboxMessage) -> SendResult:
    """Hands one row to its channel's sender, with the structure it was written from."""
    reply = Reply(
        channel=message.channel,
        address=message.address,
        text=message.text,
        language=message.language,
        bulk=message.notice_id is not None,
        reference=str(message.id),
        structure=Structure.model_validate(message.structure) if message.structure else None,
    )
    sender = channels.sender(message.channel)
    return await sender.send(reply, idempotency_key=f"outbox-{message.id}")


async def _set_status(
    session_factory: async_sessionmaker[AsyncSession], outbox_id: int, status: OutboxStatus
) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(status=status)
        )


async def _record_sent(
    session_factory: async_sessionmaker[AsyncSession], outbox_id: int, result: SendResult
) -> None:
    async with session_factory() as session, session.begin():
        wake_after_commit(session, TOPIC_OUTBOX)  # the simulator shows the status live
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


async def _suppressed(
    *,
    session_factory: async_sessionmaker[AsyncSession],
    channels: ChannelRegistry,
    message: OutboxMessage,
    replies_after_opt_out: bool,
) -> bool:
    """Whether a notice must not go: its recipient sent STOP after it was queued.

    Bulk notices always stop; a notice about the resident's own ticket stops only if the
    setting says opted-out residents get no replies.
    """
    if message.notice_id is None and replies_after_opt_out:
        return False
    try:
        kind = channels.address_kind(message.channel)
    except UnknownChannel:
        return False  # delivery fails on it just after, visibly
    async with session_factory() as session:
        opted_out = await session.scalar(
            select(Contact.opted_out_at).where(
                Contact.kind == kind, Contact.value == message.address
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
    # An inline answer its adapter never confirmed: nobody got it; send it the usual way.
    lost_inline = await db_session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.INLINE, OutboxMessage.next_attempt_at < now)
        .values(status=OutboxStatus.PENDING, provider_status=None)
        .returning(OutboxMessage.id, OutboxMessage.notice_id)
    )
    lost = [(row[0], row[1] is not None) for row in lost_inline.all()]
    stale_sending = await db_session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.next_attempt_at < now)
        .values(status=OutboxStatus.PENDING)
        .returning(OutboxMessage.id, OutboxMessage.notice_id)
    )
    rows = lost + [(row[0], row[1] is not None) for row in stale_sending.all()]
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


@dataclass(frozen=True)
class NoticeRow:
    """One recipient's copy of a notice to many."""

    address: str
    language: str
    text: str
    resident_id: int | None = None


async def create_notices(
    *,
    db_session: AsyncSession,
    channel: str,
    notice_id: int,
    rows: Sequence[NoticeRow],
    now: datetime | None = None,
) -> list[int]:
    """Writes one pending row per recipient of a notice; returns their ids in order.

    A blast is thousands of rows: one multi-row INSERT per thousand, not a round trip each.
    """
    now = now or utcnow()
    segmented = of_session(db_session).spec(channel).capabilities.segmented
    parts: dict[str, int | None] = {}
    values: list[dict[str, Any]] = []
    for row in rows:
        if row.text not in parts:
            parts[row.text] = count_segments(row.text).parts if segmented else None
        values.append(
            {
                "kind": OutboxKind.NOTICE,
                "channel": channel,
                "address": row.address,
                "language": row.language,
                "text": row.text,
                "resident_id": row.resident_id,
                "notice_id": notice_id,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "segments": parts[row.text],
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    ids: list[int] = []
    for start in range(0, len(values), _CHUNK):
        ids.extend(
            await db_session.scalars(
                insert(OutboxMessage).returning(OutboxMessage.id), values[start : start + _CHUNK]
            )
        )
    deliver_after_commit(db_session, ids, bulk=True)
    return ids


async def confirm_inline(
    *, db_session: AsyncSession, row_or_id: OutboxMessage | int | Iterable[int]
) -> None:
    """Records that replies answered inline reached the resident with the answer itself.

    Only rows still waiting as inline move (to sent): a provider's report that came first
    is kept. A confirmed row is never queued or swept, so nobody hears it twice.
    """
    if isinstance(row_or_id, OutboxMessage):
        ids = [row_or_id.id]
    elif isinstance(row_or_id, int):
        ids = [row_or_id]
    else:
        ids = list(row_or_id)
    if not ids:
        return
    await db_session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.INLINE)
        .values(status=OutboxStatus.SENT, sent_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    if isinstance(row_or_id, OutboxMessage):
        row_or_id.status, row_or_id.sent_at = OutboxStatus.SENT, utcnow()


async def confirm_inline_at_once(*, engine: AsyncEngine, ids: Sequence[int]) -> None:
    """``confirm_inline`` for an adapter that has built its answer after intake committed
    (Twilio's TwiML): one autocommitted UPDATE, no transaction or session of its own — it
    runs on every SMS, and nothing else changes with it."""
    if not ids:
        return
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status == OutboxStatus.INLINE)
        .values(status=OutboxStatus.SENT, sent_at=utcnow())
    )
    if engine.dialect.name != "postgresql":
        # SQLite here begins every transaction itself (BEGIN IMMEDIATE, core/db.py).
        async with engine.begin() as connection:
            await connection.execute(statement)
        return
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(statement)


async def get_by_provider_id(
    *, db_session: AsyncSession, channel: str, provider_id: str, outbox_hint: int | None = None
) -> OutboxMessage | None:
    """Returns the row a provider's report is about: the hinted row (the provider echoes our
    id) unless it is tied to another message, else the row with that provider id."""
    if outbox_hint is not None:
        row = await db_session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.id == outbox_hint, OutboxMessage.channel == channel
            )
        )
        if row is not None and row.provider_message_id in (None, provider_id):
            return row
    return await db_session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.channel == channel, OutboxMessage.provider_message_id == provider_id
        )
    )


@dataclass(frozen=True)
class StatusOutcome:
    applied: bool
    outbox_id: int | None = None
    # Seconds until the row is sent again, when the provider's failure is worth a retry.
    retry_in: float | None = None


async def record_provider_status(
    *,
    db_session: AsyncSession,
    row: OutboxMessage,
    provider_id: str,
    status: str,
    outcome: OutboxStatus,
    replaces: Collection[str],
    error_code: str | None = None,
    retryable: bool = False,
    max_attempts: int,
    retry_delay: float,
) -> StatusOutcome:
    """Moves a row forward on a provider's delivery report (``status``, in its own words).

    ``replaces`` names the provider statuses this one comes after; the condition is in the
    UPDATE itself, so two reports racing each other cannot let the earlier one win. A
    failure worth retrying puts the row back to pending, to be sent again in ``retry_in``.
    """
    values: dict[str, object] = {
        "provider_status": status,
        "provider_message_id": provider_id,
        "status": outcome,
    }
    if outcome in (OutboxStatus.SENT, OutboxStatus.DELIVERED) and row.sent_at is None:
        values["sent_at"] = utcnow()
    failed = outcome in (OutboxStatus.UNDELIVERED, OutboxStatus.FAILED)
    retry_in = None
    if failed:
        values["error_code"] = error_code
        values["last_error"] = f"{status} ({error_code or 'no code'})"
        if retryable and row.attempts < max_attempts:
            retry_in = retry_delay * 2**row.attempts
            values.update(
                status=OutboxStatus.PENDING,
                provider_message_id=None,
                provider_status=None,
                next_attempt_at=utcnow() + timedelta(seconds=retry_in + 60),
            )
    not_later = or_(
        OutboxMessage.provider_status.is_(None),
        OutboxMessage.provider_status.in_([*replaces, INLINE]),
    )
    moved = await db_session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id, not_later)
        .values(**values)
        .returning(OutboxMessage.id)
    )
    if moved.first() is None:
        return StatusOutcome(applied=False, outbox_id=row.id)
    if failed and row.ticket_id is not None:
        tickets_service.add_event(
            db_session=db_session,
            ticket_id=row.ticket_id,
            kind=EventKind.DELIVERY,
            actor="provider",
            outbox_id=row.id,
            status="retrying" if retry_in else status,
            code=error_code,
        )
    deliver_after_commit(db_session, [row.id] if retry_in else [], delay=retry_in)
    return StatusOutcome(applied=True, outbox_id=row.id, retry_in=retry_in)
