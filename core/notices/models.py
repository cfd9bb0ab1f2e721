"""Subscriptions and notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.notices.enums import Audience, NoticeStatus, Topic


class Subscription(Base):
    """A contact's choice about one topic: subscribed (active) or unsubscribed."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("contact_id", "topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    topic: Mapped[Topic] = mapped_column(String(32))
    active: Mapped[bool]
    # Where the subscription applies; None means the resident's own buildings.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notice(Base):
    """A message to many residents, now or at a set time."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[Topic] = mapped_column(String(32))
    audience: Mapped[Audience] = mapped_column(String(16))
    # city | district | building, and the id of the district or building.
    scope_kind: Mapped[str] = mapped_column(String(16))
    scope_id: Mapped[int | None]
    # The text per language: {"en": ..., "ru": ..., "zh": ...}; English is required.
    texts: Mapped[dict[str, str]] = mapped_column(JSON)
    channel: Mapped[str] = mapped_column(String(16), default="sms")
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[NoticeStatus] = mapped_column(String(16), default=NoticeStatus.SCHEDULED)
    # The longest language version's SMS parts, and whether it exceeds the allowed parts.
    max_parts: Mapped[int]
    too_long: Mapped[bool]
    recipients: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
