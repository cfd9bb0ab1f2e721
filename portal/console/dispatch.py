"""City case screens: the dispatcher's register, a department's own cases, the inspector's
verification. Thin: the dispatch services decide what a stage and a role allow (the page
offers exactly ``workflow.actions_for``); refusals come back as their message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import Role
from core.db import utcnow
from core.dispatch import actions, photos
from core.dispatch import service as dispatch_service
from core.dispatch.actions import ActionInput, Context
from core.dispatch.enums import Action, Stage
from core.dispatch.models import Extension
from core.dispatch.presenters import case_detail, case_page
from core.dispatch.workflow import IllegalAction, NotAllowed, actions_for
from core.i18n import pick_name
from core.media.errors import MediaRejected
from core.routing.models import Department
from core.runtime import Hub
from core.tickets.wording import N_
from core.web.deps import HubDep, SessionDep
from portal.console.auth import NotFound, Staff, allow
from portal.console.pages import page

router = APIRouter(prefix="/console/dispatch", include_in_schema=False)
DISPATCH_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.DEPARTMENT, Role.INSPECTOR)
CaseStaff = Annotated[Staff, Depends(allow(*DISPATCH_ROLES))]
# What each role sees first: the inspector what waits for verification, a department its open
# cases, a dispatcher everything still open.
DEFAULT_STAGE = {Role.INSPECTOR: Stage.REPORTED}
REFUSALS = (IllegalAction, NotAllowed, dispatch_service.CaseNotFound)
LABELS = (
    N_("action:register"),
    N_("action:cancel"),
    N_("action:dispatch"),
    N_("action:start"),
    N_("action:return"),
    N_("action:report"),
    N_("action:verify_pass"),
    N_("action:verify_fail"),
    N_("action:park"),
    N_("action:unpark"),
    N_("action:request_extension"),
    N_("unit:working_days"),
    N_("unit:working_hours"),
    N_("unit:calendar_hours"),
)


async def _departments(db_session: AsyncSession, language: str) -> list[tuple[str, str]]:
    rows = await db_session.scalars(select(Department).where(Department.active.is_(True)))
    return sorted(((d.code, pick_name(d.names, language)) for d in rows), key=lambda p: p[1])


@router.get("", response_class=HTMLResponse)
async def register(
    request: Request,
    db_session: SessionDep,
    staff: CaseStaff,
    stage: Stage | None = None,
    overdue: bool | None = None,
) -> Response:
    """The register of cases in the staff member's scope, the most pressing first."""
    chosen = stage or DEFAULT_STAGE.get(staff.role)
    filters = dispatch_service.CaseFilters(stage=chosen, overdue=overdue, open_only=chosen is None)
    rows, total = await dispatch_service.list_cases(
        db_session=db_session, scope=staff.principal.scope, filters=filters, limit=100, offset=0
    )
    cases = await case_page(db_session, rows, total, staff.principal)
    return page(
        request, staff, "console/dispatch/list.html", cases=cases, stage=chosen, stages=list(Stage)
    )


