"""Answers to "what do I owe and why": plain data that each channel words its own way.

Values are JSON-friendly (strings for money and dates, name dicts for names) because the
answers travel through the outbox templates and the REST API alike.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import calc
from core.billing.calc import plain
from core.billing.models import (
    BillingService,
    Charge,
    Meter,
    MeterReading,
    Payment,
    PaymentAllocation,
    Recalculation,
    Supplier,
)
from core.billing.payments import outstanding
from core.territory.models import Account

Answer = dict[str, Any]


async def _services(db_session: AsyncSession) -> dict[int, tuple[BillingService, Supplier]]:
    rows = await db_session.execute(
        select(BillingService, Supplier).join(Supplier, Supplier.id == BillingService.supplier_id)
    )
    return {service.id: (service, supplier) for service, supplier in rows}


async def _advance(db_session: AsyncSession, account_id: int) -> Decimal:
    total = await db_session.scalar(
        select(func.sum(PaymentAllocation.amount))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(Payment.account_id == account_id, PaymentAllocation.service_id.is_(None))
    )
    return Decimal(total or 0)


async def _last_period(db_session: AsyncSession, account_id: int) -> Any:
    return await db_session.scalar(
        select(func.max(Charge.period)).where(Charge.account_id == account_id)
    )


async def balance(*, db_session: AsyncSession, account: Account) -> Answer:
    """Returns what the account owes, per supplier and service, less any advance paid."""
    # Unclamped: a service in credit (an opening credit, a recalculation after payment)
    # lowers the total due.
    owed = await outstanding(db_session=db_session, account_id=account.id, clamp=False)
    services = await _services(db_session)
    advance = await _advance(db_session, account.id)
    total = sum(owed.values(), calc.ZERO)
    lines = [
        {
            "supplier": services[service_id][1].names,
            "service": services[service_id][0].names,
            "owed": str(amount),
        }
        for service_id, amount in sorted(owed.items())
        if amount
    ]
    period = await _last_period(db_session, account.id)
    return {
        "account": account.number,
        "period": period.strftime("%Y-%m") if period else "",
        "due": str(calc.money(max(calc.ZERO, total - advance))),
        "credit": str(calc.money(max(calc.ZERO, advance - total))),
        "lines": lines,
    }


async def breakdown(*, db_session: AsyncSession, account: Account) -> Answer:
    """Returns the last bill line by line: supplier, service, how it was charged, amount."""
    period = await _last_period(db_session, account.id)
    services = await _services(db_session)
    lines: list[dict[str, Any]] = []
    total = calc.ZERO
    if period is not None:
        recalculated: dict[int, Decimal] = defaultdict(lambda: calc.ZERO)
        for service_id, amount in await db_session.execute(
            select(Recalculation.service_id, Recalculation.amount).where(
                Recalculation.account_id == account.id, Recalculation.period == period
            )
        ):
            recalculated[service_id] += amount
        charges = await db_session.scalars(
            select(Charge)
            .where(Charge.account_id == account.id, Charge.period == period)
            .order_by(Charge.service_id)
        )
        for charge in charges:
            service, supplier = services[charge.service_id]
            correction = recalculated.get(charge.service_id, calc.ZERO)
            total += charge.amount + correction
            lines.append(
                {
                    "supplier": supplier.names,
                    "service": service.names,
                    "basis": charge.basis,
                    "quantity": plain(charge.quantity),
                    "unit": service.unit,
                    "tariff": plain(charge.tariff),
                    "amount": str(charge.amount),
                    "recalculated": str(correction) if correction else "",
                }
            )
    return {
        "account": account.number,
        "period": period.strftime("%Y-%m") if period else "",
        "total": str(calc.money(total)),
        "lines": lines,
    }


async def last_payments(*, db_session: AsyncSession, account: Account, limit: int = 3) -> Answer:
    """Returns the account's most recent payments."""
    payments = await db_session.scalars(
        select(Payment)
        .where(Payment.account_id == account.id)
        .order_by(Payment.paid_on.desc(), Payment.id.desc())
        .limit(limit)
    )
    return {
        "account": account.number,
        "payments": [{"paid_on": p.paid_on.isoformat(), "amount": str(p.amount)} for p in payments],
    }


