"""Turning cases into API bodies: codes for ids, the caller's next actions, the history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
from core.i18n import pick_name
from core.routing.enums import BackOffice
from core.routing.models import Category, Department
from core.territory.models import District, GridCell
from core.tickets import service as tickets_service
from core.tickets.models import Ticket, TicketEvent
from core.tickets.numbers import format_public_number
from core.tickets.presenters import HistoryRow, department_ids, history_rows, names_for
from core.tickets.wording import stage_name

# id -> (code, names per language); a grid cell has a code only.
Named = dict[int, tuple[str, dict[str, str]]]


async def _named(db_session: AsyncSession, model: Any, ids: set[int | None]) -> Named:
    ids.discard(None)
    if not ids:
        return {}
    columns = [model.id, model.code] + ([model.names] if hasattr(model, "names") else [])
    rows = await db_session.execute(select(*columns).where(model.id.in_(ids)))
    return {int(r[0]): (str(r[1]), dict(r[2] or {}) if len(r) > 2 else {}) for r in rows}


async def case_page(
    db_session: AsyncSession, rows: list[tuple[Ticket, Case]], total: int, principal: Principal
) -> CasePage:
    """Returns a page of cases with every code looked up in one query per table."""
    lookups = await _lookups(db_session, [ticket for ticket, _case in rows])
    return CasePage(
        items=[_case_out(ticket, case, lookups, principal) for ticket, case in rows],
        total=total,
    )


async def _lookups(
    db_session: AsyncSession, tickets: list[Ticket], departments: set[int] | None = None
) -> dict[str, Named]:
    """Returns codes and names of what cases point at; ``departments`` adds those events name."""
    department_ids: set[int | None] = {t.department_id for t in tickets} | (departments or set())
    return {
        "category": await _named(db_session, Category, {t.category_id for t in tickets}),
        "department": await _named(db_session, Department, department_ids),
        "grid": await _named(db_session, GridCell, {t.grid_cell_id for t in tickets}),
        "district": await _named(db_session, District, {t.district_id for t in tickets}),
    }


def _code(lookups: dict[str, Named], table: str, row_id: int | None) -> str | None:
    found = lookups[table].get(row_id or 0)
    return found[0] if found else None


def _name(lookups: dict[str, Named], table: str, row_id: int | None, language: str) -> str | None:
    found = lookups[table].get(row_id or 0)
    return pick_name(found[1], language) if found else None


def _case_out(
    ticket: Ticket, case: Case, lookups: dict[str, Named], principal: Principal
) -> CaseOut:
    language = principal.language
    return CaseOut(
        number=ticket.public_number,
        stage=Stage(case.stage),
        stage_name=stage_name(language, BackOffice.DISPATCH, case.stage),
        status=str(ticket.status),
        category=_code(lookups, "category", ticket.category_id),
        category_name=_name(lookups, "category", ticket.category_id, language),
        urgency=case.urgency,
        summary=ticket.summary,
        channel=ticket.channel,
        address=ticket.address,
        latitude=ticket.latitude,
        longitude=ticket.longitude,
        grid_cell=_code(lookups, "grid", ticket.grid_cell_id),
        district=_code(lookups, "district", ticket.district_id),
        district_name=_name(lookups, "district", ticket.district_id, language),
        department=_code(lookups, "department", ticket.department_id),
        department_name=_name(lookups, "department", ticket.department_id, language),
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
        actions=[str(a) for a in actions_for(Stage(case.stage), principal.role)],
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
    events = await tickets_service.events(db_session=db_session, ticket_id=ticket.id)
    lookups = await _lookups(db_session, [ticket], department_ids(ticket, events))
    base = _case_out(ticket, case, lookups, principal)
    rows = await _history(db_session, ticket, events, lookups, principal.language)
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
            EventOut(
                kind=e.kind,
                actor=e.actor.token,
                data=e.data,
                created_at=e.created_at,
                actor_name=row.who,
                description=row.what,
            )
            for e, row in zip(events, rows, strict=True)
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


async def _history(
    db_session: AsyncSession,
    ticket: Ticket,
    events: list[TicketEvent],
    lookups: dict[str, Named],
    language: str,
) -> list[HistoryRow]:
    """Returns the events in words, for staff: who by name and role, what changed."""
    departments = {row_id: names for row_id, (_code, names) in lookups["department"].items()}
    names = await names_for(
        db_session=db_session, ticket=ticket, events=events, departments=departments
    )
    return history_rows(ticket, events, names, language=language, public=False)


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