async def _case_page(
    request: Request,
    db_session: AsyncSession,
    staff: Staff,
    number: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        ticket, case = await dispatch_service.get_in_scope(
            db_session=db_session, number=number, scope=staff.principal.scope
        )
    except dispatch_service.CaseNotFound as exc:
        raise NotFound(staff.language) from exc
    detail = await case_detail(db_session, ticket, case, staff.principal)
    return page(
        request,
        staff,
        "console/dispatch/case.html",
        case=detail,
        actions=actions_for(Stage(case.stage), staff.role),
        departments=await _departments(db_session, staff.language),
        error=error,
        status_code=status_code,
    )


@router.get("/cases/{number}", response_class=HTMLResponse)
async def case_view(
    request: Request, number: str, db_session: SessionDep, staff: CaseStaff
) -> Response:
    """A case with its history, photos, extension requests, duplicates and its actions."""
    return await _case_page(request, db_session, staff, number[:20])


async def _ctx(hub: Hub, staff: Staff) -> Context:
    return Context(staff.principal, await hub.routing.get(), hub.settings, utcnow())


async def _department_id(db_session: AsyncSession, code: str) -> int | None:
    if not code:
        return None
    found = await db_session.scalar(select(Department.id).where(Department.code == code[:32]))
    if found is None:
        raise IllegalAction(f"no department {code!r}")
    return int(found)


def _moment(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError as exc:
        raise IllegalAction("the date is not a date") from exc
    if moment is not None and moment.tzinfo is None:
        # A datetime-local field has no zone: it is the city's clock.
        from zoneinfo import ZoneInfo

        moment = moment.replace(tzinfo=ZoneInfo("Europe/Moscow"))
    return moment


@router.post("/cases/{number}/act")
async def act(
    request: Request,
    number: str,
    hub: HubDep,
    db_session: SessionDep,
    staff: CaseStaff,
    action: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    department: Annotated[str, Form(max_length=32)] = "",
    amount: Annotated[str, Form(max_length=6)] = "",
    unit: Annotated[str, Form(max_length=16)] = "",
    park_until: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Takes one workflow action on the case; a refused one is shown with its reason."""
    ctx = await _ctx(hub, staff)
    try:
        ticket, case = await dispatch_service.get_in_scope(
            db_session=db_session, number=number[:20], scope=staff.principal.scope, lock=True
        )
        if action not in set(Action):
            raise IllegalAction(f"no action {action!r}")
        data = ActionInput(
            action=Action(action),
            reason=reason or None,
            department_id=await _department_id(db_session, department),
            amount=int(amount) if amount.isdigit() else None,
            unit=unit or None,
            park_until=_moment(park_until),
        )
        await actions.act(db_session=db_session, ticket=ticket, case=case, data=data, ctx=ctx)
    except REFUSALS as exc:
        await db_session.rollback()
        return await _case_page(
            request, db_session, staff, number[:20], error=str(exc), status_code=409
        )
    await db_session.commit()
    return RedirectResponse(f"/console/dispatch/cases/{ticket.public_number}", 303)


@router.post("/cases/{number}/extensions/{extension_id}")
async def decide_extension(
    request: Request,
    number: str,
    extension_id: int,
    hub: HubDep,
    db_session: SessionDep,
    staff: CaseStaff,
    approve: Annotated[str, Form(max_length=8)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approves or refuses a department's request for more time."""
    ctx = await _ctx(hub, staff)
    try:
        ticket, case = await dispatch_service.get_in_scope(
            db_session=db_session, number=number[:20], scope=staff.principal.scope, lock=True
        )
        extension = await db_session.get(Extension, extension_id, with_for_update=True)
        if extension is None or extension.ticket_id != ticket.id:
            raise dispatch_service.CaseNotFound(f"no extension {extension_id} on this case")
        await actions.decide_extension(
            db_session=db_session,
            ticket=ticket,
            case=case,
            extension=extension,
            approve=approve == "yes",
            note=note or None,
            ctx=ctx,
        )
    except REFUSALS as exc:
        await db_session.rollback()
        return await _case_page(
            request, db_session, staff, number[:20], error=str(exc), status_code=409
        )
    await db_session.commit()
    return RedirectResponse(f"/console/dispatch/cases/{ticket.public_number}", 303)


@router.post("/cases/{number}/merge")
async def merge(
    request: Request,
    number: str,
    hub: HubDep,
    db_session: SessionDep,
    staff: CaseStaff,
    into: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Merges this new report into the open case it duplicates."""
    ctx = await _ctx(hub, staff)
    try:
        locked: dict[str, Any] = {}
        for n in sorted({number[:20], into}):
            locked[n] = await dispatch_service.get_in_scope(
                db_session=db_session, number=n, scope=staff.principal.scope, lock=True
            )
        (ticket, case), (target_ticket, target_case) = locked[number[:20]], locked[into]
        await actions.merge(
            db_session=db_session,
            ticket=ticket,
            case=case,
            target_ticket=target_ticket,
            target_case=target_case,
            ctx=ctx,
        )
    except REFUSALS as exc:
        await db_session.rollback()
        return await _case_page(
            request, db_session, staff, number[:20], error=str(exc), status_code=409
        )
    await db_session.commit()
    return RedirectResponse(f"/console/dispatch/cases/{target_ticket.public_number}", 303)


@router.post("/cases/{number}/photos")
async def add_photo(
    request: Request,
    number: str,
    hub: HubDep,
    db_session: SessionDep,
    staff: CaseStaff,
    photo: Annotated[UploadFile, File()],
) -> Response:
    """A photo of the work done (or of the place), checked and stored like any upload."""
    try:
        ticket, _case = await dispatch_service.get_in_scope(
            db_session=db_session, number=number[:20], scope=staff.principal.scope, lock=True
        )
    except dispatch_service.CaseNotFound as exc:
        raise NotFound(staff.language) from exc
    data = await photo.read(hub.settings.media_max_bytes + 1)
    assert hub.media is not None
    try:
        await photos.add_photo(
            db_session=db_session,
            storage=hub.media,
            settings=hub.settings,
            ticket=ticket,
            data=data,
            declared_type=photo.content_type,
            source="upload",
            actor=staff.principal.actor,
        )
    except (MediaRejected, photos.TooManyPhotos) as exc:
        await db_session.rollback()
        reason = exc.reason if isinstance(exc, MediaRejected) else str(exc)
        return await _case_page(
            request, db_session, staff, number[:20], error=reason, status_code=422
        )
    await db_session.commit()
    return RedirectResponse(f"/console/dispatch/cases/{ticket.public_number}", 303)
