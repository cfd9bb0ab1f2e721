"""Payments on an account: recorded once, split across the services it owes for."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import calc
from core.billing.models import (
    BillingService,
    Charge,
    Payment,
    PaymentAllocation,
    Recalculation,
)
from core.importing.service import UnreadableFile, csv_header, read_csv
from core.territory.models import Account

STATEMENT_COLUMNS = ("external_id", "account", "paid_on", "amount")
MAX_AMOUNT = Decimal(10) ** 9


class PaymentRejected(ValueError):
    """A payment that cannot be recorded; the reason is for the operator."""


class IdempotencyKeyReused(PaymentRejected):
    """The Idempotency-Key was first used for a different payment request."""

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used for a different payment")


async def outstanding(
    *, db_session: AsyncSession, account_id: int, clamp: bool = True
) -> dict[int, Decimal]:
    """Returns what the account still owes per service (charged and recalculated, less
    what was allocated); not below 0 unless ``clamp`` is off (a credit shows negative)."""
    charged: dict[int, Decimal] = defaultdict(lambda: calc.ZERO)
    for model in (Charge, Recalculation):
        for service_id, total in (
            await db_session.execute(
                select(model.service_id, func.sum(model.amount))
                .where(model.account_id == account_id)
                .group_by(model.service_id)
            )
        ).all():
            charged[service_id] += Decimal(total)
    paid = dict(
        (
            await db_session.execute(
                select(PaymentAllocation.service_id, func.sum(PaymentAllocation.amount))
                .join(Payment, Payment.id == PaymentAllocation.payment_id)
                .where(Payment.account_id == account_id, PaymentAllocation.service_id.is_not(None))
                .group_by(PaymentAllocation.service_id)
            )
        ).all()
    )
    floor = calc.ZERO if clamp else None
    return {
        service_id: _at_least(calc.money(Decimal(total) - Decimal(paid.get(service_id, 0))), floor)
        for service_id, total in charged.items()
    }


def _at_least(value: Decimal, floor: Decimal | None) -> Decimal:
    return value if floor is None else max(floor, value)


async def get_by_idempotency_key(
    *, db_session: AsyncSession, idempotency_key: str, request_hash: str
) -> Payment | None:
    """Returns the payment first recorded under this key, if it was for the same request.

    Raises IdempotencyKeyReused if the key was first used for another request: answering
    with that payment would tell a client its new payment went through when it did not.
    """
    first = await db_session.scalar(
        select(Payment).where(Payment.idempotency_key == idempotency_key)
    )
    if first is not None and first.request_hash != request_hash:
        raise IdempotencyKeyReused
    return first


async def record_payment(
    *,
    db_session: AsyncSession,
    account_number: str,
    paid_on: date,
    amount: Decimal,
    source: str,
    external_id: str | None = None,
    chosen: dict[int, Decimal] | None = None,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> Payment | None:
    """Records a payment and its allocation; None if this external id was recorded before.

    Pro rata to what is owed per service unless the payer chose; beyond the debt, an
    advance (an allocation with no service). A retry under the same idempotency key (and
    request hash) returns the payment recorded the first time.
    """
    if idempotency_key is not None:
        first = await get_by_idempotency_key(
            db_session=db_session, idempotency_key=idempotency_key, request_hash=request_hash or ""
        )
        if first is not None:
            return first
    if external_id and await db_session.scalar(
        select(Payment.id).where(Payment.external_id == external_id)
    ):
        return None
    account_id = await db_session.scalar(select(Account.id).where(Account.number == account_number))
    if account_id is None:
        raise PaymentRejected(f"unknown account {account_number!r}")
    owed = await outstanding(db_session=db_session, account_id=account_id)
    try:
        split = calc.allocate_payment(
            amount=amount,
            billed={str(k): v for k, v in owed.items()},
            chosen={str(k): v for k, v in chosen.items()} if chosen else None,
        )
    except ValueError as exc:
        raise PaymentRejected(str(exc)) from exc
    payment = Payment(
        account_id=account_id,
        paid_on=paid_on,
        amount=calc.money(amount),
        source=source,
        external_id=external_id,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    db_session.add(payment)
    await db_session.flush()
    db_session.add_all(
        PaymentAllocation(payment_id=payment.id, service_id=int(service), amount=part)
        for service, part in split.by_service.items()
        if part
    )
    if split.advance:
        db_session.add(
            PaymentAllocation(payment_id=payment.id, service_id=None, amount=split.advance)
        )
    await db_session.flush()
    return payment


async def allocations(*, db_session: AsyncSession, payment_id: int) -> dict[str, Decimal]:
    """Returns how a payment was split, by service code ("" for the advance)."""
    rows = await db_session.execute(
        select(BillingService.code, PaymentAllocation.amount)
        .outerjoin(BillingService, BillingService.id == PaymentAllocation.service_id)
        .where(PaymentAllocation.payment_id == payment_id)
    )
    return {code or "": amount for code, amount in rows.all()}


@dataclass
class StatementReport:
    recorded: int = 0
    already_recorded: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


class StatementRejected(ValueError):
    def __init__(self, report: StatementReport) -> None:
        super().__init__(f"{len(report.rejected)} rows rejected")
        self.report = report


def _amount(text: str) -> Decimal:
    # Banks write 1 234,56 as often as 1234.56.
    cleaned = text.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise PaymentRejected(f"amount {text!r} is not a number") from exc
    # NaN, Infinity and 1e30 parse as Decimals; the column holds under 10¹⁰.
    if not value.is_finite() or value >= MAX_AMOUNT:
        raise PaymentRejected(f"amount {text!r} is not a plausible payment")
    if value <= 0 or value != value.quantize(calc.KOPECK):
        raise PaymentRejected(f"amount {text!r} must be positive, in kopecks")
    return value


async def import_statement(*, db_session: AsyncSession, text: str) -> StatementReport:
    """Imports a bank statement (CSV: external_id, account, paid_on, amount), all or nothing.

    Importing the same statement twice records nothing new.
    """
    report = StatementReport()
    try:
        header = csv_header(text)
    except UnreadableFile as exc:
        report.rejected.append((exc.line, str(exc)))
        raise StatementRejected(report) from None
    missing = [c for c in STATEMENT_COLUMNS if c not in header]
    if missing:
        report.rejected.append((1, f"missing columns: {', '.join(missing)}"))
        raise StatementRejected(report)
    reader = read_csv(text)
    seen: set[str] = set()
    rows = enumerate(reader, start=2)
    while True:
        try:
            line, row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:  # an unclosed quote swallowing the rest of the file
            report.rejected.append((reader.line_num, f"not valid CSV: {exc}"))
            break
        external_id = (row.get("external_id") or "").strip()
        try:
            if not external_id or len(external_id) > 64:
                raise PaymentRejected("external_id is required, at most 64 characters")
            if external_id in seen:
                raise PaymentRejected(f"external_id {external_id!r} twice in the file")
            seen.add(external_id)
            try:
                paid_on = date.fromisoformat((row.get("paid_on") or "").strip())
            except ValueError as exc:
                raise PaymentRejected("paid_on must be YYYY-MM-DD") from exc
            payment = await record_payment(
                db_session=db_session,
                account_number=(row.get("account") or "").strip(),
                paid_on=paid_on,
                amount=_amount(row.get("amount") or ""),
                source="bank",
                external_id=external_id,
            )
        except PaymentRejected as exc:
            report.rejected.append((line, str(exc)))
            continue
        if payment is None:
            report.already_recorded += 1
        else:
            report.recorded += 1
    if report.rejected:
        raise StatementRejected(report)
    return report
