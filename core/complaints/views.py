"""REST API of the complaints back office (/api/v1/complaints): complaints and their
steps, rectification orders, inspections and campaigns, reports. Thin: parse, call a
service, map domain errors to 4xx. The registers and the score: register_views.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import PlainTextResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.service import Principal
from core.complaints import flow, inspections, reports
from core.complaints import service as complaints_service
from core.complaints.enums import InspectionStatus, OrderStatus, Stage
from core.complaints.inspections import ResultIn
from core.complaints.models import Campaign, Inspection, PropertyCompany, RectificationOrder
from core.complaints.presenters import (
    complaint_detail,
    complaint_page,
    inspection_list,
    order_list,
)
from core.complaints.schemas import (
    AnswerIn,
    CampaignIn,
    CampaignOut,
    ComplaintDetail,
    ComplaintPage,
    DueCheckOut,
    FindingIn,
    InspectionOut,
    OrderCheckIn,
    OrderIn,
    OrderOut,
    OrderReportIn,
    RepeatOut,
    ReportRowOut,
    ResultsIn,
    RouteIn,
    VerdictIn,
)
from core.complaints.service import (
    AUTHORITY_ROLES,
    READ_ROLES,
    ComplaintFilters,
    ComplaintNotFound,
    Context,
    IllegalStep,
    NotAllowed,
    company_of,
)
from core.config import Settings
from core.db import utcnow
from core.i18n import pick_name
from core.territory.models import Estate
from core.web.deps import DbId, HubDep, SessionDep, require_roles

router = APIRouter(prefix="/complaints", tags=["complaints"])

ReaderDep = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
AuthorityDep = Annotated[Principal, Depends(require_roles(*AUTHORITY_ROLES))]
UNPROCESSABLE = status.HTTP_422_UNPROCESSABLE_CONTENT
REFUSALS = (ComplaintNotFound, NotAllowed, IllegalStep)


def refuse(exc: Exception) -> HTTPException:
    """Maps a domain refusal to its HTTP status: 404, 403 or 409."""
    if isinstance(exc, NotAllowed):
        return HTTPException(status.HTTP_403_FORBIDDEN, str(exc))
    if isinstance(exc, ComplaintNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


async def context(hub: HubDep, principal: Principal) -> Context:
    return Context(principal, await hub.routing.get(), hub.settings, utcnow())


@router.get("/complaints", response_model=ComplaintPage)
async def list_complaints(
    db_session: SessionDep,
    principal: ReaderDep,
    stage: Stage | None = None,
    company: str | None = Query(default=None, max_length=32),
    estate: str | None = Query(default=None, max_length=32),
    overdue: bool | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> ComplaintPage:
    """Lists the complaints the caller may see, the nearest deadline first."""
    filters = ComplaintFilters(
        stage=stage,
        company_id=await _id_of(db_session, PropertyCompany, company),
        estate_id=await _id_of(db_session, Estate, estate),
        overdue=overdue,
        limit=limit,
        offset=offset,
    )
    rows, total = await complaints_service.list_complaints(
        db_session=db_session, principal=principal, filters=filters
    )
    return ComplaintPage(
        total=total, items=await complaint_page(db_session, rows, principal.language)
    )


async def _id_of(db_session: AsyncSession, model: Any, code: str | None) -> int | None:
    if code is None:
        return None
    found = await db_session.scalar(select(model.id).where(model.code == code))
    if found is None:
        raise HTTPException(UNPROCESSABLE, f"unknown code {code!r}")
    return int(found)


@router.get("/complaints/{number}", response_model=ComplaintDetail)
async def get_complaint(number: str, db_session: SessionDep, principal: ReaderDep) -> Any:
    """Returns a complaint with the resident's words, the answer and the orders."""
    try:
        ticket, complaint = await complaints_service.get_in_scope(
            db_session=db_session, principal=principal, number=number
        )
    except ComplaintNotFound as exc:
        raise refuse(exc) from exc
    return await complaint_detail(db_session, ticket, complaint, principal.language)


