"""Duplicate reports: the same problem reported twice (a burst pipe seen by a whole street).

A new report of the same category within N metres and T hours of an open case is offered
to the dispatcher as a merge; the dispatcher decides, because two potholes ten metres
apart are two potholes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.dispatch.enums import Stage, SuggestionStatus
from core.dispatch.grid import degree_box, distance_m
from core.dispatch.models import Case, DuplicateSuggestion
from core.tickets.models import Ticket

_LIVE = [s.value for s in Stage if s not in (Stage.CLOSED, Stage.CANCELLED, Stage.MERGED)]


async def find_candidates(
    *,
    db_session: AsyncSession,
    ticket: Ticket,
    radius_m: float,
    window: timedelta,
    now: datetime,
    limit: int = 5,
) -> list[tuple[int, float]]:
    """Returns (ticket id, metres) of open cases this report may duplicate, nearest first."""
    if ticket.category_id is None or ticket.latitude is None or ticket.longitude is None:
        return []
    min_lat, max_lat, min_lon, max_lon = degree_box(ticket.latitude, ticket.longitude, radius_m)
    rows = await db_session.execute(
        select(Ticket.id, Ticket.latitude, Ticket.longitude)
        .join(Case, Case.ticket_id == Ticket.id)
        .where(
            Ticket.category_id == ticket.category_id,
            Ticket.id != ticket.id,
            Ticket.created_at >= now - window,
            Ticket.latitude.between(min_lat, max_lat),
            Ticket.longitude.between(min_lon, max_lon),
            Case.stage.in_(_LIVE),
        )
    )
    found = [
        (int(row[0]), distance_m(ticket.latitude, ticket.longitude, row[1] or 0.0, row[2] or 0.0))
        for row in rows
    ]
    return sorted((item for item in found if item[1] <= radius_m), key=lambda item: item[1])[:limit]


async def suggest(
    *,
    db_session: AsyncSession,
    ticket: Ticket,
    radius_m: float,
    window: timedelta,
    now: datetime,
) -> list[DuplicateSuggestion]:
    """Records merge suggestions for a new report; returns them (nearest first)."""
    suggestions = [
        DuplicateSuggestion(
            ticket_id=ticket.id,
            candidate_id=candidate_id,
            distance_m=round(metres, 1),
            status=SuggestionStatus.OPEN,
            created_at=now,
        )
        for candidate_id, metres in await find_candidates(
            db_session=db_session, ticket=ticket, radius_m=radius_m, window=window, now=now
        )
    ]
    db_session.add_all(suggestions)
    return suggestions


async def list_for(*, db_session: AsyncSession, ticket_id: int) -> list[DuplicateSuggestion]:
    """Returns the open merge suggestions of a report."""
    return list(
        await db_session.scalars(
            select(DuplicateSuggestion)
            .where(
                DuplicateSuggestion.ticket_id == ticket_id,
                DuplicateSuggestion.status == SuggestionStatus.OPEN,
            )
            .order_by(DuplicateSuggestion.distance_m)
        )
    )
