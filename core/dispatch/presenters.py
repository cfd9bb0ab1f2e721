"""Turning cases into API bodies: codes for ids, the caller's next actions, the history."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import Role
from core.auth.service import Principal
from core.dispatch import duplicates, photos
from core.dispatch.enums import Stage
from core.dispatch.models import Case, CaseCategory, CasePhoto, Extension, TimeLimit
from core.dispatch.schemas import (
    CaseDetail,
    CaseOut,
    CasePage,
    CategoryOut,
    EventOut,
    ExtensionOut,
    PhotoOut,
    SuggestionOut,
)
from core.dispatch.workflow import actions_for
from core.routing.models import Category, Department
from core.territory.models import District, GridCell
from core.tickets import service as tickets_service
from core.tickets.models import Ticket
from core.tickets.numbers import format_public_number


async def _codes(db_session: AsyncSession, model: type, ids: set[int | None]) -> dict[int, str]:
    ids.discard(None)
    if not ids:
        return {}
    rows = await db_session.execute(
        select(model.id, model.code).where(model.id.in_(ids))  # type: ignore[attr-defined]
    )
    return {int(r[0]): str(r[1]) for r in rows}


async def case_page(
    db_session: AsyncSession, rows: list[tuple[Ticket, Case]], total: int, principal: Principal
) -> CasePage:
    """Returns a page of cases with every code looked up in one query per table."""
    lookups = await _lookups(db_session, [ticket for ticket, _case in rows])
    return CasePage(
        items=[_case_out(ticket, case, lookups, principal.role) for ticket, case in rows],
        total=total,
    )


async def _lookups(db_session: AsyncSession, tickets: list[Ticket]) -> dict[str, dict[int, str]]:
    return {
        "category": await _codes(db_session, Category, {t.category_id for t in tickets}),
        "department": await _codes(db_session, Department, {t.department_id for t in tickets}),
        "grid": await _codes(db_session, GridCell, {t.grid_cell_id for t in tickets}),
        "district": await _codes(db_session, District, {t.district_id for t in tickets}),
    }


def _case_out(
    ticket: Ticket, case: Case, lookups: dict[str, dict[int, str]], role: Role
) -> CaseOut:
    return CaseOut(
        number=ticket.public_number,
        stage=Stage(case.stage),
        status=str(ticket.status),
        category=lookups["category"].get(ticket.category_id or 0),
        urgency=case.urgency,
        summary=ticket.summary,
        channel=ticket.channel,
        address=ticket.address,
        latitude=ticket.latitude,
        longitude=ticket.longitude,
        grid_cell=lookups["grid"].get(ticket.grid_cell_id or 0),
        district=lookups["district"].get(ticket.district_id or 0),
        department=lookups["department"].get(ticket.department_id or 0),
        due_at=ticket.due_at,
        overdue=ticket.overdue,
        created_at=ticket.created_at,
        registered_at=case.registered_at,
        dispatched_at=case.dispatched_at,
        reported_at=case.reported_at,
        closed_at=case.closed_at,
        handled_on_time=case.handled_on_time,
        park_due_at=case.park_due_at,
        extensions=case.extensions,
        reworks=case.reworks,
        returns=case.returns,
        result_note=case.result_note,
        merged_into=format_public_number(case.merged_into_id) if case.merged_into_id else None,
        attributes=case.attributes or {},
        actions=[str(a) for a in actions_for(Stage(case.stage), role)],
    )


def photo_out(photo: CasePhoto, ticket: Ticket) -> PhotoOut:
    """Returns a photo's body; ``url`` is where staff fetch the stored picture."""
    url = (
        f"/api/v1/dispatch/cases/{ticket.public_number}/photos/{photo.id}"
        if photo.storage_key
        else None
    )
    return PhotoOut(
        id=photo.id,
        status=photo.status,
        source=photo.source,
        content_type=photo.content_type,
        size=photo.size,
        width=photo.width,
        height=photo.height,
        error=photo.error,
        url=url,
    )


async def case_detail(
    db_session: AsyncSession, ticket: Ticket, case: Case, principal: Principal
) -> CaseDetail:
    """Returns a case with its events, extension requests, duplicate suggestions, photos."""
    lookups = await _lookups(db_session, [ticket])
    base = _case_out(ticket, case, lookups, principal.role)
    events = await tickets_service.events(db_session=db_session, ticket_id=ticket.id)
    extensions = await db_session.scalars(
        select(Extension).where(Extension.ticket_id == ticket.id).order_by(Extension.id)
    )
    suggestions = await duplicates.list_for(db_session=db_session, ticket_id=ticket.id)
    details = (
        await db_session.scalar(
            select(CaseCategory).where(CaseCategory.category_id == ticket.category_id)
        )
        if ticket.category_id
        else None
    )
    return CaseDetail(
        **base.model_dump(),
        events=[
            EventOut(kind=e.kind, actor=e.actor, data=e.data, created_at=e.created_at)
            for e in events
        ],
        extension_requests=[
            ExtensionOut(
                id=x.id,
                level=x.level,
                amount=x.amount,
                unit=x.unit,
                reason=x.reason,
                status=x.status,
                requested_by=x.requested_by,
                requested_at=x.requested_at,
                decided_by=x.decided_by,
                decided_at=x.decided_at,
            )
            for x in extensions
        ],
        suggestions=[
            SuggestionOut(
                id=s.id, candidate=format_public_number(s.candidate_id), distance_m=s.distance_m
            )
            for s in suggestions
        ],
        photos=[
            photo_out(p, ticket)
            for p in await photos.list_photos(db_session=db_session, ticket_id=ticket.id)
        ],
        conditions=details.conditions if details else {},
    )


async def category_out(
    db_session: AsyncSession, category: Category, details: CaseCategory | None
) -> CategoryOut:
    """Returns a city-case category with its dispatch details and time limits."""
    limits = await db_session.scalars(select(TimeLimit).where(TimeLimit.category_id == category.id))
    return CategoryOut(
        code=category.code,
        names=category.names,
        family=details.family if details else None,
        major=details.major_code if details else None,
        minor=details.minor_code if details else None,
        group=details.group_names if details else {},
        conditions=details.conditions if details else {},
        limits={str(limit.urgency): [limit.limit, limit.unit] for limit in limits},
        attributes=details.attributes if details else [],
    )
