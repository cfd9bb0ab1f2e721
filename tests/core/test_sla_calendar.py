from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.sla.calendar import LimitUnit, WorkingCalendar

MSK = ZoneInfo("Europe/Moscow")


def calendar(**exceptions: bool) -> WorkingCalendar:
    return WorkingCalendar(
        timezone=MSK,
        day_start=time(9),
        day_end=time(18),
        exceptions={date.fromisoformat(k[1:].replace("_", "-")): v for k, v in exceptions.items()},
    )


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)


def test_four_working_hours_from_friday_evening_fall_on_monday_noon() -> None:
    # The example: Friday 17:00 + 4 working hours with 09:00-18:00 → Monday 12:00.
    friday_5pm = local(2026, 11, 20, 17, 0)
    due = calendar().due_at(friday_5pm, 4, LimitUnit.WORKING_HOURS)
    assert due == local(2026, 11, 23, 12, 0)
    assert due.tzinfo is UTC


def test_holiday_is_skipped_like_a_weekend() -> None:
    # Thursday 16:00 + 4h: 2h on Thursday, Friday is a holiday → Monday 11:00.
    cal = calendar(d2026_11_27=False)
    assert cal.due_at(local(2026, 11, 26, 16), 4, LimitUnit.WORKING_HOURS) == local(
        2026, 11, 30, 11
    )


def test_moved_working_saturday_counts() -> None:
    cal = calendar(d2026_11_21=True)
    assert cal.due_at(local(2026, 11, 20, 17), 4, LimitUnit.WORKING_HOURS) == local(
        2026, 11, 21, 12
    )


def test_before_opening_starts_at_opening_and_after_closing_next_morning() -> None:
    cal = calendar()
    assert cal.due_at(local(2026, 11, 23, 6, 30), 2, LimitUnit.WORKING_HOURS) == local(
        2026, 11, 23, 11
    )
    assert cal.due_at(local(2026, 11, 23, 19, 45), 2, LimitUnit.WORKING_HOURS) == local(
        2026, 11, 24, 11
    )


def test_limit_ending_exactly_at_closing_time_is_that_evening() -> None:
    assert calendar().due_at(local(2026, 11, 23, 14), 4, LimitUnit.WORKING_HOURS) == local(
        2026, 11, 23, 18
    )


def test_working_days_count_whole_days_of_working_time() -> None:
    # Wednesday 10:00 + 5 working days → next Wednesday 10:00 (the weekend does not count).
    assert calendar().due_at(local(2026, 11, 25, 10), 5, LimitUnit.WORKING_DAYS) == local(
        2026, 12, 2, 10
    )


def test_new_year_holidays_push_a_working_day_limit_into_january() -> None:
    cal = calendar(**{f"d2027_01_0{d}": False for d in range(1, 9)}, d2026_12_31=False)
    # Wednesday 30 Dec 15:00 + 1 working day: 3h left on the 30th, then 6h on Mon 11 Jan.
    assert cal.due_at(local(2026, 12, 30, 15), 1, LimitUnit.WORKING_DAYS) == local(2027, 1, 11, 15)


def test_calendar_hours_ignore_the_calendar() -> None:
    start = local(2026, 11, 21, 23)  # a Saturday night
    assert calendar().due_at(start, 24, LimitUnit.CALENDAR_HOURS) == start + timedelta(hours=24)


def test_working_time_between_counts_only_open_hours() -> None:
    cal = calendar()
    assert cal.working_time_between(local(2026, 11, 20, 17), local(2026, 11, 23, 12)) == (
        timedelta(hours=4)
    )


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        calendar().due_at(datetime(2026, 11, 20, 17), 4, LimitUnit.WORKING_HOURS)
    with pytest.raises(ValueError):
        calendar().due_at(local(2026, 11, 20, 17), 4, "fortnights")
    with pytest.raises(ValueError):
        calendar().due_at(local(2026, 11, 20, 17), -1, LimitUnit.WORKING_HOURS)
    with pytest.raises(ValueError):
        WorkingCalendar(timezone=MSK, day_start=time(18), day_end=time(9))
    never = WorkingCalendar(
        timezone=MSK, day_start=time(9), day_end=time(18), weekend_days=frozenset(range(1, 8))
    )
    with pytest.raises(ValueError, match="ten years"):
        never.due_at(local(2026, 11, 20, 17), 1, LimitUnit.WORKING_HOURS)
