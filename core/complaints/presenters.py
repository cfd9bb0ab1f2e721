"""Turning complaints rows into API bodies. Companies see the resident's words, never
their name or phone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.complaints.integrity import Score
from core.complaints.models import (
    Campaign,
    Complaint,
    Inspection,
    PropertyCompany,
    RectificationOrder,
    ScoreEvent,
)
from core.complaints.schemas import (
    ComplaintDetail,
    ComplaintOut,
    InspectionOut,
    MessageOut,
    OrderOut,
    ScoreDetail,
    ScoreEventOut,
    ScoreOut,
)
from core.i18n import pick_name
from core.routing.enums import BackOffice
from core.routing.models import Category
from core.territory.models import Estate
from core.tickets.enums import Direction
from core.tickets.models import Ticket, TicketMessage
from core.tickets.numbers import format_public_number
from core.tickets.wording import stage_name


async def codes(db_session: AsyncSession, model: Any, ids: set[int | None]) -> dict[int, str]:
    """Returns the codes of the rows with these ids (one query)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await db_session.execute(select(model.id, model.code).where(model.id.in_(wanted)))
    return {row_id: code for row_id, code in rows}


async def company_name(*, db_session: AsyncSession, ticket_id: int, language: str) -> str | None:
    """Returns the name of the property company a complaint went to, if it went to one."""
    names = await db_session.scalar(
        select(PropertyCompany.names)
        .join(Complaint, Complaint.company_id == PropertyCompany.id)
        .where(Complaint.ticket_id == ticket_id)
    )
    return pick_name(names, language) if names else None


# id -> (code, names per language)
Named = dict[int, tuple[str, dict[str, str]]]


async def named(db_session: AsyncSession, model: Any, ids: set[int | None]) -> Named:
    """Returns the codes and names of the rows with these ids (one query)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await db_session.execute(
        select(model.id, model.code, model.names).where(model.id.in_(wanted))
    )
    return {row_id: (code, dict(names or {})) for row_id, code, names in rows}


async def complaint_page(
    db_session: AsyncSession, rows: list[tuple[Ticket, Complaint]], language: str
) -> list[ComplaintOut]:
    """Returns a page of complaints, each code looked up once per table for the whole page."""
    lookups = await _lookups(db_session, rows)
    return [
        ComplaintOut(**_fields(ticket, complaint, lookups, language)) for ticket, complaint in rows
    ]


async def _lookups(
    db_session: AsyncSession, rows: list[tuple[Ticket, Complaint]]
) -> dict[str, Named]:
    return {
        "category": await named(db_session, Category, {t.category_id for t, _ in rows}),
        "estate": await named(db_session, Estate, {c.estate_id for _, c in rows}),
        "company": await named(db_session, PropertyCompany, {c.company_id for _, c in rows}),
    }


def _code_and_name(
    lookups: dict[str, Named], table: str, row_id: int | None, language: str
) -> tuple[str | None, str | None]:
    found = lookups[table].get(row_id or 0)
    return (found[0], pick_name(found[1], language)) if found else (None, None)


def _fields(
    ticket: Ticket, complaint: Complaint, lookups: dict[str, Named], language: str
) -> dict[str, Any]:
    category, category_name = _code_and_name(lookups, "category", ticket.category_id, language)
    estate, estate_name = _code_and_name(lookups, "estate", complaint.estate_id, language)
    company, company_name = _code_and_name(lookups, "company", complaint.company_id, language)
    return {
        "number": ticket.public_number,
        "stage": complaint.stage,
        "stage_name": stage_name(language, BackOffice.COMPLAINTS, complaint.stage),
        "status": ticket.status,
        "summary": ticket.summary,
        "category": category,
        "category_name": category_name,
        "estate": estate,
        "estate_name": estate_name,
        "company": company,
        "company_name": company_name,
        "triage_reason": complaint.triage_reason,
        "respond_by": complaint.respond_by,
        "due_at": ticket.due_at,
        "overdue": ticket.overdue,
        "created_at": ticket.created_at,
    }


async def complaint_detail(
    db_session: AsyncSession, ticket: Ticket, complaint: Complaint, language: str
) -> ComplaintDetail:
    """Returns a complaint with the resident's words (never who they are) and its orders."""
    lookups = await _lookups(db_session, [(ticket, complaint)])
    messages = await db_session.scalars(
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket.id, TicketMessage.direction != Direction.OUT)
        .order_by(TicketMessage.id)
    )
    orders = list(
        await db_session.scalars(
            select(RectificationOrder)
            .where(RectificationOrder.ticket_id == ticket.id)
            .order_by(RectificationOrder.id)
        )
    )
    return ComplaintDetail(
        **_fields(ticket, complaint, lookups, language),
        answer=complaint.answer,
        answered_at=complaint.answered_at,
        verdict=complaint.verdict,
        escalation=complaint.escalation,
        upheld=complaint.upheld,
        messages=[
            MessageOut(direction=m.direction, channel=m.channel, text=m.text, at=m.created_at)
            for m in messages
        ],
        orders=await order_list(db_session, orders),
    )


