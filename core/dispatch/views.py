"""REST API of the dispatch back office (/api/v1/dispatch): cases and their workflow,
photos, duplicates, evaluation, and the data imports. Thin: parse, call a service, map
domain errors to 4xx."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, File, HTTPException, Query, UploadFile, status
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import select

from core.auth.service import Principal
from core.db import utcnow
from core.dispatch import actions, evaluation, photos
from core.dispatch import service as dispatch_service
from core.dispatch.actions import ActionInput, Context
from core.dispatch.enums import Stage
from core.dispatch.imports import IMPORTERS
from core.dispatch.models import CasePhoto, Extension
from core.dispatch.presenters import case_detail, case_page, category_out, photo_out
from core.dispatch.schemas import (
    ActionIn,
    CaseDetail,
    CasePage,
    CategoryOut,
    CellOut,
    EvaluationIn,
    ExtensionDecisionIn,
    MergeIn,
    PhotoOut,
)
from core.dispatch.workflow import IllegalAction, NotAllowed
from core.importing.schemas import ImportOut
from core.importing.service import ImportOptions, ImportRejected, run_import
from core.media.errors import MediaNotFound, MediaRejected
from core.routing.models import Category, Department
from core.tickets.numbers import parse_public_number
from core.web.deps import (
    HANDLING_ROLES,
    STAFF_ROLES,
    DbId,
    HubDep,
    SessionDep,
    require_city_admin,
    require_roles,
)

router = APIRouter(prefix="/dispatch", tags=["dispatch"])

StaffDep = Annotated[Principal, Depends(require_roles(*STAFF_ROLES))]
CityAdminDep = Annotated[Principal, Depends(require_city_admin)]
UNPROCESSABLE = status.HTTP_422_UNPROCESSABLE_CONTENT
TEXT_BODY = Annotated[str, Body(media_type="text/plain", max_length=20_000_000)]


def _refuse(exc: Exception) -> HTTPException:
    if isinstance(exc, NotAllowed):
        return HTTPException(status.HTTP_403_FORBIDDEN, str(exc))
    if isinstance(exc, dispatch_service.CaseNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


async def _context(hub: HubDep, principal: Principal) -> Context:
    return Context(principal, await hub.routing.get(), hub.settings, utcnow())


@router.get("/categories", response_model=list[CategoryOut])
async def list_categories(db_session: SessionDep, _principal: StaffDep) -> list[CategoryOut]:
    """Lists the city-case categories with their class codes, conditions and time limits."""
    return [
        await category_out(db_session, category, details)
        for category, details in await dispatch_service.dispatch_categories(db_session=db_session)
    ]


@router.get("/cases", response_model=CasePage)
async def list_cases(
    hub: HubDep,
    db_session: SessionDep,
    principal: StaffDep,
    stage: Stage | None = None,
    department: Annotated[str | None, Query(max_length=32)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    overdue: bool | None = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CasePage:
    """Lists cases in the caller's scope, the most pressing due time first."""
    filters = dispatch_service.CaseFilters(
        stage=stage,
        department_id=await _id_or_422(db_session, Department, department),
        category_id=await _id_or_422(db_session, Category, category),
        overdue=overdue,
        open_only=open_only,
    )
    rows, total = await dispatch_service.list_cases(
        db_session=db_session, scope=principal.scope, filters=filters, limit=limit, offset=offset
    )
    return await case_page(db_session, rows, total, principal)


async def _id_or_422(db_session: SessionDep, model: Any, code: str | None) -> int | None:
    if code is None:
        return None
    found = await db_session.scalar(select(model.id).where(model.code == code))
    if found is None:
        raise HTTPException(UNPROCESSABLE, f"unknown code {code!r}")
    return int(found)


@router.get("/cases/{number}", response_model=CaseDetail)
async def get_case(number: str, db_session: SessionDep, principal: StaffDep) -> CaseDetail:
    """Returns a case with its history, extension requests, duplicates and photos."""
    try:
        ticket, case = await dispatch_service.get_in_scope(
            db_session=db_session, number=number, scope=principal.scope
        )
    except dispatch_service.CaseNotFound as exc:
        raise _refuse(exc) from exc
    return await case_detail(db_session, ticket, case, principal)


