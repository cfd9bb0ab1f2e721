"""Reading the complaints back office: the registers, who serves an estate on a day, which
complaints a caller may see, and the deadlines they run against."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import Role, ScopeKind
from core.auth.service import Principal
from core.complaints.enums import Stage
from core.complaints.models import (
    Complaint,
    Manager,
    PropertyCompany,
    RectificationOrder,
    ScoreEvent,
    ServiceContract,
)
from core.config import Settings
from core.routing.service import RoutingTable
from core.sla.calendar import LimitUnit, WorkingCalendar
from core.territory.models import Estate
from core.tickets.models import Ticket
from core.tickets.numbers import parse_public_number
from core.tickets.service import Scope

# The housing authority: it triages, inspects, orders rectification and decides appeals.
# Department staff read complaints in their scope (the routing rule's department), but
# inspecting, ordering and scoring are the inspectors' and supervisors' to do.
AUTHORITY_ROLES = (Role.INSPECTOR, Role.SUPERVISOR, Role.ADMIN)
# Who may see complaints at all: the authority, the call centre, and the companies.
READ_ROLES = (*AUTHORITY_ROLES, Role.DEPARTMENT, Role.AGENT, Role.DISPATCHER, Role.COMPANY)


# Who acts when nobody does: the sweep's deadlines, intake's routing. And the resident
# replying by SMS: the verdict step only checks that a company is not giving it.
SYSTEM = Principal("system", Role.ADMIN, Scope(ScopeKind.CITY))
RESIDENT = Principal("resident", Role.AGENT, Scope(ScopeKind.CITY))


class ComplaintNotFound(LookupError):
    """No complaint (or order, or event) by that reference inside the caller's scope."""


class NotAllowed(PermissionError):
    """The caller's role may not take this step."""


class IllegalStep(ValueError):
    """The step does not fit where the complaint is, or its input is refused (409)."""


@dataclass(frozen=True)
class Context:
    """Who acts, when, and with which calendar and settings."""

    principal: Principal
    routing: RoutingTable
    settings: Settings
    now: datetime

    @property
    def actor(self) -> str:
        return self.principal.actor

    @property
    def today(self) -> date:
        return local_day(self.settings, self.now)


def local_day(settings: Settings, moment: datetime) -> date:
    """Returns the city's date at ``moment``: contracts start and end on local days."""
    return moment.astimezone(ZoneInfo(settings.timezone)).date()


def calendar_of(routing: RoutingTable) -> WorkingCalendar | None:
    """Returns the city's working calendar (the first one defined), or None."""
    if not routing.calendars:
        return None
    return routing.calendars[min(routing.calendars)]


def working_days_after(routing: RoutingTable, start: datetime, days: int) -> datetime:
    """Returns ``days`` working days after ``start``; calendar days if none is defined."""
    calendar = calendar_of(routing)
    if calendar is None:
        return start + timedelta(days=days)
    return calendar.due_at(start, days, LimitUnit.WORKING_DAYS)


def company_of(principal: Principal) -> int | None:
    """Returns the company a company user speaks for, or None for anyone else."""
    if principal.role is Role.COMPANY and principal.scope.kind is ScopeKind.COMPANY:
        return principal.scope.id
    return None


def may_see(principal: Principal, ticket: Ticket, complaint: Complaint) -> bool:
    """Whether the caller may see this complaint: a company only its own, staff by scope."""
    if principal.role not in READ_ROLES:
        return False
    if principal.role is Role.COMPANY:
        company = company_of(principal)
        return company is not None and complaint.company_id == company
    return principal.scope.allows(ticket)


def visible(principal: Principal, query: Any) -> Any:
    """Restricts a select over Ticket ⋈ Complaint to what the caller may see."""
    if principal.role not in READ_ROLES:
        return query.where(Ticket.id.is_(None))
    if principal.role is Role.COMPANY:
        return query.where(Complaint.company_id == (company_of(principal) or -1))
    return principal.scope.apply(query)


async def get_in_scope(
    *, db_session: AsyncSession, principal: Principal, number: str, lock: bool = False
) -> tuple[Ticket, Complaint]:
    """Returns the complaint a public number names if the caller may see it.

    ``lock`` takes the rows FOR UPDATE so two people acting at once are serialised.
    """
    ticket_id = parse_public_number(number)
    if ticket_id is None:
        raise ComplaintNotFound(f"no complaint {number}")
    query = select(Ticket, Complaint).join(Complaint, Complaint.ticket_id == Ticket.id)
    query = query.where(Ticket.id == ticket_id)
    if lock:
        query = query.with_for_update()
    row = (await db_session.execute(query)).first()
    # Outside the scope looks exactly like "no such complaint": existence is data too.
    if row is None or not may_see(principal, row[0], row[1]):
        raise ComplaintNotFound(f"no complaint {number}")
    return row[0], row[1]


@dataclass(frozen=True)
class ComplaintFilters:
    stage: Stage | None = None
    company_id: int | None = None
    estate_id: int | None = None
    overdue: bool | None = None
    limit: int = 50
    offset: int = 0


