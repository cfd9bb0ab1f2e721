"""REST API of the registers and the integrity score (/api/v1/complaints): companies,
estates, contracts, committees, manager conflicts, imports; score events, appeals and
decisions; each company's score, and the public ranking (JSON and CSV, no login)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, status
from fastapi.responses import PlainTextResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import Role
from core.auth.service import Principal
from core.complaints import integrity, reports
from core.complaints import service as complaints_service
from core.complaints.enums import ScoreKind, ScoreStatus
from core.complaints.imports import IMPORTERS
from core.complaints.models import Indicator, PropertyCompany, ScoreEvent, ServiceContract
from core.complaints.presenters import codes, event_list, score_detail, score_out
from core.complaints.ranking import ranking_cache
from core.complaints.schemas import (
    AppealIn,
    BlacklistIn,
    CommitteeOut,
    CompanyOut,
    ConflictOut,
    ContractOut,
    DecisionIn,
    EstateOut,
    IndicatorOut,
    ScoreDetail,
    ScoreEventIn,
    ScoreEventOut,
    ScoreOut,
)
from core.complaints.service import (
    AUTHORITY_ROLES,
    READ_ROLES,
    ComplaintNotFound,
    IllegalStep,
    company_of,
    contract_on,
)
from core.complaints.views import REFUSALS, context, refuse
from core.db import utcnow
from core.importing.schemas import ImportOut
from core.importing.service import ImportOptions, ImportRejected, run_import
from core.runtime import Hub
from core.territory.models import Committee, Estate
from core.web.deps import DbId, HubDep, SessionDep, require_city_admin, require_roles

router = APIRouter(prefix="/complaints", tags=["complaints"])

ReaderDep = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
AuthorityDep = Annotated[Principal, Depends(require_roles(*AUTHORITY_ROLES))]
CityAdminDep = Annotated[Principal, Depends(require_city_admin)]
UNPROCESSABLE = status.HTTP_422_UNPROCESSABLE_CONTENT
TEXT_BODY = Annotated[str, Body(media_type="text/plain", max_length=20_000_000)]


def _company_out(company: PropertyCompany) -> CompanyOut:
    return CompanyOut(
        code=company.code,
        names=company.names,
        registration_number=company.registration_number,
        qualification=company.qualification,
        qualification_valid_until=company.qualification_valid_until,
        active=company.active,
        blacklisted=company.blacklisted,
        blacklist_reason=company.blacklist_reason,
    )


@router.get("/companies", response_model=list[CompanyOut])
async def list_companies(db_session: SessionDep, _principal: AuthorityDep) -> list[CompanyOut]:
    """The register of property companies."""
    found = await db_session.scalars(select(PropertyCompany).order_by(PropertyCompany.code))
    return [_company_out(company) for company in found]


@router.post("/companies/{code}/blacklist", response_model=CompanyOut)
async def set_blacklist(
    code: str, body: BlacklistIn, db_session: SessionDep, _principal: CityAdminDep
) -> CompanyOut:
    """Puts a company on the blacklist (it ranks last, banded "blacklist") or takes it off."""
    try:
        company = await complaints_service.company_by_code(db_session=db_session, code=code)
    except ComplaintNotFound as exc:
        raise refuse(exc) from exc
    company.blacklisted = body.blacklisted
    company.blacklist_reason = (body.reason or "").strip() or None if body.blacklisted else None
    await db_session.commit()
    return _company_out(company)


@router.get("/estates", response_model=list[EstateOut])
async def list_estates(
    hub: HubDep,
    db_session: SessionDep,
    _principal: ReaderDep,
    company: str | None = Query(default=None, max_length=32),
    limit: int = Query(default=500, ge=1, le=10_000),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> list[EstateOut]:
    """The estates with the company and contract serving each today."""
    today = complaints_service.local_day(hub.settings, utcnow())
    query = select(Estate).order_by(Estate.code)
    if company is not None:
        try:
            found = await complaints_service.company_by_code(db_session=db_session, code=company)
        except ComplaintNotFound as exc:
            raise HTTPException(UNPROCESSABLE, str(exc)) from exc
        query = query.join(ServiceContract, ServiceContract.estate_id == Estate.id).where(
            ServiceContract.company_id == found.id,
            ServiceContract.starts_on <= today,
            (ServiceContract.ends_on.is_(None)) | (ServiceContract.ends_on >= today),
        )
    estates = list(await db_session.scalars(query.limit(limit).offset(offset)))
    contracts = await complaints_service.contracts_on(
        db_session=db_session, estate_ids=[estate.id for estate in estates], on=today
    )
    companies = await codes(
        db_session, PropertyCompany, {c.company_id for c in contracts.values() if c}
    )
    out = []
    for estate in estates:
        contract = contracts.get(estate.id)
        out.append(
            EstateOut(
                code=estate.code,
                names=estate.names,
                addresses=estate.addresses,
                kind=estate.kind,
                area=estate.area,
                building_count=estate.building_count,
                facilities=estate.facilities,
                company=companies.get(contract.company_id) if contract else None,
                contract=contract.number if contract else None,
            )
        )
    return out


@router.get("/contracts", response_model=list[ContractOut])
async def list_contracts(
    db_session: SessionDep,
    _principal: AuthorityDep,
    estate: str | None = Query(default=None, max_length=32),
) -> list[ContractOut]:
    """The contract register, the latest start first; ended contracts included."""
    query = select(ServiceContract).order_by(ServiceContract.starts_on.desc())
    if estate is not None:
        query = query.join(Estate, Estate.id == ServiceContract.estate_id).where(
            Estate.code == estate
        )
    contracts = list(await db_session.scalars(query))
    companies = await codes(db_session, PropertyCompany, {c.company_id for c in contracts})
    estates = await codes(db_session, Estate, {c.estate_id for c in contracts})
    return [
        ContractOut(
            number=c.number,
            company=companies[c.company_id],
            estate=estates[c.estate_id],
            starts_on=c.starts_on,
            ends_on=c.ends_on,
        )
        for c in contracts
    ]


@router.get("/committees", response_model=list[CommitteeOut])
async def list_committees(db_session: SessionDep, _principal: ReaderDep) -> list[CommitteeOut]:
    """Owners' committees with their terms."""
    committees = list(await db_session.scalars(select(Committee).order_by(Committee.code)))
    estates = await codes(db_session, Estate, {c.estate_id for c in committees})
    return [
        CommitteeOut(
            code=c.code,
            estate=estates[c.estate_id],
            names=c.names,
            elected_on=c.elected_on,
            term_ends_on=c.term_ends_on,
        )
        for c in committees
    ]


