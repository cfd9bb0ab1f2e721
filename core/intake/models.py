"""The raw inbound record, written first and exactly once per provider message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class InboundRecord(Base):
    __tablename__ = "inbound_messages"
    # The idempotency key: a provider retrying a delivery hits this constraint.
    __table_args__ = (UniqueConstraint("channel", "provider_message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str] = mapped_column(String(200))
    sender_address: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    # processed | failed: a failed record keeps the raw message so nothing accepted is lost.
    status: Mapped[str] = mapped_column(String(16), default="processed")
    # How many times processing failed; the periodic retry gives up after a few.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(String(500))