async def list_complaints(
    *, db_session: AsyncSession, principal: Principal, filters: ComplaintFilters
) -> tuple[list[tuple[Ticket, Complaint]], int]:
    """Returns one page of the complaints the caller may see (oldest deadline first)."""
    query: Any = select(Ticket, Complaint).join(Complaint, Complaint.ticket_id == Ticket.id)
    query = visible(principal, query)
    if filters.stage is not None:
        query = query.where(Complaint.stage == filters.stage)
    if filters.company_id is not None:
        query = query.where(Complaint.company_id == filters.company_id)
    if filters.estate_id is not None:
        query = query.where(Complaint.estate_id == filters.estate_id)
    if filters.overdue is not None:
        query = query.where(Ticket.overdue.is_(filters.overdue))
    total = await db_session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await db_session.execute(
        query.order_by(Ticket.due_at.is_(None), Ticket.due_at, Ticket.id)
        .limit(filters.limit)
        .offset(filters.offset)
    )
    return [(row[0], row[1]) for row in rows], int(total or 0)


def _current(on: date) -> Any:
    return and_(
        ServiceContract.starts_on <= on,
        or_(ServiceContract.ends_on.is_(None), ServiceContract.ends_on >= on),
    )


async def contract_on(
    *, db_session: AsyncSession, estate_id: int, on: date
) -> ServiceContract | None:
    """Returns the contract under which a company serves the estate on ``on``, or None.

    Contracts of one estate never overlap (the import refuses it); an ended one does not
    count, so the estate is nobody's until a new contract starts.
    """
    return await db_session.scalar(
        select(ServiceContract)
        .where(ServiceContract.estate_id == estate_id, _current(on))
        .order_by(ServiceContract.starts_on.desc())
        .limit(1)
    )


async def contracts_on(
    *, db_session: AsyncSession, estate_ids: Sequence[int], on: date
) -> dict[int, ServiceContract]:
    """Returns the contract serving each of these estates on ``on`` (one query)."""
    if not estate_ids:
        return {}
    found: dict[int, ServiceContract] = {}
    for contract in await db_session.scalars(
        select(ServiceContract)
        .where(ServiceContract.estate_id.in_(estate_ids), _current(on))
        .order_by(ServiceContract.estate_id, ServiceContract.starts_on.desc())
    ):
        found.setdefault(contract.estate_id, contract)
    return found


async def managed_area(*, db_session: AsyncSession, company_id: int, on: date) -> Decimal:
    """Returns the floor area (m²) of the estates a company serves on ``on``."""
    area = await db_session.scalar(
        select(func.coalesce(func.sum(Estate.area), 0))
        .join(ServiceContract, ServiceContract.estate_id == Estate.id)
        .where(ServiceContract.company_id == company_id, _current(on))
    )
    return Decimal(area or 0)


@dataclass(frozen=True)
class ManagerConflict:
    certificate_number: str
    full_name: str
    company_codes: list[str]


async def manager_conflicts(*, db_session: AsyncSession, on: date) -> list[ManagerConflict]:
    """Returns people listed as current manager of more than one company on ``on``."""
    current = and_(
        Manager.appointed_on <= on, or_(Manager.left_on.is_(None), Manager.left_on >= on)
    )
    rows = await db_session.execute(
        select(Manager.certificate_number, Manager.full_name, PropertyCompany.code)
        .join(PropertyCompany, PropertyCompany.id == Manager.company_id)
        .where(current, PropertyCompany.active.is_(True))
        .order_by(Manager.certificate_number, PropertyCompany.code)
    )
    found: dict[str, ManagerConflict] = {}
    for certificate, name, company in rows:
        entry = found.setdefault(certificate, ManagerConflict(certificate, name, []))
        if company not in entry.company_codes:
            entry.company_codes.append(company)
    return [entry for entry in found.values() if len(entry.company_codes) > 1]


async def company_by_code(*, db_session: AsyncSession, code: str) -> PropertyCompany:
    company = await db_session.scalar(select(PropertyCompany).where(PropertyCompany.code == code))
    if company is None:
        raise ComplaintNotFound(f"no company {code!r}")
    return company


async def estate_by_code(*, db_session: AsyncSession, code: str) -> Estate:
    estate = await db_session.scalar(select(Estate).where(Estate.code == code))
    if estate is None:
        raise ComplaintNotFound(f"no estate {code!r}")
    return estate


async def orders_for(
    *,
    db_session: AsyncSession,
    principal: Principal,
    status: str | None = None,
    company_id: int | None = None,
    overdue: bool | None = None,
    limit: int = 100,
) -> list[RectificationOrder]:
    """Rectification orders the caller may see (a company its own, the authority all),
    the nearest due first."""
    query = select(RectificationOrder).order_by(RectificationOrder.due_at)
    if principal.role not in AUTHORITY_ROLES:
        query = query.where(RectificationOrder.company_id == (company_of(principal) or -1))
    if status is not None:
        query = query.where(RectificationOrder.status == status)
    if company_id is not None:
        query = query.where(RectificationOrder.company_id == company_id)
    if overdue is not None:
        query = query.where(RectificationOrder.overdue.is_(overdue))
    return list(await db_session.scalars(query.limit(limit)))


async def score_events_for(
    *,
    db_session: AsyncSession,
    principal: Principal,
    company_code: str | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[ScoreEvent]:
    """Integrity events the caller may see, newest first (a company sees its own)."""
    query = select(ScoreEvent).order_by(ScoreEvent.id.desc())
    if principal.role not in AUTHORITY_ROLES:
        query = query.where(ScoreEvent.company_id == (company_of(principal) or -1))
    if company_code is not None:
        query = query.join(PropertyCompany, PropertyCompany.id == ScoreEvent.company_id).where(
            PropertyCompany.code == company_code
        )
    if status is not None:
        query = query.where(ScoreEvent.status == status)
    return list(await db_session.scalars(query.limit(limit)))
