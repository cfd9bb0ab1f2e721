"""The monthly charge run: every account's services for one period, set-based in batches."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Row, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import calc
from core.billing.enums import ChargeBasis, ReadingStatus
from core.billing.models import (
    AccountService,
    BillingService,
    Charge,
    Meter,
    MeterReading,
    Tariff,
)
from core.config import Settings
from core.db import utcnow
from core.territory.models import Account, Premises

ESTIMATED = (calc.Basis.AVERAGE, calc.Basis.NORMATIVE)
QUANTITY = Decimal("0.0001")
# Reports and charge runs count a few years back and a month ahead of a period, and
# Python's calendar ends at years 1 and 9999: years far from today are typos anyway.
PERIOD_YEARS = range(1900, 3000)
PERIOD_FORMAT = re.compile(r"(\d{4})-(\d{2})(-\d{2})?")


@dataclass(frozen=True)
class ChargeRules:
    """The settings of the missing-reading rule (they differ between regions and years)."""

    average_window: int = 6
    min_months: int = 3
    average_cap: int = 3
    rounding: str = calc.ROUND_HALF_UP

    @classmethod
    def from_settings(cls, settings: Settings) -> ChargeRules:
        """Returns the rules the hub's settings give."""
        return cls(
            average_window=settings.billing_average_window,
            min_months=settings.billing_average_min_months,
            average_cap=settings.billing_average_cap,
            rounding=calc.ROUNDINGS[settings.billing_rounding],
        )


@dataclass
class RunReport:
    period: date
    charges: int = 0
    total: Decimal = calc.ZERO
    by_basis: dict[str, int] = field(default_factory=dict)
    missing_tariffs: list[str] = field(default_factory=list)


def month_start(day: date) -> date:
    """Returns the first day of ``day``'s month: the key of a billing period."""
    return day.replace(day=1)


def parse_period(text: str) -> date:
    """Returns the period (its first day) written as ``YYYY-MM`` or ``YYYY-MM-DD``."""
    match = PERIOD_FORMAT.fullmatch(text)
    if match is None:
        raise ValueError("use YYYY-MM, e.g. 2026-11")
    if int(match[1]) not in PERIOD_YEARS:
        first, last = PERIOD_YEARS[0], PERIOD_YEARS[-1]
        raise ValueError(f"the year must be between {first} and {last}")
    try:
        return month_start(date.fromisoformat(text if match[3] else f"{text}-01"))
    except ValueError:
        raise ValueError(f"not a calendar date: {text}") from None


def months_before(period: date, count: int) -> date:
    """Returns the period ``count`` months before ``period``."""
    index = period.year * 12 + period.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


async def _tariffs(db_session: AsyncSession, period: date) -> dict[int, Decimal]:
    rows = await db_session.execute(
        select(Tariff.service_id, Tariff.price)
        .where(Tariff.valid_from <= period)
        .order_by(Tariff.service_id, Tariff.valid_from)
    )
    return {service_id: price for service_id, price in rows.all()}  # the latest wins


async def run_charges(
    *,
    db_session: AsyncSession,
    period: date,
    rules: ChargeRules = ChargeRules(),
    batch: int = 2000,
) -> RunReport:
    """Charges every account's services for ``period``; running it again replaces the run."""
    period = month_start(period)
    report = RunReport(period)
    services = {s.id: s for s in await db_session.scalars(select(BillingService))}
    tariffs = await _tariffs(db_session, period)
    report.missing_tariffs = sorted(s.code for sid, s in services.items() if sid not in tariffs)
    await db_session.execute(delete(Charge).where(Charge.period == period))
    window_start = months_before(period, max(rules.average_window, rules.average_cap) + 12)

    last_id = 0
    while True:
        account_ids = list(
            await db_session.scalars(
                select(Account.id).where(Account.id > last_id).order_by(Account.id).limit(batch)
            )
        )
        if not account_ids:
            break
        last_id = account_ids[-1]
        rows = await _charge_batch(
            db_session, account_ids, period, window_start, services, tariffs, rules
        )
        if rows:
            await db_session.execute(insert(Charge), rows)
        for row in rows:
            amount, basis = row["amount"], str(row["basis"])
            assert isinstance(amount, Decimal)
            report.charges += 1
            report.total += amount
            report.by_basis[basis] = report.by_basis.get(basis, 0) + 1
    return report