async def _step(
    hub: HubDep, db_session: AsyncSession, principal: Principal, number: str, step: Any
) -> ComplaintDetail:
    """Runs one step on a locked complaint; commits, or rolls back and refuses."""
    ctx = await context(hub, principal)
    outbox_ids: list[int] = []
    try:
        ticket, complaint = await complaints_service.get_in_scope(
            db_session=db_session, principal=principal, number=number, lock=True
        )
        await step(ctx, outbox_ids, ticket, complaint)
    except REFUSALS as exc:
        await db_session.rollback()
        raise refuse(exc) from exc
    # Replies are queued and live streams woken once this commits (core.events.collector).
    await db_session.commit()
    return await complaint_detail(db_session, ticket, complaint, principal.language)


@router.post("/complaints/{number}/route", response_model=ComplaintDetail)
async def route_complaint(
    number: str, body: RouteIn, hub: HubDep, db_session: SessionDep, principal: AuthorityDep
) -> Any:
    """Triage: names the estate (and the company, if the register lacks it) and routes."""

    async def step(ctx: Context, outbox_ids: list[int], ticket: Any, complaint: Any) -> None:
        if complaint.stage != Stage.TRIAGE:
            raise IllegalStep(f"the complaint is {complaint.stage}, not in triage")
        estate = await complaints_service.estate_by_code(db_session=db_session, code=body.estate)
        company = (
            await complaints_service.company_by_code(db_session=db_session, code=body.company)
            if body.company
            else None
        )
        await flow.assign(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=outbox_ids,
            ticket=ticket,
            complaint=complaint,
            estate=estate,
            company=company,
        )

    return await _step(hub, db_session, principal, number, step)


@router.post("/complaints/{number}/answer", response_model=ComplaintDetail)
async def answer_complaint(
    number: str, body: AnswerIn, hub: HubDep, db_session: SessionDep, principal: ReaderDep
) -> Any:
    """The company's answer; the resident is then asked whether it is solved."""

    async def step(ctx: Context, outbox_ids: list[int], ticket: Any, complaint: Any) -> None:
        await flow.answer(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=outbox_ids,
            ticket=ticket,
            complaint=complaint,
            text=body.text,
        )

    return await _step(hub, db_session, principal, number, step)


@router.post("/complaints/{number}/verdict", response_model=ComplaintDetail)
async def record_verdict(
    number: str, body: VerdictIn, hub: HubDep, db_session: SessionDep, principal: ReaderDep
) -> Any:
    """Records the resident's verdict given by phone or at the counter."""

    async def step(ctx: Context, outbox_ids: list[int], ticket: Any, complaint: Any) -> None:
        await flow.give_verdict(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=outbox_ids,
            ticket=ticket,
            complaint=complaint,
            verdict=body.verdict,
            why=body.reason,
        )

    return await _step(hub, db_session, principal, number, step)


@router.post("/complaints/{number}/finding", response_model=ComplaintDetail)
async def record_finding(
    number: str, body: FindingIn, hub: HubDep, db_session: SessionDep, principal: AuthorityDep
) -> Any:
    """The authority's finding after inspecting; upheld deducts (after notice) and may
    order a rectification."""

    async def step(ctx: Context, outbox_ids: list[int], ticket: Any, complaint: Any) -> None:
        await flow.record_finding(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=outbox_ids,
            ticket=ticket,
            complaint=complaint,
            upheld=body.upheld,
            note=body.note,
            order_text=body.order,
            order_due_days=body.order_days,
        )

    return await _step(hub, db_session, principal, number, step)


