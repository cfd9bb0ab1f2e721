"""Complaints test helpers on top of the demo city (companies uyut and comfort; estates
gardens b001–b005, north_park b006–b010, old_mill b011–b013 whose contract has ended)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core.auth import service as auth_service
from core.auth.enums import Role, ScopeKind
from core.complaints.models import Complaint, PropertyCompany
from core.complaints.service import SYSTEM, Context
from core.complaints.sweep import SweepResult, sweep
from core.db import transaction
from core.intake import service as intake
from core.intake.service import IntakeResult
from core.runtime import Hub
from core.tickets.models import Ticket
from tests.factories import inbound


def resident_of(building: int, flat: int = 1) -> str:
    """Returns the phone of the demo owner of ``flat`` in building b<building>."""
    return f"+7900100{(building - 1) * 6 + flat:04d}"


async def company_key(hub: Hub, code: str) -> dict[str, str]:
    """Returns headers with an API key speaking for the company ``code``."""
    async with transaction(hub.session_factory) as session:
        company_id = await session.scalar(
            select(PropertyCompany.id).where(PropertyCompany.code == code)
        )
        _, key = await auth_service.create_api_key(
            db_session=session,
            name=f"company {code}",
            role=Role.COMPANY,
            scope_kind=ScopeKind.COMPANY,
            scope_id=company_id,
        )
    return {"X-API-Key": key}


async def complain(hub: Hub, text: str, *, sender: str, **fields: object) -> IntakeResult:
    """Sends a resident's SMS through intake and returns the result."""
    return await intake.receive(hub=hub, message=inbound(text, sender=sender, **fields))


async def complaint_of(hub: Hub, ticket_id: int | None) -> tuple[Ticket, Complaint]:
    assert ticket_id is not None
    async with hub.session_factory() as session:
        ticket = await session.get(Ticket, ticket_id)
        complaint = await session.get(Complaint, ticket_id)
    assert ticket is not None and complaint is not None
    return ticket, complaint


async def sweep_at(hub: Hub, now: datetime) -> SweepResult:
    """Runs the periodic sweep as if it were ``now``."""
    async with transaction(hub.session_factory) as session:
        return await sweep(
            db_session=session, ctx=Context(SYSTEM, await hub.routing.get(), hub.settings, now)
        )
