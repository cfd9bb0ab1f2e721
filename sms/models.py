"""Delivery status callbacks as received, one row per (message, status)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class SmsStatusEvent(Base):
    __tablename__ = "sms_status_events"
    # Twilio may repeat a callback; the same (sid, status) is recorded and applied once.
    __table_args__ = (UniqueConstraint("message_sid", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