async def last_readings(*, db_session: AsyncSession, account: Account) -> Answer:
    """Returns each meter's latest reading and whether it was taken."""
    services = await _services(db_session)
    latest = (
        select(MeterReading.meter_id, func.max(MeterReading.id).label("id"))
        .join(Meter, Meter.id == MeterReading.meter_id)
        .where(Meter.account_id == account.id)
        .group_by(MeterReading.meter_id)
        .subquery()
    )
    rows = await db_session.execute(
        select(Meter, MeterReading)
        .outerjoin(latest, latest.c.meter_id == Meter.id)
        .outerjoin(MeterReading, MeterReading.id == latest.c.id)
        .where(Meter.account_id == account.id, Meter.active.is_(True))
        .order_by(Meter.id)
    )
    readings = []
    for meter, reading in rows:
        service = services[meter.service_id][0]
        readings.append(
            {
                "service": service.names,
                "serial": meter.serial,
                "labels": service.aliases or [service.code],
                "value": plain(reading.value) if reading else "",
                "period": reading.period.strftime("%Y-%m") if reading else "",
                "status": str(reading.status) if reading else "",
            }
        )
    return {"account": account.number, "readings": readings}


async def why_changed(*, db_session: AsyncSession, account: Account) -> Answer:
    """Compares the last bill with the one before, service by service, and says why each
    amount moved: the tariff, the volume, how it was charged, or a recalculation."""
    periods = list(
        await db_session.scalars(
            select(Charge.period)
            .where(Charge.account_id == account.id)
            .group_by(Charge.period)
            .order_by(Charge.period.desc())
            .limit(2)
        )
    )
    services = await _services(db_session)
    changes: list[dict[str, Any]] = []
    if len(periods) == 2:
        now_period, before_period = periods
        by_period: dict[Any, dict[int, Charge]] = {now_period: {}, before_period: {}}
        for charge in await db_session.scalars(
            select(Charge).where(Charge.account_id == account.id, Charge.period.in_(periods))
        ):
            by_period[charge.period][charge.service_id] = charge
        recalculated: dict[tuple[Any, int], Decimal] = defaultdict(lambda: calc.ZERO)
        for period, service_id, amount in await db_session.execute(
            select(Recalculation.period, Recalculation.service_id, Recalculation.amount).where(
                Recalculation.account_id == account.id, Recalculation.period.in_(periods)
            )
        ):
            recalculated[(period, service_id)] += amount
        for service_id in sorted(set(by_period[now_period]) | set(by_period[before_period])):
            after = by_period[now_period].get(service_id)
            before = by_period[before_period].get(service_id)
            after_total = (after.amount if after else calc.ZERO) + recalculated[
                (now_period, service_id)
            ]
            before_total = (before.amount if before else calc.ZERO) + recalculated[
                (before_period, service_id)
            ]
            if after_total == before_total:
                continue
            changes.append(
                {
                    "service": services[service_id][0].names,
                    "before": str(before_total),
                    "after": str(after_total),
                    "reasons": _reasons(before, after, recalculated[(now_period, service_id)]),
                    "basis": after.basis if after else "",
                }
            )
    return {
        "account": account.number,
        "period": periods[0].strftime("%Y-%m") if periods else "",
        "previous": periods[1].strftime("%Y-%m") if len(periods) == 2 else "",
        "changes": changes,
    }


def _reasons(before: Charge | None, after: Charge | None, recalculation: Decimal) -> list[str]:
    """Returns message ids naming what changed between two charges of one service."""
    if before is None:
        return ["why:new_service"]
    if after is None:
        return ["why:service_ended"]
    reasons = []
    if after.tariff != before.tariff:
        reasons.append("why:tariff")
    if after.basis != before.basis:
        reasons.append(f"why:basis:{after.basis}")
    elif after.quantity != before.quantity:
        reasons.append("why:volume")
    if recalculation:
        reasons.append("why:recalculation")
    return reasons
