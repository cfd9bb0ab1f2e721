"""The handling clock (DOMAIN §1): starts at dispatch, runs on working time, stops when
parked, grows with approved extensions. Pure functions over the spine's calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.sla.calendar import LimitUnit, WorkingCalendar


def amount_of(calendar: WorkingCalendar, limit: int, unit: str) -> timedelta:
    """Returns a limit as working time (calendar hours count as they are)."""
    if unit == LimitUnit.WORKING_HOURS or unit == LimitUnit.CALENDAR_HOURS:
        return timedelta(hours=limit)
    if unit == LimitUnit.WORKING_DAYS:
        return calendar.day_length * limit
    raise ValueError(f"unknown time-limit unit {unit!r}")


def due_after(calendar: WorkingCalendar, start: datetime, limit: int, unit: str) -> datetime:
    """Returns when a limit given at ``start`` runs out."""
    return calendar.due_at(start, limit, unit)


def extended(calendar: WorkingCalendar, due: datetime, limit: int, unit: str) -> datetime:
    """Returns the due time after an extension of ``limit`` ``unit`` is added to it."""
    return calendar.due_at(due, limit, unit)


def time_left(calendar: WorkingCalendar, now: datetime, due: datetime) -> timedelta:
    """Returns the working time left until ``due`` (zero when it has passed)."""
    return calendar.working_time_between(now, due)


def resumed_due(calendar: WorkingCalendar, now: datetime, left: timedelta) -> datetime:
    """Returns the new due time of a case taken out of the park with ``left`` working time."""
    return calendar.add_working_time(now, left)