@router.get("/orders", response_model=list[OrderOut])
async def list_orders(
    db_session: SessionDep,
    principal: ReaderDep,
    order_status: Annotated[OrderStatus | None, Query(alias="status")] = None,
    company: str | None = Query(default=None, max_length=32),
    overdue: bool | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[OrderOut]:
    """Lists rectification orders: a company sees its own, the authority all."""
    orders = await complaints_service.orders_for(
        db_session=db_session,
        principal=principal,
        status=order_status,
        company_id=await _id_of(db_session, PropertyCompany, company),
        overdue=overdue,
        limit=limit,
    )
    return await order_list(db_session, orders)


@router.post("/orders", response_model=OrderOut, status_code=201)
async def issue_order(
    body: OrderIn, hub: HubDep, db_session: SessionDep, principal: AuthorityDep
) -> OrderOut:
    """Orders a company to put something right on an estate it serves."""
    ctx = await context(hub, principal)
    outbox_ids: list[int] = []
    try:
        company = await complaints_service.company_by_code(db_session=db_session, code=body.company)
        estate = await complaints_service.estate_by_code(db_session=db_session, code=body.estate)
        contract = await complaints_service.contract_on(
            db_session=db_session, estate_id=estate.id, on=ctx.today
        )
        if contract is None or contract.company_id != company.id:
            raise IllegalStep(f"{company.code} does not serve estate {estate.code} today")
        order = await flow.issue_order(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=outbox_ids,
            company=company,
            estate_id=estate.id,
            text=body.text,
            days=body.days,
        )
    except REFUSALS as exc:
        await db_session.rollback()
        raise refuse(exc) from exc
    # Replies are queued and live streams woken once this commits (core.events.collector).
    await db_session.commit()
    return (await order_list(db_session, [order]))[0]


async def _order_step(
    hub: HubDep, db_session: AsyncSession, principal: Principal, order_id: int, step: Any
) -> OrderOut:
    ctx = await context(hub, principal)
    outbox_ids: list[int] = []
    try:
        order = await db_session.get(RectificationOrder, order_id, with_for_update=True)
        own = company_of(principal)
        if order is None or (principal.role not in AUTHORITY_ROLES and order.company_id != own):
            raise ComplaintNotFound(f"no order {order_id}")
        await step(ctx, outbox_ids, order)
    except REFUSALS as exc:
        await db_session.rollback()
        raise refuse(exc) from exc
    # Replies are queued and live streams woken once this commits (core.events.collector).
    await db_session.commit()
    return (await order_list(db_session, [order]))[0]


@router.post("/orders/{order_id}/report", response_model=OrderOut)
async def report_order(
    order_id: DbId, body: OrderReportIn, hub: HubDep, db_session: SessionDep, principal: ReaderDep
) -> OrderOut:
    """The company reports an order done."""

    async def step(ctx: Context, _outbox_ids: list[int], order: RectificationOrder) -> None:
        await inspections.report_order(ctx=ctx, order=order, text=body.text)

    return await _order_step(hub, db_session, principal, order_id, step)


@router.post("/orders/{order_id}/check", response_model=OrderOut)
async def check_order(
    order_id: DbId, body: OrderCheckIn, hub: HubDep, db_session: SessionDep, principal: AuthorityDep
) -> OrderOut:
    """The authority accepts a reported order as done, or sends it back."""

    async def step(ctx: Context, outbox_ids: list[int], order: RectificationOrder) -> None:
        await inspections.check_order(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=outbox_ids,
            order=order,
            accepted=body.accepted,
            note=body.note,
        )

    return await _order_step(hub, db_session, principal, order_id, step)


@router.post("/campaigns", response_model=CampaignOut, status_code=201)
async def start_campaign(
    body: CampaignIn, hub: HubDep, db_session: SessionDep, principal: AuthorityDep
) -> CampaignOut:
    """Starts an inspection campaign: a planned inspection of each estate concerned."""
    ctx = await context(hub, principal)
    try:
        campaign, count = await inspections.start_campaign(
            db_session=db_session,
            ctx=ctx,
            code=body.code,
            names={lang: name.strip() for lang, name in body.names.items() if name.strip()},
            indicator_codes=body.indicators,
            company_codes=body.companies,
            starts_on=body.starts_on,
            ends_on=body.ends_on,
        )
    except REFUSALS as exc:
        await db_session.rollback()
        raise refuse(exc) from exc
    await db_session.commit()
    return CampaignOut(code=campaign.code, inspections=count)


@router.get("/inspections", response_model=list[InspectionOut])
async def list_inspections(
    db_session: SessionDep,
    principal: ReaderDep,
    inspection_status: Annotated[InspectionStatus | None, Query(alias="status")] = None,
    campaign: str | None = Query(default=None, max_length=32),
    limit: int = Query(default=200, ge=1, le=2000),
) -> list[InspectionOut]:
    """Lists inspections, the earliest due first; a company sees its own."""
    query = select(Inspection).order_by(Inspection.due_on, Inspection.id)
    if principal.role not in AUTHORITY_ROLES:
        query = query.where(Inspection.company_id == (company_of(principal) or -1))
    if inspection_status is not None:
        query = query.where(Inspection.status == inspection_status)
    if campaign is not None:
        query = query.where(Inspection.campaign_id == await _id_of(db_session, Campaign, campaign))
    return await inspection_list(db_session, list(await db_session.scalars(query.limit(limit))))


@router.post("/inspections/{inspection_id}/results", response_model=list[OrderOut])
async def record_results(
    inspection_id: DbId,
    body: ResultsIn,
    hub: HubDep,
    db_session: SessionDep,
    principal: AuthorityDep,
) -> list[OrderOut]:
    """Records a campaign inspection's scores; returns the order for what failed, if any."""
    ctx = await context(hub, principal)
    outbox_ids: list[int] = []
    try:
        inspection = await db_session.get(Inspection, inspection_id, with_for_update=True)
        if inspection is None:
            raise ComplaintNotFound(f"no inspection {inspection_id}")
        order = await inspections.record_results(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=outbox_ids,
            inspection=inspection,
            results=[ResultIn(r.indicator, r.score, r.note) for r in body.results],
            order_days=body.order_days,
        )
    except REFUSALS as exc:
        await db_session.rollback()
        raise refuse(exc) from exc
    # Replies are queued and live streams woken once this commits (core.events.collector).
    await db_session.commit()
    return await order_list(db_session, [order] if order else [])


@router.get("/inspections/due", response_model=list[DueCheckOut])
async def due_checks(
    hub: HubDep,
    db_session: SessionDep,
    _principal: AuthorityDep,
    limit: int = Query(default=500, ge=1, le=10_000),
) -> list[DueCheckOut]:
    """Estate and indicator pairs whose last check is older than the indicator's frequency."""
    now = utcnow()
    found = await inspections.due_checks(
        db_session=db_session, settings=hub.settings, now=now, limit=limit
    )
    return [
        DueCheckOut(
            estate=d.estate_code,
            company=d.company_code,
            indicator=d.indicator_code,
            last_checked=d.last_checked,
            due_since=d.due_since,
        )
        for d in found
    ]


def _period(
    settings: Settings, since: date | None, until: date | None
) -> tuple[datetime, datetime]:
    """Returns [since, until] as the city's whole days, the last one included."""
    end = until or complaints_service.local_day(settings, utcnow())
    start = since or end - timedelta(days=365)
    if start > end:
        raise HTTPException(UNPROCESSABLE, "since is after until")
    zone = ZoneInfo(settings.timezone)
    return (
        datetime.combine(start, time(), zone).astimezone(UTC),
        datetime.combine(end + timedelta(days=1), time(), zone).astimezone(UTC),
    )


@router.get("/reports/complaints", response_model=list[ReportRowOut])
async def complaints_report(
    hub: HubDep,
    db_session: SessionDep,
    principal: AuthorityDep,
    by: Literal["company", "estate", "category"] = "company",
    since: date | None = None,
    until: date | None = None,
    lang: Literal["en", "ru", "zh"] = "en",
    format: Literal["json", "csv"] = "json",  # noqa: A002
) -> Any:
    """Complaints per company, estate or category received in a period (default a year)."""
    start, end = _period(hub.settings, since, until)
    rows = await reports.complaints_report(
        db_session=db_session, principal=principal, by=by, since=start, until=end
    )
    out = [
        ReportRowOut(
            code=r.code,
            name=pick_name(r.names, lang),
            total=r.total,
            open=r.open,
            disputed=r.disputed,
            overdue=r.overdue,
            upheld=r.upheld,
            dismissed=r.dismissed,
        )
        for r in rows
    ]
    if format == "json":
        return out
    lines = [",".join(ReportRowOut.model_fields)]
    lines += [reports.csv_line(row.model_dump().values()) for row in out]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/csv; charset=utf-8")


@router.get("/reports/repeats", response_model=list[RepeatOut])
async def repeat_problems(
    hub: HubDep,
    db_session: SessionDep,
    principal: AuthorityDep,
    since: date | None = None,
    until: date | None = None,
    min_count: int = Query(default=3, ge=2, le=1000),
    lang: Literal["en", "ru", "zh"] = "en",
) -> list[RepeatOut]:
    """Estates with the same kind of complaint at least ``min_count`` times in the period."""
    start, end = _period(hub.settings, since, until)
    rows = await reports.repeats(
        db_session=db_session, principal=principal, since=start, until=end, min_count=min_count
    )
    return [
        RepeatOut(
            estate=r.estate_code,
            estate_name=pick_name(r.estate_names, lang),
            category=r.category_code,
            category_name=pick_name(r.category_names, lang),
            count=r.count,
            last_at=r.last_at,
        )
        for r in rows
    ]
