"""Twilio payloads to and from the hub: inbound messages, TwiML replies, status callbacks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from twilio.twiml.messaging_response import MessagingResponse

from channels.contract import Attachment, Channel, InboundMessage
from core.db import utcnow
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxStatus
from core.outbox.service import StatusOutcome
from sms.models import SmsStatusEvent

MAX_BODY = 1600  # Twilio's own limit for one message, all parts together
MAX_MEDIA = 10

# Later statuses outrank earlier ones; a late callback never moves a message back.
STATUS_RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "delivered": 5,
    "read": 6,
}
OUTBOX_STATUS = {
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.DELIVERED,
    "undelivered": OutboxStatus.UNDELIVERED,
    "failed": OutboxStatus.FAILED,
    "canceled": OutboxStatus.FAILED,
}
# Delivery errors where a later retry can succeed: queue overflow, a handset that is
# off or out of coverage, an unknown carrier error, carrier congestion.
RETRYABLE_DELIVERY_ERRORS = frozenset({"30001", "30003", "30008", "30017"})


class BadPayload(ValueError):
    """A webhook payload that is not what Twilio sends."""


def inbound_message(form: Mapping[str, str], *, received_at: datetime) -> InboundMessage:
    """Returns the InboundMessage for a Twilio inbound-SMS webhook payload."""
    sid, sender = form.get("MessageSid", "").strip(), form.get("From", "").strip()
    if not sid or not sender:
        raise BadPayload("MessageSid and From are required")
    if any(not character.isprintable() for character in sid + sender):
        # A NUL or line break in an address is never a real number: refuse rather than
        # quietly strip it and file the message under a number nobody sent from.
        raise BadPayload("MessageSid and From must not contain control characters")
    body = form.get("Body", "")
    if len(body) > MAX_BODY:
        raise BadPayload(f"Body longer than {MAX_BODY} characters")
    try:
        media = int(form.get("NumMedia", "0") or 0)
    except ValueError as exc:
        raise BadPayload("NumMedia must be a number") from exc
    if not 0 <= media <= MAX_MEDIA:
        raise BadPayload(f"NumMedia must be 0 to {MAX_MEDIA}")
    attachments = []
    for index in range(media):
        url = form.get(f"MediaUrl{index}", "")
        if not url.startswith("https://"):
            raise BadPayload(f"MediaUrl{index} is missing or not https")
        attachments.append(Attachment(url=url, content_type=form.get(f"MediaContentType{index}")))
    return InboundMessage(
        channel=Channel.SMS,
        sender_address=sender,
        text=body,
        provider_message_id=sid,
        received_at=received_at,
        attachments=attachments,
        raw=dict(form),
    )


def twiml(replies: list[tuple[int, str]], status_url: str) -> str:
    """Returns TwiML answering with ``replies`` (outbox id, text), each reporting its status."""
    response = MessagingResponse()
    for outbox_id, text in replies:
        # The outbox id in the action URL ties Twilio's status report to our row.
        response.message(text, action=f"{status_url}?outbox={outbox_id}", method="POST")
    return str(response)


async def apply_status(
    *,
    db_session: AsyncSession,
    message_sid: str,
    status: str,
    error_code: str | None,
    outbox_hint: int | None,
    max_attempts: int,
    retry_delay: float,
) -> StatusOutcome:
    """Records a Twilio delivery status callback once and moves the outbox row forward only."""
    status = status.lower()
    if status not in STATUS_RANK:
        raise BadPayload(f"unknown MessageStatus {status!r}")
    row = await outbox_service.get_by_provider_id(
        db_session=db_session, channel=Channel.SMS, provider_id=message_sid, outbox_hint=outbox_hint
    )
    if row is None:
        # Not ours (or not yet known): record nothing, so Twilio's retry can still apply it.
        return StatusOutcome(applied=False)
    if not await _first_report(db_session, message_sid, status, error_code):
        return StatusOutcome(applied=False, outbox_id=row.id)
    return await outbox_service.record_provider_status(
        db_session=db_session,
        row=row,
        provider_id=message_sid,
        status=status,
        outcome=OUTBOX_STATUS.get(status, OutboxStatus.SENT),
        replaces=[name for name, rank in STATUS_RANK.items() if rank < STATUS_RANK[status]],
        error_code=error_code,
        retryable=error_code in RETRYABLE_DELIVERY_ERRORS,
        max_attempts=max_attempts,
        retry_delay=retry_delay,
    )


async def _first_report(
    db_session: AsyncSession, message_sid: str, status: str, error_code: str | None
) -> bool:
    """Whether this (message, status) is reported for the first time: Twilio repeats some."""
    dialect = postgresql if db_session.get_bind().dialect.name == "postgresql" else sqlite
    recorded = await db_session.scalar(
        dialect.insert(SmsStatusEvent)
        .values(message_sid=message_sid, status=status, error_code=error_code, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["message_sid", "status"])
        .returning(SmsStatusEvent.id)
    )
    return recorded is not None
