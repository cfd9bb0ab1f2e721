"""Staff users and API keys, each with a role and a territorial scope."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.auth.enums import Role, ScopeKind
from core.db import Base, UTCDateTime, utcnow


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(String(16))
    scope_kind: Mapped[ScopeKind] = mapped_column(String(16), default=ScopeKind.CITY)
    # The id of the district / community / department the scope names; None for the city.
    scope_id: Mapped[int | None]
    language: Mapped[str] = mapped_column(String(8), default="en")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Only a SHA-256 of the key is stored; the key itself is shown once at creation.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    role: Mapped[Role] = mapped_column(String(16))
    scope_kind: Mapped[ScopeKind] = mapped_column(String(16), default=ScopeKind.CITY)
    scope_id: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthEvent(Base):
    """The audit trail of staff logins: failures, locks and successes, with where from."""

    __tablename__ = "auth_events"
    __table_args__ = (Index("ix_auth_events_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # login_succeeded | login_failed | login_locked (refused while locked)
    kind: Mapped[str] = mapped_column(String(32))
    # As typed (cut to the column), so attempts on names that do not exist show too.
    username: Mapped[str] = mapped_column(String(64))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    client: Mapped[str] = mapped_column(String(64))
