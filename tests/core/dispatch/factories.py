"""Dispatch test helpers on top of the demo city (categories, departments, 20 grid cells)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select

from channels.contract import Location
from core.auth import service as auth_service
from core.auth.enums import Role, ScopeKind
from core.db import transaction
from core.dispatch import actions
from core.dispatch import service as dispatch_service
from core.dispatch.actions import ActionInput, ActionResult, Context
from core.dispatch.enums import Action
from core.dispatch.models import Case
from core.intake import service as intake
from core.routing.models import Department
from core.runtime import Hub
from core.territory.models import District
from core.tickets.models import Ticket
from tests.factories import inbound

# Inside demo cell RS0007 (Birch Grove, North district), beside the Central Market.
MARKET = (55.754, 37.606)
# Inside RS0005 (Embankment, Riverside district).
RIVERSIDE = (55.75, 37.624)
# Between the cells: inside the city, outside every grid cell.
NOWHERE = (55.752, 37.603)


async def staff_key(
    hub: Hub,
    role: Role,
    *,
    department: str | None = None,
    district: str | None = None,
) -> dict[str, str]:
    """Returns headers with an API key for ``role``, scoped to a department or district."""
    async with transaction(hub.session_factory) as session:
        scope, scope_id = ScopeKind.CITY, None
        if department:
            scope = ScopeKind.DEPARTMENT
            scope_id = await session.scalar(
                select(Department.id).where(Department.code == department)
            )
        elif district:
            scope = ScopeKind.DISTRICT
            scope_id = await session.scalar(select(District.id).where(District.code == district))
        _, key = await auth_service.create_api_key(
            db_session=session, name="test", role=role, scope_kind=scope, scope_id=scope_id
        )
    return {"X-API-Key": key}


async def report(
    hub: Hub,
    text: str = "Мусор у контейнеров",
    *,
    at: tuple[float, float] | None = MARKET,
    sender: str = "+79005550101",
    **fields: Any,
) -> intake.IntakeResult:
    """Sends a resident's report through intake; ``at`` is the phone's location."""
    location = Location(latitude=at[0], longitude=at[1]) if at else None
    return await intake.receive(
        hub=hub, message=inbound(text, sender=sender, location=location, **fields)
    )


async def case_of(hub: Hub, ticket_id: int) -> tuple[Ticket, Case]:
    """Returns a case and its ticket as they are in the database now."""
    async with hub.session_factory() as session:
        found = await dispatch_service.get(db_session=session, ticket_id=ticket_id)
        assert found is not None
        return found


async def act(
    client: httpx.AsyncClient, headers: dict[str, str], number: str, **body: Any
) -> httpx.Response:
    """Posts one workflow action through the API."""
    return await client.post(f"/api/v1/dispatch/cases/{number}/actions", json=body, headers=headers)


async def act_at(
    hub: Hub, ticket_id: int, now: datetime, role: Role = Role.ADMIN, **fields: Any
) -> ActionResult:
    """Takes an action through the service at a chosen moment (for clock tests)."""
    # Read the routing table first: on SQLite a second connection cannot start while the
    # action's write transaction is open.
    routing = await hub.routing.get()
    async with transaction(hub.session_factory) as session:
        found = await dispatch_service.get(db_session=session, ticket_id=ticket_id)
        assert found is not None
        ticket, case = found
        principal = auth_service.Principal("staff:1", role, dispatch_service.Scope(ScopeKind.CITY))
        ctx = Context(principal, routing, hub.settings, now)
        return await actions.act(
            db_session=session,
            ticket=ticket,
            case=case,
            data=ActionInput(**{"action": Action(fields.pop("action")), **fields}),
            ctx=ctx,
        )