@router.post("/cases/{number}/actions", response_model=CaseDetail)
async def act_on_case(
    number: str, body: ActionIn, hub: HubDep, db_session: SessionDep, principal: StaffDep
) -> CaseDetail:
    """Takes one workflow action; an action the stage or role does not allow is refused."""
    ctx = await _context(hub, principal)
    try:
        ticket, case = await dispatch_service.get_in_scope(
            db_session=db_session, number=number, scope=principal.scope, lock=True
        )
        data = ActionInput(
            action=body.action,
            reason=body.reason,
            department_id=await _id_or_422(db_session, Department, body.department),
            category_id=await _id_or_422(db_session, Category, body.category),
            urgency=body.urgency,
            latitude=body.latitude,
            longitude=body.longitude,
            address=body.address,
            amount=body.amount,
            unit=body.unit,
            park_until=body.park_until,
        )
        await actions.act(db_session=db_session, ticket=ticket, case=case, data=data, ctx=ctx)
    except (IllegalAction, NotAllowed, dispatch_service.CaseNotFound) as exc:
        await db_session.rollback()
        raise _refuse(exc) from exc
    await db_session.commit()
    return await case_detail(db_session, ticket, case, principal)


@router.post("/cases/{number}/extensions/{extension_id}", response_model=CaseDetail)
async def decide_extension(
    number: str,
    extension_id: DbId,
    body: ExtensionDecisionIn,
    hub: HubDep,
    db_session: SessionDep,
    principal: StaffDep,
) -> CaseDetail:
    """Approves or refuses an extension request (the approver depends on its level)."""
    ctx = await _context(hub, principal)
    try:
        ticket, case = await dispatch_service.get_in_scope(
            db_session=db_session, number=number, scope=principal.scope, lock=True
        )
        extension = await db_session.get(Extension, extension_id, with_for_update=True)
        if extension is None or extension.ticket_id != ticket.id:
            raise dispatch_service.CaseNotFound(f"no extension {extension_id} on case {number}")
        await actions.decide_extension(
            db_session=db_session,
            ticket=ticket,
            case=case,
            extension=extension,
            approve=body.approve,
            note=body.note,
            ctx=ctx,
        )
    except (IllegalAction, NotAllowed, dispatch_service.CaseNotFound) as exc:
        await db_session.rollback()
        raise _refuse(exc) from exc
    await db_session.commit()
    return await case_detail(db_session, ticket, case, principal)


@router.post("/cases/{number}/merge", response_model=CaseDetail)
async def merge_case(
    number: str, body: MergeIn, hub: HubDep, db_session: SessionDep, principal: StaffDep
) -> CaseDetail:
    """Merges a new report into the open case it duplicates; its reporter follows that case."""
    ctx = await _context(hub, principal)
    try:
        # Lock the two cases in number order: two opposite merges at once then queue up
        # instead of deadlocking.
        first, second = sorted([number, body.into], key=lambda n: parse_public_number(n) or 0)
        locked = {
            n: await dispatch_service.get_in_scope(
                db_session=db_session, number=n, scope=principal.scope, lock=True
            )
            for n in dict.fromkeys([first, second])
        }
        ticket, case = locked[number]
        target_ticket, target_case = locked[body.into]
        # Its replies are queued by the outbox once this commits (core.events.collector).
        await actions.merge(
            db_session=db_session,
            ticket=ticket,
            case=case,
            target_ticket=target_ticket,
            target_case=target_case,
            ctx=ctx,
        )
    except (IllegalAction, NotAllowed, dispatch_service.CaseNotFound) as exc:
        await db_session.rollback()
        raise _refuse(exc) from exc
    await db_session.commit()
    return await case_detail(db_session, ticket, case, principal)


@router.post("/cases/{number}/photos", response_model=PhotoOut, status_code=201)
async def upload_photo(
    number: str,
    file: Annotated[UploadFile, File()],
    hub: HubDep,
    db_session: SessionDep,
    principal: Annotated[Principal, Depends(require_roles(*HANDLING_ROLES))],
) -> PhotoOut:
    """Adds a photo to a case (JPEG, PNG or WebP, up to HUB_MEDIA_MAX_BYTES)."""
    try:
        # Locked: a double-clicked upload waits for the first and then finds its picture.
        ticket, _case = await dispatch_service.get_in_scope(
            db_session=db_session, number=number, scope=principal.scope, lock=True
        )
    except dispatch_service.CaseNotFound as exc:
        raise _refuse(exc) from exc
    limit = hub.settings.media_max_bytes
    # Read one byte past the limit: enough to know it is too large without holding more.
    data = await file.read(limit + 1)
    assert hub.media is not None
    try:
        photo = await photos.add_photo(
            db_session=db_session,
            storage=hub.media,
            settings=hub.settings,
            ticket=ticket,
            data=data,
            declared_type=file.content_type,
            source="upload",
            actor=principal.actor,
        )
    except MediaRejected as exc:
        status_code = (
            status.HTTP_413_CONTENT_TOO_LARGE
            if exc.code == "too_large"
            else status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
        )
        raise HTTPException(status_code, exc.reason) from exc
    except photos.TooManyPhotos as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    await db_session.commit()
    return photo_out(photo, ticket)