@router.get("/managers/conflicts", response_model=list[ConflictOut])
async def manager_conflicts(
    hub: HubDep, db_session: SessionDep, _principal: AuthorityDep
) -> list[ConflictOut]:
    """People listed as current manager of several companies at once."""
    today = complaints_service.local_day(hub.settings, utcnow())
    found = await complaints_service.manager_conflicts(db_session=db_session, on=today)
    return [
        ConflictOut(
            certificate_number=c.certificate_number,
            full_name=c.full_name,
            companies=c.company_codes,
        )
        for c in found
    ]


@router.get("/indicators", response_model=list[IndicatorOut])
async def list_indicators(db_session: SessionDep, _principal: ReaderDep) -> list[IndicatorOut]:
    """The authority's indicator catalogue: what is checked, how often, how scored."""
    found = await db_session.scalars(select(Indicator).order_by(Indicator.code))
    return [
        IndicatorOut(
            code=i.code,
            names=i.names,
            frequency=i.frequency,
            max_score=i.max_score,
            pass_score=i.pass_score,
            active=i.active,
        )
        for i in found
    ]


@router.post("/imports/{what}", response_model=ImportOut)
async def import_file(
    what: str,
    text: TEXT_BODY,
    hub: HubDep,
    db_session: SessionDep,
    _principal: CityAdminDep,
    format: Literal["csv", "yaml"] = "csv",  # noqa: A002
) -> ImportOut:
    """Imports a register or scoring file (companies, managers, estates, contracts,
    committees, indicators, score_rules, score_weights)."""
    if what not in IMPORTERS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no importer {what!r}")
    options = ImportOptions(region=hub.settings.phone_region)
    try:
        report = await run_import(
            db_session=db_session,
            importers=IMPORTERS,
            what=what,
            text=text,
            fmt=format,
            options=options,
        )
    except ImportRejected as exc:
        await db_session.rollback()
        raise HTTPException(
            UNPROCESSABLE,
            [{"line": line, "reason": reason} for line, reason in exc.report.rejected],
        ) from exc
    await db_session.commit()
    return ImportOut(created=report.created, updated=report.updated, unchanged=report.unchanged)


@router.get("/score/events", response_model=list[ScoreEventOut])
async def list_events(
    db_session: SessionDep,
    principal: ReaderDep,
    company: str | None = Query(default=None, max_length=32),
    event_status: Annotated[ScoreStatus | None, Query(alias="status")] = None,
    limit: int = Query(default=200, ge=1, le=2000),
) -> list[ScoreEventOut]:
    """Integrity events, newest first: a company sees its own (its pre-deduction notices)."""
    events = await complaints_service.score_events_for(
        db_session=db_session,
        principal=principal,
        company_code=company,
        status=event_status,
        limit=limit,
    )
    return await event_list(db_session, events)


