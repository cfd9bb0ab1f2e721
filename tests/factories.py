"""Builders for test inputs, so each test states only what matters to it."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import update

from channels.contract import Channel, InboundMessage
from core.db import transaction, utcnow
from core.outbox import service as outbox_service
from core.outbox.models import OutboxMessage
from core.runtime import Hub

_ids = itertools.count(1)


def inbound(
    text: str = "A pothole outside my house",
    *,
    channel: Channel = Channel.SMS,
    sender: str = "+79005550101",
    provider_id: str | None = None,
    **fields: Any,
) -> InboundMessage:
    """Returns an inbound message as a channel adapter would hand it over."""
    return InboundMessage(
        channel=channel,
        sender_address=sender,
        text=text,
        provider_message_id=provider_id or f"test-{next(_ids)}",
        received_at=utcnow(),
        **fields,
    )


async def outbox_row(hub: Hub, outbox_id: int) -> OutboxMessage:
    """Returns an outbox row as it is in the database now."""
    async with hub.session_factory() as session:
        row = await session.get(OutboxMessage, outbox_id)
        assert row is not None
        return row


async def queued_sms(
    hub: Hub,
    text: str = "Your request is registered.",
    *,
    kind: str = "reply",
    address: str = "+79005550101",
    language: str = "en",
    **state: Any,
) -> OutboxMessage:
    """Writes an SMS outbox row; ``state`` then overrides columns (status, attempts, …)."""
    async with transaction(hub.session_factory) as session:
        row = await outbox_service.create(
            db_session=session,
            kind=kind,
            channel="sms",
            address=address,
            language=language,
            text=text,
        )
        if state:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id).values(**state)
            )
    return row
