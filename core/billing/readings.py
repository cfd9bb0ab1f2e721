"""Meter readings from any channel: matched to a meter, checked, accepted, held or refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import calc
from core.billing.commands import ReadingValue
from core.billing.enums import ReadingStatus
from core.billing.models import (
    BillingService,
    BuildingMeter,
    BuildingMeterReading,
    Charge,
    Meter,
    MeterReading,
)
from core.billing.service import month_start, months_before

# How many metered months make "the usual" volume a new reading is compared with.
USUAL_WINDOW = 6


class ReadingRejected(ValueError):
    """Readings that cannot be matched to meters; ``reason`` is a message id to translate."""

    def __init__(self, reason: str, **values: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


@dataclass(frozen=True)
class ReadingOutcome:
    meter_id: int
    service_id: int
    serial: str
    value: Decimal
    period: date
    status: ReadingStatus
    reason: str | None
    volume: Decimal | None
    # The last counted reading before this period: a refused reading's reply quotes it.
    previous: Decimal | None = None


def reading_period(today: date, deadline_day: int) -> date:
    """Returns the period a reading sent ``today`` counts for: this month up to the deadline
    day, the next month after it (this month's bill is being prepared)."""
    start = month_start(today)
    return start if today.day <= deadline_day else months_before(start, -1)


def _labels(meter: Meter, service: BillingService) -> set[str]:
    return {meter.serial.casefold(), service.code.casefold()} | {
        alias.casefold() for alias in service.aliases or []
    }


async def account_meters(
    *, db_session: AsyncSession, account_id: int
) -> list[tuple[Meter, BillingService]]:
    """Returns an account's active meters with their services."""
    rows = await db_session.execute(
        select(Meter, BillingService)
        .join(BillingService, BillingService.id == Meter.service_id)
        .where(Meter.account_id == account_id, Meter.active.is_(True))
        .order_by(Meter.id)
    )
    return [(meter, service) for meter, service in rows]


def match_meters(
    meters: list[tuple[Meter, BillingService]], values: list[ReadingValue]
) -> list[tuple[Meter, BillingService, Decimal]]:
    """Returns which meter each value is for, or raises ReadingRejected saying why not."""
    if not meters:
        raise ReadingRejected("reading:no_meter")
    # Every label of every meter: the reply names each meter in the reader's own script.
    hint = sorted((service.aliases or [service.code]) for _m, service in meters)
    matched: list[tuple[Meter, BillingService, Decimal]] = []
    for item in values:
        if item.label is None:
            if len(meters) > 1:
                raise ReadingRejected("reading:which_meter", labels=hint)
            meter, service = meters[0]
        else:
            found = [(m, s) for m, s in meters if item.label in _labels(m, s)]
            if len(found) != 1:
                raise ReadingRejected("reading:unknown_meter", label=item.label, labels=hint)
            meter, service = found[0]
        if any(meter.id == other.id for other, _s, _v in matched):
            raise ReadingRejected("reading:twice", labels=hint)
        matched.append((meter, service, item.value))
    return matched


async def _previous(
    db_session: AsyncSession, meter_id: int, period: date
) -> tuple[date, Decimal] | None:
    row = (
        await db_session.execute(
            select(MeterReading.period, MeterReading.value)
            .where(
                MeterReading.meter_id == meter_id,
                MeterReading.period < period,
                MeterReading.status != ReadingStatus.REJECTED,
            )
            .order_by(MeterReading.period.desc(), MeterReading.id.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def usual_volume(
    *, db_session: AsyncSession, account_id: int, service_id: int, before: date
) -> Decimal | None:
    """Returns the average metered monthly volume of the last months, or None without any."""
    recent = (
        select(Charge.quantity)
        .where(
            Charge.account_id == account_id,
            Charge.service_id == service_id,
            Charge.basis == calc.Basis.METERED,
            Charge.period < before,
        )
        .order_by(Charge.period.desc())
        .limit(USUAL_WINDOW)
        .subquery()
    )
    average = await db_session.scalar(select(func.avg(recent.c.quantity)))
    return Decimal(average) if average is not None else None


async def submit_reading(
    *,
    db_session: AsyncSession,
    meter: Meter,
    value: Decimal,
    period: date,
    band: Decimal,
    channel: str,
    inbound_id: int | None,
    now: datetime,
) -> ReadingOutcome:
    """Checks and records one reading; a refused one is kept too, with its reason.

    A later reading for the same period supersedes an earlier one (a typo corrected), so it
    is compared with the previous periods' readings, not with the one it corrects.
    """
    previous = await _previous(db_session, meter.id, period)
    usual = await usual_volume(
        db_session=db_session,
        account_id=meter.account_id,
        service_id=meter.service_id,
        before=period,
    )
    if previous is not None and usual is not None:
        # After missed months the volume covers all of them: compare with as many months.
        gap = (period.year - previous[0].year) * 12 + period.month - previous[0].month
        usual *= max(1, gap)
    check = calc.check_reading(
        value=value,
        previous=previous[1] if previous is not None else None,
        usual_monthly=usual,
        band=band,
    )
    status = ReadingStatus(str(check.verdict))
    reading = MeterReading(
        meter_id=meter.id,
        period=period,
        # A refused reading is kept for the record; the column cannot hold what was
        # refused for having too many digits, so that one is kept as 0.
        value=value if abs(value) < Decimal(10) ** 9 else calc.ZERO,
        status=status,
        reason=check.reason,
        channel=channel,
        inbound_id=inbound_id,
        submitted_at=now,
    )
    db_session.add(reading)
    await db_session.flush()
    return ReadingOutcome(
        meter_id=meter.id,
        service_id=meter.service_id,
        serial=meter.serial,
        value=value,
        period=period,
        status=status,
        reason=check.reason,
        volume=check.volume,
        previous=previous[1] if previous is not None else None,
    )


class ReviewRejected(ValueError):
    """A review that cannot be made; the reason is for the operator."""


async def review_reading(
    *, db_session: AsyncSession, reading_id: int, accept: bool, reviewer: str, now: datetime
) -> MeterReading:
    """Decides a reading held for review: it stands (accepted) or is struck out (rejected)."""
    reading = await db_session.get(MeterReading, reading_id, with_for_update=True)
    if reading is None:
        raise ReviewRejected("no such reading")
    if reading.status != ReadingStatus.REVIEW:
        raise ReviewRejected(f"the reading is {reading.status}, not held for review")
    reading.status = ReadingStatus.ACCEPTED if accept else ReadingStatus.REJECTED
    if not accept:
        reading.reason = "reading:refused_on_review"
    reading.reviewed_by = reviewer
    reading.reviewed_at = now
    await db_session.flush()
    return reading


async def record_building_reading(
    *, db_session: AsyncSession, serial: str, service_code: str, period: date, value: Decimal
) -> None:
    """Records (or corrects) a building meter's reading for a period."""
    if value < 0:
        raise ReadingRejected("reading:negative")
    meter_id = await db_session.scalar(
        select(BuildingMeter.id)
        .join(BillingService, BillingService.id == BuildingMeter.service_id)
        .where(BuildingMeter.serial == serial, BillingService.code == service_code)
    )
    if meter_id is None:
        raise ReadingRejected("reading:no_meter")
    dialect = postgresql if db_session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(BuildingMeterReading).values(
        meter_id=meter_id, period=month_start(period), value=value
    )
    await db_session.execute(
        statement.on_conflict_do_update(
            index_elements=["meter_id", "period"], set_={"value": value}
        )
    )
