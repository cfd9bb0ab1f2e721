"""Cases: reading them, where they are, who answers for them, and how long they may take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy import case as when
from sqlalchemy.ext.asyncio import AsyncSession

from core.dispatch.enums import Stage, Urgency
from core.dispatch.grid import CellHit, grid_index
from core.dispatch.models import Case, CaseCategory, Responsibility, TimeLimit
from core.routing.models import Category
from core.routing.service import RoutingTable
from core.sla.calendar import WorkingCalendar
from core.tickets.enums import TicketKind
from core.tickets.models import Ticket
from core.tickets.numbers import parse_public_number
from core.tickets.service import Scope


class CaseNotFound(LookupError):
    """No case by that number inside the caller's scope."""


# Typed loosely: Scope.apply takes single-entity selects, this one has two.
_CASES: Any = select(Ticket, Case).join(Case, Case.ticket_id == Ticket.id)


@dataclass(frozen=True)
class Limit:
    limit: int
    unit: str


async def get(*, db_session: AsyncSession, ticket_id: int) -> tuple[Ticket, Case] | None:
    """Returns a case and its ticket based on the given ticket id."""
    row = (
        await db_session.execute(
            select(Ticket, Case)
            .join(Case, Case.ticket_id == Ticket.id)
            .where(Ticket.id == ticket_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def get_in_scope(
    *, db_session: AsyncSession, number: str, scope: Scope, lock: bool = False
) -> tuple[Ticket, Case]:
    """Returns the case a public number names, if the scope may see it (else CaseNotFound).

    ``lock``: take the rows FOR UPDATE, so two people acting on one case at once are
    serialised instead of both moving it from the same stage.
    """
    ticket_id = parse_public_number(number)
    if ticket_id is None:
        raise CaseNotFound(f"no case {number}")
    query = _CASES.where(Ticket.id == ticket_id)
    if lock:
        query = query.with_for_update()
    row = (await db_session.execute(query)).first()
    # Outside the scope looks exactly like "no such case": existence is data too.
    if row is None or not scope.allows(row[0]):
        raise CaseNotFound(f"no case {number}")
    return row[0], row[1]


@dataclass(frozen=True)
class CaseFilters:
    stage: Stage | None = None
    department_id: int | None = None
    category_id: int | None = None
    overdue: bool | None = None
    open_only: bool = False


async def list_cases(
    *, db_session: AsyncSession, scope: Scope, filters: CaseFilters, limit: int, offset: int
) -> tuple[list[tuple[Ticket, Case]], int]:
    """Returns one page of cases in the scope, most urgent due time first, and the total."""
    query: Select[Any] = scope.apply(_CASES)
    if filters.stage is not None:
        query = query.where(Case.stage == filters.stage)
    if filters.department_id is not None:
        query = query.where(Ticket.department_id == filters.department_id)
    if filters.category_id is not None:
        query = query.where(Ticket.category_id == filters.category_id)
    if filters.overdue is not None:
        query = query.where(Ticket.overdue.is_(filters.overdue))
    if filters.open_only:
        query = query.where(Case.stage.not_in([Stage.CLOSED, Stage.CANCELLED, Stage.MERGED]))
    total = await db_session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await db_session.execute(
        query.order_by(Ticket.due_at.is_(None), Ticket.due_at, Ticket.id)
        .limit(limit)
        .offset(offset)
    )
    return [(r[0], r[1]) for r in rows], int(total or 0)


async def locate(
    *, db_session: AsyncSession, latitude: float, longitude: float, max_age: float
) -> CellHit | None:
    """Returns the unit grid cell containing a point, or None outside the grid."""
    index = await grid_index(db_session=db_session, max_age=max_age)
    return index.locate(latitude, longitude)


async def responsible_department(
    *,
    db_session: AsyncSession,
    category_id: int | None,
    district_id: int | None,
    community_id: int | None,
    grid_cell_id: int | None,
) -> int | None:
    """Returns the department that answers for a category at a place, or None.

    The most specific responsibility wins: for the category over for any category, then
    the grid cell over the community over the district over the whole city.
    """

    def matches(column: Any, value: int | None) -> Any:
        return or_(column.is_(None), column == value) if value is not None else column.is_(None)

    specificity: Any = sum(
        when((column.is_not(None), weight), else_=0)
        for column, weight in (
            (Responsibility.category_id, 8),
            (Responsibility.grid_cell_id, 4),
            (Responsibility.community_id, 2),
            (Responsibility.district_id, 1),
        )
    )
    found = await db_session.scalar(
        select(Responsibility.department_id)
        .where(
            and_(
                matches(Responsibility.category_id, category_id),
                matches(Responsibility.district_id, district_id),
                matches(Responsibility.community_id, community_id),
                matches(Responsibility.grid_cell_id, grid_cell_id),
            )
        )
        .order_by(specificity.desc(), Responsibility.id)
        .limit(1)
    )
    return int(found) if found is not None else None


async def time_limit(
    *,
    db_session: AsyncSession,
    routing: RoutingTable,
    category_id: int | None,
    urgency: Urgency,
    district_id: int | None,
    community_id: int | None,
) -> Limit | None:
    """Returns how long a department has: the category's limit for the urgency, else its
    normal limit, else the SLA policy its routing rule names; None when nothing says."""
    if category_id is not None:
        limits = {
            row.urgency: Limit(row.limit, row.unit)
            for row in await db_session.scalars(
                select(TimeLimit).where(TimeLimit.category_id == category_id)
            )
        }
        found = limits.get(urgency) or limits.get(Urgency.NORMAL)
        if found is not None:
            return found
    route = routing.match(
        kind=TicketKind.CITY_CASE,
        category_id=category_id,
        district_id=district_id,
        community_id=community_id,
    )
    policy = routing.policies.get(route.sla_policy_id or -1)
    return Limit(policy.resolution_limit, policy.unit) if policy is not None else None


def calendar_for(routing: RoutingTable, category_id: int | None) -> WorkingCalendar:
    """Returns the working calendar a case's clock runs on.

    The calendar of the SLA policy the category routes to, else the first calendar: a
    city has one production calendar, so this is nearly always the same one.
    """
    route = routing.match(
        kind=TicketKind.CITY_CASE, category_id=category_id, district_id=None, community_id=None
    )
    policy = routing.policies.get(route.sla_policy_id or -1)
    if policy is not None and policy.calendar_id in routing.calendars:
        return routing.calendars[policy.calendar_id]
    if not routing.calendars:
        from core.dispatch.workflow import IllegalAction

        raise IllegalAction("no working calendar is defined: import one before dispatching")
    return routing.calendars[min(routing.calendars)]


async def dispatch_categories(
    *, db_session: AsyncSession
) -> list[tuple[Category, CaseCategory | None]]:
    """Returns the active city-case categories with their dispatch details (may be None)."""
    rows = await db_session.execute(
        select(Category, CaseCategory)
        .outerjoin(CaseCategory, CaseCategory.category_id == Category.id)
        .where(Category.kind == TicketKind.CITY_CASE, Category.active.is_(True))
        .order_by(
            CaseCategory.family, CaseCategory.major_code, CaseCategory.minor_code, Category.code
        )
    )
    return [(r[0], r[1]) for r in rows]