async def _charge_batch(
    db_session: AsyncSession,
    account_ids: list[int],
    period: date,
    window_start: date,
    services: dict[int, BillingService],
    tariffs: dict[int, Decimal],
    rules: ChargeRules,
) -> list[dict[str, object]]:
    # Four set-based queries per batch of accounts (three when none has a meter), never
    # one per account: this is the charge run's hot path (bench/ measures it).
    subscribed = await _subscriptions(db_session, account_ids)
    meters = await _active_meters(db_session, account_ids)
    readings = await _readings(db_session, meters, period)
    history = await _charge_history(db_session, account_ids, window_start, period)
    now = utcnow()
    rows: list[dict[str, object]] = []
    for account_id, service_id, residents, area in subscribed:
        service = services[service_id]
        tariff = tariffs.get(service_id)
        if tariff is None:
            continue  # reported by the run: no price, no charge
        basis, exact = _quantity(
            service=service,
            residents=residents,
            area=area,
            meter_id=meters.get((account_id, service_id)),
            readings=readings,
            period=period,
            past=history[(account_id, service_id)],
            rules=rules,
        )
        # Stored to 4 places; the amount is computed from the stored quantity, so a later
        # reconciliation subtracts exactly what was charged.
        quantity = exact.quantize(QUANTITY)
        rows.append(
            {
                "account_id": account_id,
                "service_id": service_id,
                "period": period,
                "basis": basis,
                "quantity": quantity,
                "tariff": tariff,
                # A reconciliation after estimated months may be negative: a credit.
                "amount": calc.money(quantity * tariff, rules.rounding),
                "created_at": now,
            }
        )
    return rows


async def _subscriptions(
    db_session: AsyncSession, account_ids: list[int]
) -> Sequence[Row[int, int, int, Decimal]]:
    """Returns (account, service, registered residents, area) for every subscription."""
    rows = await db_session.execute(
        select(
            AccountService.account_id,
            AccountService.service_id,
            Account.registered_residents,
            Premises.area,
        )
        .join(Account, Account.id == AccountService.account_id)
        .join(Premises, Premises.id == Account.premises_id)
        .where(AccountService.account_id.in_(account_ids))
    )
    return rows.all()


async def _active_meters(
    db_session: AsyncSession, account_ids: list[int]
) -> dict[tuple[int, int], int]:
    """Returns the active meter per (account, service)."""
    rows = await db_session.execute(
        select(Meter.id, Meter.account_id, Meter.service_id).where(
            Meter.account_id.in_(account_ids), Meter.active.is_(True)
        )
    )
    return {(account_id, service_id): meter_id for meter_id, account_id, service_id in rows.all()}


async def _readings(
    db_session: AsyncSession, meters: dict[tuple[int, int], int], period: date
) -> dict[int, list[tuple[date, Decimal]]]:
    """Returns each meter's readings up to ``period``, oldest first (rejected ones left out)."""
    readings: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    if not meters:
        return readings
    rows = await db_session.execute(
        select(MeterReading.meter_id, MeterReading.period, MeterReading.value)
        .where(
            MeterReading.meter_id.in_(list(meters.values())),
            MeterReading.period <= period,
            MeterReading.status != ReadingStatus.REJECTED,
        )
        .order_by(MeterReading.meter_id, MeterReading.period, MeterReading.id)
    )
    for meter_id, reading_period, value in rows.all():
        readings[meter_id].append((reading_period, value))
    return readings


async def _charge_history(
    db_session: AsyncSession, account_ids: list[int], window_start: date, period: date
) -> dict[tuple[int, int], list[tuple[date, str, Decimal]]]:
    """Returns the earlier charges per (account, service) since ``window_start``, oldest
    first: the averages and the reconciliation after estimated months are read from them."""
    history: dict[tuple[int, int], list[tuple[date, str, Decimal]]] = defaultdict(list)
    rows = await db_session.execute(
        select(Charge.account_id, Charge.service_id, Charge.period, Charge.basis, Charge.quantity)
        .where(
            Charge.account_id.in_(account_ids),
            Charge.period >= window_start,
            Charge.period < period,
        )
        .order_by(Charge.period)
    )
    for account_id, service_id, charged_period, basis, quantity in rows.all():
        history[(account_id, service_id)].append((charged_period, basis, quantity))
    return history


def _quantity(
    *,
    service: BillingService,
    residents: int,
    area: Decimal,
    meter_id: int | None,
    readings: dict[int, list[tuple[date, Decimal]]],
    period: date,
    past: list[tuple[date, str, Decimal]],
    rules: ChargeRules,
) -> tuple[str, Decimal]:
    if service.basis == ChargeBasis.AREA:
        return calc.Basis.AREA, service.normative * area
    normative = calc.normative_volume(normative=service.normative, residents=residents)
    if service.basis == ChargeBasis.PER_RESIDENT or meter_id is None:
        return calc.Basis.NORMATIVE, normative
    own = readings.get(meter_id, [])
    current = next((value for p, value in reversed(own) if p == period), None)
    previous = next(((p, value) for p, value in reversed(own) if p < period), None)
    if current is not None:
        if previous is None:
            return calc.Basis.INITIAL, normative  # the first reading only sets the baseline
        # The real volume since the last reading, less what was estimated in between.
        estimated = sum(
            (q for p, basis, q in past if p > previous[0] and basis in ESTIMATED), calc.ZERO
        )
        return calc.Basis.METERED, current - previous[1] - estimated
    missed = 1
    for _p, basis, _q in reversed(past):
        if basis not in ESTIMATED:
            break
        missed += 1
    volume = calc.volume_without_reading(
        metered_history=[q for _p, basis, q in past if basis == calc.Basis.METERED],
        periods_without_reading=missed,
        average_window=rules.average_window,
        min_months=rules.min_months,
        average_cap=rules.average_cap,
        normative=normative,
    )
    return volume.basis, volume.quantity
