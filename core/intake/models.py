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


class PendingChoice(Base):
    """The choices the last reply to a contact on a channel offered, until they expire.

    An answer ("2", a button) is read against this row only, so a digit can never be taken
    for a menu item the resident was not shown, nor collide with a ballot's digits. Every
    reply intake sends replaces the row (a reply without choices removes it).
    """

    __tablename__ = "pending_choices"
    __table_args__ = (UniqueConstraint("contact_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    # What answering means: "split" (make a message its own request), "status" (which
    # request), or a back office's name when it asked.
    purpose: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    # [{"id": ..., "labels": {...}}, ...] in the order shown (digit 1 is the first).
    choices: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # What the purpose needs to act on the answer (the inbound message to split out).
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The reply that offered them, to show them again on a wrong answer.
    notice: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
