"""Which accounts and readings a staff member may reach: the settlement centre's own staff
(the department with code ``billing``) and city-wide roles everywhere, district and
community staff in their territory. Outside it looks the same as absent: account numbers
are not enumerable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import ScopeKind
from core.auth.service import Principal
from core.billing.enums import ReadingStatus
from core.billing.models import BillingService, Meter, MeterReading
from core.routing.models import Department
from core.territory.models import Account, Building, Community, Premises


class AccountNotFound(LookupError):
    """No such account (or reading) inside the caller's territory."""


async def _building_district(db_session: AsyncSession, building_id: int) -> tuple[int, int]:
    row = (
        await db_session.execute(
            select(Community.id, Community.district_id)
            .join(Building, Building.community_id == Community.id)
            .where(Building.id == building_id)
        )
    ).one()
    return row[0], row[1]


async def in_scope(db_session: AsyncSession, principal: Principal, building_id: int) -> bool:
    """Returns whether a building's accounts lie inside the caller's territory."""
    scope = principal.scope
    if scope.kind is ScopeKind.CITY:
        return True
    if scope.kind is ScopeKind.DEPARTMENT:
        code = await db_session.scalar(select(Department.code).where(Department.id == scope.id))
        return code == "billing"
    community_id, district_id = await _building_district(db_session, building_id)
    if scope.kind is ScopeKind.DISTRICT:
        return district_id == scope.id
    if scope.kind is ScopeKind.COMMUNITY:
        return community_id == scope.id
    return False


async def account_in_scope(
    *, db_session: AsyncSession, principal: Principal, number: str
) -> Account:
    """Returns the account if it exists inside the caller's territory; else AccountNotFound."""
    row = (
        await db_session.execute(
            select(Account, Premises.building_id)
            .join(Premises, Premises.id == Account.premises_id)
            .where(Account.number == number)
        )
    ).first()
    if row is None or not await in_scope(db_session, principal, row[1]):
        raise AccountNotFound("no such account")
    return row[0]


async def scope_condition(db_session: AsyncSession, principal: Principal) -> ColumnElement[bool]:
    """Returns a SQL condition on Building (joined to Community) for the caller's scope."""
    scope = principal.scope
    if scope.kind is ScopeKind.CITY:
        return true()
    if scope.kind is ScopeKind.DEPARTMENT:
        code = await db_session.scalar(select(Department.code).where(Department.id == scope.id))
        return true() if code == "billing" else false()
    if scope.kind is ScopeKind.DISTRICT:
        return Community.district_id == scope.id
    if scope.kind is ScopeKind.COMMUNITY:
        return Building.community_id == scope.id
    return false()


@dataclass(frozen=True)
class HeldReading:
    id: int
    account: str
    serial: str
    service: str
    period: date
    value: Decimal
    status: str
    reason: str | None
    channel: str


async def readings_for_review(
    *, db_session: AsyncSession, principal: Principal, limit: int
) -> list[HeldReading]:
    """Returns readings held for review (far above the usual) in the caller's territory."""
    rows = await db_session.execute(
        select(MeterReading, Meter.serial, BillingService.code, Account.number)
        .join(Meter, Meter.id == MeterReading.meter_id)
        .join(BillingService, BillingService.id == Meter.service_id)
        .join(Account, Account.id == Meter.account_id)
        .join(Premises, Premises.id == Account.premises_id)
        .join(Building, Building.id == Premises.building_id)
        .join(Community, Community.id == Building.community_id)
        .where(
            MeterReading.status == ReadingStatus.REVIEW,
            await scope_condition(db_session, principal),
        )
        .order_by(MeterReading.id)
        .limit(limit)
    )
    return [
        HeldReading(
            id=reading.id,
            account=number,
            serial=serial,
            service=service,
            period=reading.period,
            value=reading.value,
            status=str(reading.status),
            reason=reading.reason,
            channel=reading.channel,
        )
        for reading, serial, service, number in rows.all()
    ]


async def reading_in_scope(
    *, db_session: AsyncSession, principal: Principal, reading_id: int
) -> None:
    """Raises AccountNotFound unless the reading's account lies in the caller's territory."""
    building_id = await db_session.scalar(
        select(Premises.building_id)
        .join(Account, Account.premises_id == Premises.id)
        .join(Meter, Meter.account_id == Account.id)
        .join(MeterReading, MeterReading.meter_id == Meter.id)
        .where(MeterReading.id == reading_id)
    )
    if building_id is None or not await in_scope(db_session, principal, building_id):
        raise AccountNotFound("no such reading")
