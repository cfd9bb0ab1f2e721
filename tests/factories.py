"""Builders for test inputs, so each test states only what matters to it."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select, update

from channels.contract import Channel, InboundMessage
from core.auth import service as auth_service
from core.auth.enums import Role, ScopeKind
from core.db import transaction, utcnow
from core.outbox import service as outbox_service
from core.outbox.models import OutboxMessage
from core.runtime import Hub
from core.territory.models import District

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


async def api_key(
    hub: Hub,
    role: Role = Role.AGENT,
    scope: ScopeKind = ScopeKind.CITY,
    scope_code: str | None = None,
) -> dict[str, str]:
    """Returns headers carrying a new API key with ``role``, scoped to a district by code."""
    async with transaction(hub.session_factory) as session:
        scope_id = None
        if scope_code:
            scope_id = await session.scalar(select(District.id).where(District.code == scope_code))
        _, key = await auth_service.create_api_key(
            db_session=session, name="test", role=role, scope_kind=scope, scope_id=scope_id
        )
    return {"X-API-Key": key}