async def order_list(db_session: AsyncSession, orders: list[RectificationOrder]) -> list[OrderOut]:
    companies = await codes(db_session, PropertyCompany, {o.company_id for o in orders})
    estates = await codes(db_session, Estate, {o.estate_id for o in orders})
    return [
        OrderOut(
            id=o.id,
            company=companies[o.company_id],
            estate=estates[o.estate_id],
            complaint=format_public_number(o.ticket_id) if o.ticket_id else None,
            text=o.text,
            status=o.status,
            due_at=o.due_at,
            overdue=o.overdue,
            report=o.report,
            reported_at=o.reported_at,
            done_at=o.done_at,
        )
        for o in orders
    ]


async def event_list(db_session: AsyncSession, events: list[ScoreEvent]) -> list[ScoreEventOut]:
    companies = await codes(db_session, PropertyCompany, {e.company_id for e in events})
    return [
        ScoreEventOut(
            id=e.id,
            company=companies[e.company_id],
            kind=e.kind,
            rule=e.rule_code,
            section=e.section,
            base_points=e.base_points,
            factor=e.factor,
            points=e.points,
            status=e.status,
            complaint=format_public_number(e.ticket_id) if e.ticket_id else None,
            order=e.order_id,
            note=e.note,
            occurred_at=e.occurred_at,
            appeal_by=e.appeal_by,
            appeal_text=e.appeal_text,
            evidence=[str(item.get("ref", "")) for item in e.appeal_evidence or []],
            decision=e.decision,
            decision_reason=e.decision_reason,
        )
        for e in events
    ]


async def inspection_list(
    db_session: AsyncSession, inspections: list[Inspection]
) -> list[InspectionOut]:
    companies = await codes(db_session, PropertyCompany, {i.company_id for i in inspections})
    estates = await codes(db_session, Estate, {i.estate_id for i in inspections})
    campaigns = await codes(db_session, Campaign, {i.campaign_id for i in inspections})
    return [
        InspectionOut(
            id=i.id,
            campaign=campaigns.get(i.campaign_id or 0),
            complaint=format_public_number(i.ticket_id) if i.ticket_id else None,
            company=companies[i.company_id],
            estate=estates[i.estate_id],
            status=i.status,
            due_on=i.due_on,
            done_at=i.done_at,
            passed=i.passed,
        )
        for i in inspections
    ]


def score_out(rank: int, score: Score, language: str) -> ScoreOut:
    return ScoreOut(
        rank=rank,
        company=score.code,
        name=score.names.get(language) or score.names.get("en", score.code),
        score=score.total,
        band=score.band,
        basic=score.basic,
        good=score.good,
        bad=score.bad,
        upheld_complaints=score.upheld_complaints,
    )


def score_detail(rank: int, score: Score, language: str) -> ScoreDetail:
    return ScoreDetail(
        **score_out(rank, score, language).model_dump(),
        basic_items=score.basic_items,
        pending=score.pending,
    )