@router.post("/score/events", response_model=ScoreEventOut, status_code=201)
async def record_event(
    body: ScoreEventIn, hub: HubDep, db_session: SessionDep, principal: CityAdminDep
) -> ScoreEventOut:
    """Records a sanction (a pending deduction, with notice) or an award (counts at once)."""
    ctx = await context(hub, principal)
    outbox_ids: list[int] = []
    try:
        company = await complaints_service.company_by_code(db_session=db_session, code=body.company)
        estate = (
            await complaints_service.estate_by_code(db_session=db_session, code=body.estate)
            if body.estate
            else None
        )
        if estate is not None:
            contract = await contract_on(db_session=db_session, estate_id=estate.id, on=ctx.today)
            if contract is None or contract.company_id != company.id:
                raise IllegalStep(f"{company.code} does not serve estate {estate.code} today")
        event = await integrity.record(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=outbox_ids,
            company=company,
            kind=ScoreKind(body.kind),
            source=f"{body.kind}:{company.id}:{body.key}",
            rule_code=body.rule,
            estate_id=estate.id if estate else None,
            note=body.note,
        )
    except REFUSALS as exc:
        await db_session.rollback()
        raise refuse(exc) from exc
    await db_session.commit()
    return (await event_list(db_session, [event]))[0]


async def _event_step(
    hub: HubDep, db_session: SessionDep, principal: Principal, event_id: int, step: Any
) -> ScoreEventOut:
    ctx = await context(hub, principal)
    outbox_ids: list[int] = []
    try:
        event = await db_session.get(ScoreEvent, event_id, with_for_update=True)
        own = company_of(principal)
        if event is None or (principal.role not in AUTHORITY_ROLES and event.company_id != own):
            raise ComplaintNotFound(f"no score event {event_id}")
        await step(ctx, outbox_ids, event)
    except REFUSALS as exc:
        await db_session.rollback()
        raise refuse(exc) from exc
    await db_session.commit()
    return (await event_list(db_session, [event]))[0]


@router.post("/score/events/{event_id}/appeal", response_model=ScoreEventOut)
async def appeal_event(
    event_id: DbId,
    body: AppealIn,
    hub: HubDep,
    db_session: SessionDep,
    principal: Annotated[Principal, Depends(require_roles(Role.COMPANY))],
) -> ScoreEventOut:
    """The company appeals a pending deduction with its evidence, before the appeal date."""

    async def step(ctx: Any, _outbox_ids: list[int], event: ScoreEvent) -> None:
        await integrity.appeal(
            db_session=db_session,
            ctx=ctx,
            event=event,
            text=body.text,
            evidence=[{"ref": item.strip()} for item in body.evidence],
        )

    return await _event_step(hub, db_session, principal, event_id, step)


@router.post("/score/events/{event_id}/decision", response_model=ScoreEventOut)
async def decide_appeal(
    event_id: DbId, body: DecisionIn, hub: HubDep, db_session: SessionDep, principal: CityAdminDep
) -> ScoreEventOut:
    """A supervisor decides an appeal: upheld withdraws the deduction, refused confirms it."""

    async def step(ctx: Any, outbox_ids: list[int], event: ScoreEvent) -> None:
        await integrity.decide(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=outbox_ids,
            event=event,
            decision=body.decision,
            reason=body.reason,
        )

    return await _event_step(hub, db_session, principal, event_id, step)


@router.get("/companies/{code}/score", response_model=ScoreDetail)
async def company_score(
    code: str,
    hub: HubDep,
    db_session: SessionDep,
    principal: ReaderDep,
    lang: Literal["en", "ru", "zh"] = "en",
) -> ScoreDetail:
    """A company's score with its parts; the company itself and the authority see it."""
    try:
        company = await complaints_service.company_by_code(db_session=db_session, code=code)
        if principal.role not in AUTHORITY_ROLES and company_of(principal) != company.id:
            raise ComplaintNotFound(f"no company {code!r}")
    except ComplaintNotFound as exc:
        raise refuse(exc) from exc
    ranking = await integrity.scores(db_session=db_session, settings=hub.settings, now=utcnow())
    for rank, score in enumerate(ranking, start=1):
        if score.company_id == company.id:
            return score_detail(rank, score, lang)
    # An inactive company is not ranked; its score is still shown to those who may see it.
    (score,) = await integrity.scores(
        db_session=db_session, settings=hub.settings, now=utcnow(), company_ids=[company.id]
    )
    return score_detail(0, score, lang)


async def _ranking(hub: Hub, db_session: AsyncSession) -> list[integrity.Score]:
    async def load() -> list[integrity.Score]:
        return await integrity.scores(db_session=db_session, settings=hub.settings, now=utcnow())

    return await ranking_cache(hub).get(load)


@router.get("/ranking", response_model=list[ScoreOut])
async def public_ranking(
    hub: HubDep, db_session: SessionDep, lang: Literal["en", "ru", "zh"] = "en"
) -> list[ScoreOut]:
    """The public ranking of active companies by integrity score (no login needed)."""
    ranking = await _ranking(hub, db_session)
    return [score_out(rank, score, lang) for rank, score in enumerate(ranking, start=1)]


@router.get("/ranking.csv", response_class=PlainTextResponse)
async def public_ranking_csv(
    hub: HubDep, db_session: SessionDep, lang: Literal["en", "ru", "zh"] = "en"
) -> PlainTextResponse:
    """The public ranking as CSV."""
    ranking = await _ranking(hub, db_session)
    return PlainTextResponse(
        reports.ranking_csv(ranking, lang),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="ranking.csv"'},
    )
