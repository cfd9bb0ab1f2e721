"""Recalculations of a period's charges: quality acts for a building, absences for a flat."""

from __future__ import annotations

from calendar import monthrange
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import calc
from core.billing.models import BillingService, Charge, Meter, Recalculation
from core.billing.service import month_start
from core.db import utcnow
from core.territory.models import Account, Premises


class RecalculationRejected(ValueError):
    """A recalculation the rules do not allow; the reason is for the operator."""


async def _service(db_session: AsyncSession, code: str) -> BillingService:
    service = await db_session.scalar(select(BillingService).where(BillingService.code == code))
    if service is None:
        raise RecalculationRejected(f"unknown service {code!r}")
    return service


async def _upsert(db_session: AsyncSession, values: dict[str, object]) -> None:
    dialect = postgresql if db_session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Recalculation).values(**values, created_at=utcnow())
    # Recording the same act again replaces it: an act corrected is not an act doubled.
    await db_session.execute(
        statement.on_conflict_do_update(
            index_elements=["account_id", "service_id", "period", "kind"],
            set_={
                "hours": values.get("hours"),
                "days": values.get("days"),
                "amount": values["amount"],
            },
        )
    )


async def record_quality_act(
    *,
    db_session: AsyncSession,
    building_id: int,
    service_code: str,
    period: date,
    hours: Decimal,
    rounding: str = calc.ROUND_HALF_UP,
) -> int:
    """Reduces the period's fee of every account in the building for interruptions beyond
    the service's allowed hours; returns how many accounts the act changed."""
    if hours < 0:
        raise RecalculationRejected("hours cannot be negative")
    period = month_start(period)
    service = await _service(db_session, service_code)
    charges = (
        await db_session.execute(
            select(Charge.account_id, Charge.amount)
            .join(Account, Account.id == Charge.account_id)
            .join(Premises, Premises.id == Account.premises_id)
            .where(
                Premises.building_id == building_id,
                Charge.service_id == service.id,
                Charge.period == period,
            )
        )
    ).all()
    if not charges:
        raise RecalculationRejected("no charges for this service, building and period yet")
    for account_id, fee in charges:
        reduction = calc.quality_reduction(
            fee=fee,
            hours_interrupted=hours,
            hours_allowed=service.allowed_interruption_hours,
            rounding=rounding,
        )
        await _upsert(
            db_session,
            {
                "account_id": account_id,
                "service_id": service.id,
                "period": period,
                "kind": "quality",
                "hours": hours,
                "days": None,
                "amount": -reduction,
            },
        )
    return len(charges)


async def record_absence(
    *,
    db_session: AsyncSession,
    account_number: str,
    service_code: str,
    period: date,
    days_absent: int,
    rounding: str = calc.ROUND_HALF_UP,
) -> Decimal:
    """Recalculates a service for days away, where no meter measures it; returns the amount."""
    period = month_start(period)
    service = await _service(db_session, service_code)
    account_id = await db_session.scalar(select(Account.id).where(Account.number == account_number))
    if account_id is None:
        raise RecalculationRejected(f"unknown account {account_number!r}")
    if await db_session.scalar(
        select(Meter.id).where(
            Meter.account_id == account_id, Meter.service_id == service.id, Meter.active.is_(True)
        )
    ):
        raise RecalculationRejected("a meter measures this service: absence changes nothing")
    fee = await db_session.scalar(
        select(Charge.amount).where(
            Charge.account_id == account_id,
            Charge.service_id == service.id,
            Charge.period == period,
        )
    )
    if fee is None:
        raise RecalculationRejected("no charge for this service and period yet")
    try:
        reduction = calc.absence_reduction(
            fee=fee,
            days_absent=days_absent,
            days_in_period=monthrange(period.year, period.month)[1],
            rounding=rounding,
        )
    except ValueError as exc:
        raise RecalculationRejected(str(exc)) from exc
    await _upsert(
        db_session,
        {
            "account_id": account_id,
            "service_id": service.id,
            "period": period,
            "kind": "absence",
            "hours": None,
            "days": days_absent,
            "amount": -reduction,
        },
    )
    return -reduction
