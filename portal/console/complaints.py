"""Property complaint screens: the company answers complaints and reports rectifications; the
housing authority routes, finds, orders, checks and decides appeals; both see the score.

Thin: each action locks its record, calls the complaints flow, and shows the flow's refusal
(wrong stage, not your company, deadline passed) on the page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import Role
from core.complaints import flow, inspections, integrity
from core.complaints import service as complaints_service
from core.complaints.enums import AppealDecision
from core.complaints.models import RectificationOrder, ScoreEvent
from core.complaints.presenters import (
    complaint_detail,
    complaint_page,
    event_list,
    order_list,
    score_out,
)
from core.complaints.service import (
    AUTHORITY_ROLES,
    ComplaintFilters,
    ComplaintNotFound,
    Context,
    IllegalStep,
    NotAllowed,
    company_of,
)
from core.db import utcnow
from core.runtime import Hub
from core.tickets.wording import N_
from core.web.deps import HubDep, SessionDep
from portal.console.auth import NotFound, Staff, allow
from portal.console.pages import page

router = APIRouter(prefix="/console/complaints", include_in_schema=False)
ROLES = (*AUTHORITY_ROLES, Role.COMPANY)
ReaderDep = Annotated[Staff, Depends(allow(*ROLES))]
CompanyDep = Annotated[Staff, Depends(allow(Role.COMPANY))]
AuthorityDep = Annotated[Staff, Depends(allow(*AUTHORITY_ROLES))]
REFUSALS = (ComplaintNotFound, NotAllowed, IllegalStep, ValueError)
Text = Annotated[str, Form(max_length=4000)]
LABELS = (
    N_("order:open"),
    N_("order:reported"),
    N_("order:done"),
    N_("score_status:pending"),
    N_("score_status:appealed"),
    N_("score_status:confirmed"),
    N_("score_status:withdrawn"),
)


async def _ctx(hub: Hub, staff: Staff) -> Context:
    return Context(staff.principal, await hub.routing.get(), hub.settings, utcnow())


@router.get("", response_class=HTMLResponse)
async def complaints_list(request: Request, db_session: SessionDep, staff: ReaderDep) -> Response:
    """The complaints the staff member may see, the nearest deadline first."""
    rows, total = await complaints_service.list_complaints(
        db_session=db_session,
        principal=staff.principal,
        filters=ComplaintFilters(limit=100, offset=0),
    )
    items = await complaint_page(db_session, rows, staff.language)
    return page(request, staff, "console/complaints/list.html", items=items, total=total)


async def _complaint_page(
    request: Request,
    db_session: AsyncSession,
    staff: Staff,
    number: str,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        ticket, complaint = await complaints_service.get_in_scope(
            db_session=db_session, principal=staff.principal, number=number[:20]
        )
    except ComplaintNotFound as exc:
        raise NotFound(staff.language) from exc
    detail = await complaint_detail(db_session, ticket, complaint, staff.language)
    return page(
        request,
        staff,
        "console/complaints/complaint.html",
        c=detail,
        authority=staff.role in AUTHORITY_ROLES,
        error=error,
        status_code=status_code,
    )


@router.get("/items/{number}", response_class=HTMLResponse)
async def complaint_view(
    request: Request, number: str, db_session: SessionDep, staff: ReaderDep
) -> Response:
    """A complaint with the resident's words, the answer, the verdict and the orders."""
    return await _complaint_page(request, db_session, staff, number)


Step = Callable[[Context, list[int], Any, Any], Awaitable[None]]


async def _step(
    request: Request, hub: Hub, db_session: AsyncSession, staff: Staff, number: str, step: Step
) -> Response:
    ctx = await _ctx(hub, staff)
    try:
        ticket, complaint = await complaints_service.get_in_scope(
            db_session=db_session, principal=staff.principal, number=number[:20], lock=True
        )
        await step(ctx, [], ticket, complaint)
    except REFUSALS as exc:
        await db_session.rollback()
        return await _complaint_page(request, db_session, staff, number, str(exc), 409)
    await db_session.commit()
    return RedirectResponse(f"/console/complaints/items/{number[:20]}", 303)


@router.post("/items/{number}/answer")
async def answer(
    request: Request,
    number: str,
    hub: HubDep,
    db_session: SessionDep,
    staff: CompanyDep,
    text: Text = "",
) -> Response:
    """The company's answer; the resident is then asked whether it is solved."""

    async def step(ctx: Context, outbox: list[int], ticket: Any, complaint: Any) -> None:
        if not text.strip():
            raise IllegalStep("write the answer first")
        await flow.answer(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=outbox,
            ticket=ticket,
            complaint=complaint,
            text=text.strip(),
        )

    return await _step(request, hub, db_session, staff, number, step)


