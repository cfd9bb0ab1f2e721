"""Working-time arithmetic on a calendar of working hours, weekends and exceptional days."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Ten years of days off in a row would be a data error, not a calendar: stop there.
_MAX_DAYS_SCANNED = 3660


class LimitUnit:
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    CALENDAR_HOURS = "calendar_hours"

    ALL = (WORKING_HOURS, WORKING_DAYS, CALENDAR_HOURS)


@dataclass(frozen=True)
class WorkingCalendar:
    timezone: ZoneInfo
    day_start: time
    day_end: time
    weekend_days: frozenset[int] = frozenset({6, 7})
    # date → True (a working day, e.g. a moved Saturday) or False (a holiday)
    exceptions: Mapping[date, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.day_end <= self.day_start:
            raise ValueError("a working day must end after it starts")

    @property
    def day_length(self) -> timedelta:
        """Returns the length of one working day."""
        return datetime.combine(date.min, self.day_end) - datetime.combine(date.min, self.day_start)

    def is_working_day(self, day: date) -> bool:
        """Returns whether ``day`` is a working day."""
        if day in self.exceptions:
            return self.exceptions[day]
        return day.isoweekday() not in self.weekend_days

    def _bounds(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.day_start, tzinfo=self.timezone),
            datetime.combine(day, self.day_end, tzinfo=self.timezone),
        )

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """Returns the moment ``amount`` of working time after ``start`` (UTC)."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        remaining = amount
        cursor = start.astimezone(self.timezone)
        day = cursor.date()
        for _ in range(_MAX_DAYS_SCANNED):
            if self.is_working_day(day):
                opens, closes = self._bounds(day)
                begin = max(cursor, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(UTC)
                    remaining -= available
            day += timedelta(days=1)
            cursor = datetime.combine(day, time.min, tzinfo=self.timezone)
        raise ValueError("no working time found within ten years: check the calendar data")

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Returns the working time elapsed from ``start`` to ``end``."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        day = start.astimezone(self.timezone).date()
        last = end.astimezone(self.timezone).date()
        while day <= last:
            if self.is_working_day(day):
                opens, closes = self._bounds(day)
                begin, finish = max(start, opens), min(end, closes)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total

    def due_at(self, start: datetime, limit: int, unit: str) -> datetime:
        """Returns the due time of a limit given in ``unit`` (see ``LimitUnit``)."""
        if limit < 0:
            raise ValueError("a time limit cannot be negative")
        if unit == LimitUnit.WORKING_HOURS:
            return self.add_working_time(start, timedelta(hours=limit))
        if unit == LimitUnit.WORKING_DAYS:
            return self.add_working_time(start, self.day_length * limit)
        if unit == LimitUnit.CALENDAR_HOURS:
            return (start + timedelta(hours=limit)).astimezone(UTC)
        raise ValueError(f"unknown time-limit unit {unit!r}")
