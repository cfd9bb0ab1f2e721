"""Integrity-score test helpers: acting through the services at a chosen moment, and the
registers that make the demo companies' basic information what a test needs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from core.auth import service as auth_service
from core.auth.enums import Role, ScopeKind
from core.auth.service import Principal
from core.complaints import integrity
from core.complaints.enums import AppealDecision, ScoreKind
from core.complaints.integrity import Score
from core.complaints.models import PropertyCompany, ScoreEvent
from core.complaints.service import Context
from core.config import Settings
from core.db import transaction
from core.imports import import_text
from core.outbox.models import OutboxMessage
from core.runtime import Hub
from core.territory.models import Estate
from core.tickets.service import Scope

SUPERVISOR = Principal("staff:supervisor", Role.SUPERVISOR, Scope(ScopeKind.CITY))
# Irina Sokolova (MGR-1001) left comfort, so neither company shares a manager any more:
# uyut gets "certified_managers", and so does comfort (Pavel Orlov alone). Certificates
# run to 2099 so the test does not start failing when the demo's expire.
MANAGERS_APART = (
    "company,full_name,certificate_number,certificate_valid_until,appointed_on,left_on\n"
    "uyut,Irina Sokolova,MGR-1001,2099-05-01,2021-01-01,\n"
    "comfort,Pavel Orlov,MGR-2002,2099-01-01,2022-07-01,\n"
    "comfort,Irina Sokolova,MGR-1001,2099-05-01,2024-02-01,2024-12-31\n"
)


async def company_id(hub: Hub, code: str) -> int:
    """Returns the id of the company ``code``."""
    async with hub.session_factory() as session:
        found = await session.scalar(select(PropertyCompany.id).where(PropertyCompany.code == code))
    assert found is not None
    return found


async def company_key(hub: Hub, code: str) -> dict[str, str]:
    """Returns headers with an API key speaking for the company ``code``."""
    scope_id = await company_id(hub, code)
    async with transaction(hub.session_factory) as session:
        _, key = await auth_service.create_api_key(
            db_session=session,
            name=f"company {code}",
            role=Role.COMPANY,
            scope_kind=ScopeKind.COMPANY,
            scope_id=scope_id,
        )
    return {"X-API-Key": key}


async def company_principal(hub: Hub, code: str) -> Principal:
    """Returns the principal of a user of the company ``code``."""
    return Principal(
        f"company:{code}", Role.COMPANY, Scope(ScopeKind.COMPANY, await company_id(hub, code))
    )


async def import_register(hub: Hub, what: str, text: str, fmt: str = "csv") -> None:
    """Imports a complaints register or scoring file as the authority would."""
    async with transaction(hub.session_factory) as session:
        await import_text(db_session=session, what=what, text=text, fmt=fmt)


async def record_at(
    hub: Hub,
    now: datetime,
    company: str,
    kind: ScoreKind,
    source: str,
    *,
    estate: str | None = None,
    rule: str | None = None,
) -> ScoreEvent:
    """Records an integrity event at ``now`` through the service, as the authority."""
    ctx = Context(SUPERVISOR, await hub.routing.get(), hub.settings, now)
    async with transaction(hub.session_factory) as session:
        found = await session.scalar(select(PropertyCompany).where(PropertyCompany.code == company))
        assert found is not None
        estate_id = (
            await session.scalar(select(Estate.id).where(Estate.code == estate)) if estate else None
        )
        return await integrity.record(
            db_session=session,
            ctx=ctx,
            outbox_ids=[],
            company=found,
            kind=kind,
            source=source,
            rule_code=rule,
            estate_id=estate_id,
            note="test",
        )


async def appeal_at(hub: Hub, now: datetime, event_id: int, company: str, text: str) -> None:
    """Files the company's appeal against an event at ``now``."""
    ctx = Context(await company_principal(hub, company), await hub.routing.get(), hub.settings, now)
    async with transaction(hub.session_factory) as session:
        event = await session.get(ScoreEvent, event_id)
        assert event is not None
        await integrity.appeal(
            db_session=session, ctx=ctx, event=event, text=text, evidence=[{"ref": "act 1"}]
        )


async def decide_at(hub: Hub, now: datetime, event_id: int, decision: AppealDecision) -> None:
    """A city supervisor decides an appeal at ``now``."""
    ctx = Context(SUPERVISOR, await hub.routing.get(), hub.settings, now)
    async with transaction(hub.session_factory) as session:
        event = await session.get(ScoreEvent, event_id)
        assert event is not None
        await integrity.decide(
            db_session=session,
            ctx=ctx,
            outbox_ids=[],
            event=event,
            decision=decision,
            reason="checked the act",
        )


async def event_now(hub: Hub, event_id: int) -> ScoreEvent:
    """Returns a score event as it is in the database now."""
    async with hub.session_factory() as session:
        event = await session.get(ScoreEvent, event_id)
    assert event is not None
    return event


async def ranking_at(hub: Hub, now: datetime, settings: Settings | None = None) -> list[Score]:
    """Returns the ranking as it stands at ``now``."""
    async with hub.session_factory() as session:
        return await integrity.scores(
            db_session=session, settings=settings or hub.settings, now=now
        )


async def score_at(hub: Hub, now: datetime, code: str) -> Score:
    """Returns one company's score at ``now``."""
    (found,) = [s for s in await ranking_at(hub, now) if s.code == code]
    return found


def parts(score: Score) -> tuple[Decimal, Decimal, Decimal, Decimal, str]:
    """Returns basic, good, bad, total and band: the numbers a worked example checks."""
    return score.basic, score.good, score.bad, score.total, score.band


async def sms_to(hub: Hub, address: str) -> list[OutboxMessage]:
    """Returns the SMS queued to ``address``, oldest first."""
    async with hub.session_factory() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.address == address, OutboxMessage.channel == "sms")
            .order_by(OutboxMessage.id)
        )
        return list(rows)