@router.post("/items/{number}/route")
async def route(
    request: Request,
    number: str,
    hub: HubDep,
    db_session: SessionDep,
    staff: AuthorityDep,
    estate: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Triage: names the estate, which names the company serving it."""

    async def step(ctx: Context, outbox: list[int], ticket: Any, complaint: Any) -> None:
        found = await complaints_service.estate_by_code(db_session=db_session, code=estate)
        await flow.assign(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=outbox,
            ticket=ticket,
            complaint=complaint,
            estate=found,
            company=None,
        )

    return await _step(request, hub, db_session, staff, number, step)


@router.post("/items/{number}/finding")
async def finding(
    request: Request,
    number: str,
    hub: HubDep,
    db_session: SessionDep,
    staff: AuthorityDep,
    upheld: Annotated[str, Form(max_length=8)] = "",
    note: Text = "",
    order: Text = "",
    order_days: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """The authority's finding after inspecting: upheld deducts and may order a fix."""

    async def step(ctx: Context, outbox: list[int], ticket: Any, complaint: Any) -> None:
        await flow.record_finding(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=outbox,
            ticket=ticket,
            complaint=complaint,
            upheld=upheld == "yes",
            note=note.strip(),
            order_text=order or None,
            order_due_days=int(order_days) if order_days.isdigit() else None,
        )

    return await _step(request, hub, db_session, staff, number, step)


@router.get("/orders", response_class=HTMLResponse)
async def orders(request: Request, db_session: SessionDep, staff: ReaderDep) -> Response:
    """Rectification orders: a company's own, or all for the authority."""
    rows = await complaints_service.orders_for(db_session=db_session, principal=staff.principal)
    return page(
        request,
        staff,
        "console/complaints/orders.html",
        orders=await order_list(db_session, rows),
        authority=staff.role in AUTHORITY_ROLES,
    )


@router.post("/orders/{order_id}")
async def order_step(
    request: Request,
    order_id: int,
    hub: HubDep,
    db_session: SessionDep,
    staff: ReaderDep,
    text: Text = "",
    accepted: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """The company reports an order done; the authority accepts it or sends it back."""
    ctx = await _ctx(hub, staff)
    try:
        order = await db_session.get(RectificationOrder, order_id, with_for_update=True)
        authority = staff.role in AUTHORITY_ROLES
        if order is None or (not authority and order.company_id != company_of(staff.principal)):
            raise NotFound(staff.language)
        if authority:
            await inspections.check_order(
                db_session=db_session,
                ctx=ctx,
                outbox_ids=[],
                order=order,
                accepted=accepted == "yes",
                note=text or None,
            )
        else:
            await inspections.report_order(ctx=ctx, order=order, text=text.strip())
    except REFUSALS as exc:
        await db_session.rollback()
        rows = await complaints_service.orders_for(db_session=db_session, principal=staff.principal)
        return page(
            request,
            staff,
            "console/complaints/orders.html",
            orders=await order_list(db_session, rows),
            authority=staff.role in AUTHORITY_ROLES,
            error=str(exc),
            status_code=409,
        )
    await db_session.commit()
    return RedirectResponse("/console/complaints/orders", 303)


@router.get("/score", response_class=HTMLResponse)
async def score(
    request: Request, hub: HubDep, db_session: SessionDep, staff: ReaderDep
) -> Response:
    """The integrity ranking (the authority) or the company's own score, and the events."""
    return await _score_page(request, hub, db_session, staff)


async def _score_page(
    request: Request,
    hub: Hub,
    db_session: AsyncSession,
    staff: Staff,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    ranking = await integrity.scores(db_session=db_session, settings=hub.settings, now=utcnow())
    own = company_of(staff.principal)
    rows = [
        score_out(rank, item, staff.language)
        for rank, item in enumerate(ranking, start=1)
        if staff.role in AUTHORITY_ROLES or item.company_id == own
    ]
    events = await complaints_service.score_events_for(
        db_session=db_session, principal=staff.principal, limit=100
    )
    return page(
        request,
        staff,
        "console/complaints/score.html",
        ranking=rows,
        events=await event_list(db_session, events),
        authority=staff.role in AUTHORITY_ROLES,
        decides=staff.role in (Role.SUPERVISOR, Role.ADMIN)
        and staff.principal.scope.kind == "city",
        error=error,
        status_code=status_code,
    )


@router.post("/score/events/{event_id}")
async def score_event_step(
    request: Request,
    event_id: int,
    hub: HubDep,
    db_session: SessionDep,
    staff: ReaderDep,
    text: Text = "",
    decision: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """The company appeals a pending deduction; a city supervisor decides the appeal."""
    ctx = await _ctx(hub, staff)
    try:
        event = await db_session.get(ScoreEvent, event_id, with_for_update=True)
        mine = event is not None and event.company_id == company_of(staff.principal)
        if event is None or (staff.role not in AUTHORITY_ROLES and not mine):
            raise NotFound(staff.language)
        if staff.role == Role.COMPANY:
            await integrity.appeal(
                db_session=db_session, ctx=ctx, event=event, text=text, evidence=[]
            )
        elif staff.role in (Role.SUPERVISOR, Role.ADMIN) and staff.principal.scope.kind == "city":
            await integrity.decide(
                db_session=db_session,
                ctx=ctx,
                outbox_ids=[],
                event=event,
                decision=AppealDecision(decision),
                reason=text.strip(),
            )
        else:
            raise NotAllowed("only a city-wide supervisor decides appeals")
    except REFUSALS as exc:
        await db_session.rollback()
        return await _score_page(request, hub, db_session, staff, str(exc), 409)
    await db_session.commit()
    return RedirectResponse("/console/complaints/score", 303)
