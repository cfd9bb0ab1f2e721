"""Working calendars: hours, weekends and exceptional days as data."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import JSON, Date, ForeignKey, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class WorkCalendar(Base):
    __tablename__ = "work_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    day_start: Mapped[time] = mapped_column(Time)
    day_end: Mapped[time] = mapped_column(Time)
    # ISO weekday numbers (Monday = 1) that are days off unless a CalendarDay says otherwise.
    weekend_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [6, 7])


class CalendarDay(Base):
    """An exception to the weekly pattern: a holiday, or a weekend day moved to work."""

    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("calendar_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("work_calendars.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    is_working: Mapped[bool]
    note: Mapped[str | None] = mapped_column(String(200))
