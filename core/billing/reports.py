"""Reports per supplier and period, and the debtor list, with CSV export."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import calc
from core.billing.models import (
    BillingService,
    Charge,
    Payment,
    PaymentAllocation,
    Recalculation,
    Supplier,
)
from core.billing.service import month_start, months_before
from core.territory.models import Account


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


def to_csv(rows: Sequence[SupplierLine] | Sequence[DebtorLine], row_type: type) -> str:
    """Returns rows of a report dataclass as CSV with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([f.name for f in fields(row_type)])
    writer.writerows(_plain(astuple(row)) for row in rows)
    return buffer.getvalue()


def _plain(values: Iterable[object]) -> list[str]:
    return [str(value) for value in values]