@router.get("/cases/{number}/photos/{photo_id}", response_class=Response)
async def get_photo(
    number: str, photo_id: DbId, hub: HubDep, db_session: SessionDep, principal: StaffDep
) -> Response:
    """Returns a stored photo of a case."""
    try:
        ticket, _case = await dispatch_service.get_in_scope(
            db_session=db_session, number=number, scope=principal.scope
        )
    except dispatch_service.CaseNotFound as exc:
        raise _refuse(exc) from exc
    photo = await db_session.get(CasePhoto, photo_id)
    if photo is None or photo.ticket_id != ticket.id or photo.storage_key is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no photo {photo_id} on case {number}")
    assert hub.media is not None
    try:
        data = await hub.media.get(photo.storage_key)
    except MediaNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the photo's file is missing") from exc
    return Response(
        data,
        media_type=photo.content_type or "application/octet-stream",
        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/locate", response_model=CellOut)
async def locate(
    hub: HubDep,
    db_session: SessionDep,
    _principal: StaffDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
) -> CellOut:
    """Returns the unit grid cell containing a point (404 outside the grid)."""
    hit = await dispatch_service.locate(
        db_session=db_session,
        latitude=lat,
        longitude=lon,
        max_age=hub.settings.routing_cache_seconds,
    )
    if hit is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the point is outside every grid cell")
    return CellOut(code=hit.code, community_id=hit.community_id, district_id=hit.district_id)


@router.get("/evaluation", response_model=None)
async def get_evaluation(
    hub: HubDep,
    db_session: SessionDep,
    principal: Annotated[Principal, Depends(require_city_admin)],
    start: date,
    end: date,
    format: Literal["json", "csv"] = "json",  # noqa: A002 (the query parameter's public name)
) -> Any:
    """Evaluates every department over [start, end): counts, rates (%) and score."""
    period = _period(start, end)
    results = await evaluation.evaluate(
        db_session=db_session, period=period, timezone=ZoneInfo(hub.settings.timezone)
    )
    if format == "csv":
        return PlainTextResponse(
            evaluation.to_csv(results, principal.language),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="evaluation-{start}.csv"'},
        )
    return {"start": start, "end": end, "results": results}


def _period(start: date, end: date) -> evaluation.Period:
    try:
        checked = EvaluationIn(start=start, end=end)
    except ValueError as exc:
        raise HTTPException(UNPROCESSABLE, str(exc)) from exc
    return evaluation.Period(checked.start, checked.end)


@router.post("/evaluations", status_code=201)
async def publish_evaluation(
    body: EvaluationIn, hub: HubDep, db_session: SessionDep, principal: CityAdminDep
) -> dict[str, Any]:
    """Publishes (freezes) a period's evaluation; its closed cases become evaluated."""
    published = await evaluation.publish(
        db_session=db_session,
        period=evaluation.Period(body.start, body.end),
        timezone=ZoneInfo(hub.settings.timezone),
        actor=principal.actor,
    )
    await db_session.commit()
    return {"id": published.id, "results": published.results}


@router.post("/imports/{what}", response_model=ImportOut)
async def import_file(
    what: str,
    text: TEXT_BODY,
    hub: HubDep,
    db_session: SessionDep,
    _principal: CityAdminDep,
    format: Literal["csv", "yaml", "geojson"] = "csv",  # noqa: A002
) -> ImportOut:
    """Imports dispatch data (categories, responsibilities, gazetteer, grid, weights)."""
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
    if what in ("dispatch_categories",):
        hub.routing.invalidate()
    return ImportOut(created=report.created, updated=report.updated, unchanged=report.unchanged)
