"""The live inbox: saved views and filters, unread and SLA badges, rows redrawn as events come.

The page is drawn once; the browser then follows ``GET /api/v1/events`` and, when tickets
change, asks ``/console/inbox/rows`` for just those rows under the same view and filters
(no reload, no polling). The server decides whether a changed ticket still belongs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.assignment import service as assignment_service
from core.auth.models import StaffUser
from core.db import utcnow
from core.i18n import pick_name
from core.routing.models import Category, Department
from core.runtime import Hub
from core.sla.countdown import Countdown, countdown
from core.territory.models import District
from core.tickets import inbox
from core.tickets.enums import TicketKind, TicketStatus
from core.tickets.inbox import InboxQuery, InboxRow, View, Viewer
from core.web.deps import DbIdQuery, HubDep, SessionDep
from portal.console.auth import Staff, allow
from portal.console.nav import TICKET_ROLES
from portal.console.pages import fragment, page
from portal.console.teams import teams_for

router = APIRouter(prefix="/console", include_in_schema=False)
InboxStaff = Annotated[Staff, Depends(allow(*TICKET_ROLES))]
# Ticket numbers in one live refresh: a burst of events is asked for in one request.
MAX_NUMBERS = 100
LOOKUP_SECONDS = 30.0


@dataclass(frozen=True)
class Lookups:
    """Names of what rows refer to by id, read once per request (small tables)."""

    categories: dict[int, str]
    districts: dict[int, str]
    departments: dict[int, str]
    staff: dict[int, str]

    @classmethod
    async def load(cls, db_session: AsyncSession, language: str) -> Lookups:
        categories = {
            c.id: pick_name(c.names, language) for c in await db_session.scalars(select(Category))
        }
        districts = {
            d.id: pick_name(d.names, language) for d in await db_session.scalars(select(District))
        }
        departments = {
            d.id: pick_name(d.names, language) for d in await db_session.scalars(select(Department))
        }
        staff = {
            row.id: row.display_name
            for row in (
                await db_session.execute(select(StaffUser.id, StaffUser.display_name))
            ).all()
        }
        return cls(categories, districts, departments, staff)

    @classmethod
    async def cached(cls, hub: Hub, db_session: AsyncSession, language: str) -> Lookups:
        """The names, read at most every LOOKUP_SECONDS per process and language: the live
        inbox asks for rows several times a second on every console, and these tables
        change seldom (a renamed department shows within that time)."""
        key = f"console-lookups:{language}"
        found = hub.caches.get(key)
        now = time.monotonic()
        if isinstance(found, tuple) and now - found[0] < LOOKUP_SECONDS:
            return found[1]
        lookups = await cls.load(db_session, language)
        hub.caches[key] = (now, lookups)
        return lookups


def _query(
    view: View,
    status: TicketStatus | None,
    channel: str | None,
    kind: TicketKind | None,
    category: int | None,
    district: int | None,
    department: int | None,
    after: str | None = None,
) -> InboxQuery:
    after_time, after_id = _cursor(after)
    return InboxQuery(
        view=view,
        status=status,
        channel=channel,
        kind=kind,
        category_id=category,
        district_id=district,
        department_id=department,
        after_time=after_time,
        after_id=after_id,
    )


def _cursor(after: str | None) -> tuple[datetime | None, int | None]:
    """Reads "time_id" from the next-page link; anything else starts at the top."""
    if not after:
        return None, None
    moment, _, number = after.rpartition("_")
    try:
        return datetime.fromisoformat(moment), int(number)
    except ValueError:
        return None, None


class Filters:
    """The view and filters, as query parameters (codes and ids only: nothing personal)."""

    def __init__(
        self,
        view: View = View.MINE,
        status: TicketStatus | None = None,
        channel: Annotated[str | None, Query(max_length=16, pattern=r"^[a-z0-9_]+$")] = None,
        kind: TicketKind | None = None,
        category: DbIdQuery = None,
        district: DbIdQuery = None,
        department: DbIdQuery = None,
        after: Annotated[str | None, Query(max_length=64)] = None,
    ) -> None:
        self.values: dict[str, Any] = {
            "view": view,
            "status": status,
            "channel": channel,
            "kind": kind,
            "category": category,
            "district": district,
            "department": department,
        }
        self.query = _query(view, status, channel, kind, category, district, department, after)

    def link(self, **changes: Any) -> str:
        """Returns the query string of these filters with ``changes`` (None drops one)."""
        merged = {**self.values, **changes}
        return "&".join(f"{key}={value}" for key, value in merged.items() if value is not None)


FiltersDep = Annotated[Filters, Depends()]


async def _viewer(db_session: AsyncSession, staff: Staff) -> Viewer:
    teams = await teams_for(db_session=db_session, staff_id=staff.id)
    return Viewer(staff_id=staff.id, scope=staff.principal.scope, teams=teams)


def _row_context(
    rows: list[InboxRow], hub: Hub, table: Any
) -> list[tuple[InboxRow, Countdown | None]]:
    now = utcnow()
    return [(row, countdown(row.ticket, table, now)) for row in rows]


@router.get("", response_class=HTMLResponse)
async def inbox_page(
    request: Request, hub: HubDep, db_session: SessionDep, staff: InboxStaff, filters: FiltersDep
) -> Response:
    """The inbox: one page of the chosen view, then kept live by the event stream."""
    # Before this request's own session reads: on SQLite a second session would wait on it.
    table = await hub.routing.get()
    viewer = await _viewer(db_session, staff)
    rows = await inbox.page(db_session=db_session, viewer=viewer, query=filters.query)
    lookups = await Lookups.cached(hub, db_session, staff.language)
    queues = await assignment_service.queue_counts(
        db_session=db_session, scope=staff.principal.scope
    )
    last = rows[-1].ticket if len(rows) == inbox.PAGE else None
    next_after = None
    if last is not None:
        moment = last.created_at if inbox.oldest_first(filters.query.view) else last.updated_at
        next_after = f"{moment.isoformat()}_{last.id}"
    return page(
        request,
        staff,
        "console/inbox.html",
        rows=_row_context(rows, hub, table),
        lookups=lookups,
        filters=filters,
        views=list(View),
        statuses=list(TicketStatus),
        kinds=list(TicketKind),
        channels=hub.channels.names(),
        next_after=next_after,
        first_page=filters.query.after_id is None,
        teams=viewer.teams,
        queues=[q for q in queues if q.waiting],
    )


@router.get("/inbox/rows", response_class=HTMLResponse)
async def inbox_rows(
    request: Request,
    hub: HubDep,
    db_session: SessionDep,
    staff: InboxStaff,
    filters: FiltersDep,
    numbers: Annotated[str, Query(max_length=MAX_NUMBERS * 12)] = "",
) -> Response:
    """The rows of tickets that just changed, for the live inbox, and which ones to drop."""
    wanted = [n for n in numbers.split(",") if n.strip()][:MAX_NUMBERS]
    table = await hub.routing.get()
    viewer = await _viewer(db_session, staff)
    rows, gone = await inbox.rows_for(
        db_session=db_session, viewer=viewer, query=filters.query, numbers=wanted
    )
    lookups = await Lookups.cached(hub, db_session, staff.language)
    return fragment(
        request,
        staff,
        "console/_inbox_rows.html",
        rows=_row_context(rows, hub, table),
        gone=gone,
        lookups=lookups,
        oldest_first=inbox.oldest_first(filters.query.view),
    )
