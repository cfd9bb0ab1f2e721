"""Reports per supplier and period, and the debtor list, with CSV export."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import calc
from core.billing.models import (
    BillingService,
    BuildingMeter,
    BuildingMeterReading,
    Charge,
    Payment,
    PaymentAllocation,
    Recalculation,
    Supplier,
)
from core.billing.service import month_start, months_before
from core.exports import CsvWriter
from core.territory.models import Account, Building, Premises


@dataclass(frozen=True)
class SupplierLine:
    supplier: str
    billed: Decimal
    recalculated: Decimal
    paid: Decimal
    debt: Decimal  # everything charged to date, less everything paid to date


async def _sum_by_supplier(
    db_session: AsyncSession, query: Select[int, Decimal]
) -> dict[int, Decimal]:
    return {sid: Decimal(total) for sid, total in (await db_session.execute(query)).all()}


async def supplier_report(*, db_session: AsyncSession, period: date) -> list[SupplierLine]:
    """Returns, per supplier, what was billed, recalculated and paid in a period, and the debt."""
    start = month_start(period)
    end = months_before(start, -1)
    supplier_of = BillingService.supplier_id

    def amounts(
        model: type[Charge] | type[Recalculation], *where: ColumnElement[bool]
    ) -> Select[int, Decimal]:
        return (
            select(supplier_of, func.sum(model.amount))
            .join(BillingService, BillingService.id == model.service_id)
            .where(*where)
            .group_by(supplier_of)
        )

    billed = await _sum_by_supplier(db_session, amounts(Charge, Charge.period == start))
    recalculated = await _sum_by_supplier(
        db_session, amounts(Recalculation, Recalculation.period == start)
    )
    owed_to_date: dict[int, Decimal] = defaultdict(lambda: calc.ZERO)
    for model in (Charge, Recalculation):
        for sid, total in (
            await _sum_by_supplier(db_session, amounts(model, model.period < end))
        ).items():
            owed_to_date[sid] += total

    def paid_query(*where: ColumnElement[bool]) -> Select[int, Decimal]:
        return (
            select(supplier_of, func.sum(PaymentAllocation.amount))
            .join(BillingService, BillingService.id == PaymentAllocation.service_id)
            .join(Payment, Payment.id == PaymentAllocation.payment_id)
            .where(*where)
            .group_by(supplier_of)
        )

    paid = await _sum_by_supplier(
        db_session, paid_query(Payment.paid_on >= start, Payment.paid_on < end)
    )
    paid_to_date = await _sum_by_supplier(db_session, paid_query(Payment.paid_on < end))
    suppliers = list(await db_session.scalars(select(Supplier).order_by(Supplier.code)))
    return [
        SupplierLine(
            supplier=s.code,
            billed=calc.money(billed.get(s.id, calc.ZERO)),
            recalculated=calc.money(recalculated.get(s.id, calc.ZERO)),
            paid=calc.money(paid.get(s.id, calc.ZERO)),
            debt=calc.money(owed_to_date[s.id] - paid_to_date.get(s.id, calc.ZERO)),
        )
        for s in suppliers
    ]


@dataclass(frozen=True)
class DebtorLine:
    account: str
    owed: Decimal


async def debtors(*, db_session: AsyncSession, min_owed: Decimal) -> list[DebtorLine]:
    """Returns accounts owing at least ``min_owed`` (advances do not offset other debts
    here: an advance is not a payment for a service until the next bill), most first."""
    owed: dict[int, Decimal] = defaultdict(lambda: calc.ZERO)
    for model in (Charge, Recalculation):
        for account_id, total in (
            await db_session.execute(
                select(model.account_id, func.sum(model.amount)).group_by(model.account_id)
            )
        ).all():
            owed[account_id] += Decimal(total)
    for account_id, total in (
        await db_session.execute(
            select(Payment.account_id, func.sum(PaymentAllocation.amount))
            .join(Payment, Payment.id == PaymentAllocation.payment_id)
            .where(PaymentAllocation.service_id.is_not(None))
            .group_by(Payment.account_id)
        )
    ).all():
        owed[account_id] -= Decimal(total)
    numbers = dict((await db_session.execute(select(Account.id, Account.number))).all())
    lines = [
        DebtorLine(numbers[aid], calc.money(amount))
        for aid, amount in owed.items()
        if amount >= min_owed and amount > 0
    ]
    return sorted(lines, key=lambda line: (-line.owed, line.account))


@dataclass(frozen=True)
class LossLine:
    building: str
    service: str
    supplied: Decimal  # by the building's meter: this period's reading less the last one
    billed: Decimal  # the volumes charged to the building's accounts for the period
    loss: Decimal
    loss_percent: Decimal | None


async def building_losses(
    *, db_session: AsyncSession, period: date, building_ids: Sequence[int] | None = None
) -> list[LossLine]:
    """Returns, per building meter with readings for the period and the one before, what
    the supplier delivered against what was billed: the losses (or unbilled use)."""
    start = month_start(period)
    previous = months_before(start, 1)
    query = (
        select(BuildingMeter, Building.code, BillingService.code)
        .join(Building, Building.id == BuildingMeter.building_id)
        .join(BillingService, BillingService.id == BuildingMeter.service_id)
        .order_by(Building.code, BillingService.code)
    )
    if building_ids is not None:
        query = query.where(BuildingMeter.building_id.in_(building_ids))
    lines = []
    for meter, building_code, service_code in (await db_session.execute(query)).all():
        values = dict(
            (
                await db_session.execute(
                    select(BuildingMeterReading.period, BuildingMeterReading.value).where(
                        BuildingMeterReading.meter_id == meter.id,
                        BuildingMeterReading.period.in_([start, previous]),
                    )
                )
            ).all()
        )
        if start not in values or previous not in values:
            continue
        supplied = values[start] - values[previous]
        billed = Decimal(
            await db_session.scalar(
                select(func.coalesce(func.sum(Charge.quantity), 0))
                .join(Account, Account.id == Charge.account_id)
                .join(Premises, Premises.id == Account.premises_id)
                .where(
                    Premises.building_id == meter.building_id,
                    Charge.service_id == meter.service_id,
                    Charge.period == start,
                )
            )
            or 0
        )
        loss = supplied - billed
        percent = (loss * 100 / supplied).quantize(Decimal("0.1")) if supplied else None
        lines.append(LossLine(building_code, service_code, supplied, billed, loss, percent))
    return lines


def to_csv(
    rows: Sequence[SupplierLine] | Sequence[DebtorLine] | Sequence[LossLine], row_type: type
) -> str:
    """Returns rows of a report dataclass as CSV with a header row."""
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    writer.writerow([f.name for f in fields(row_type)])
    writer.writerows(astuple(row) for row in rows)  # None becomes ""
    return buffer.getvalue()
