"""Carrying out workflow actions on a case: stage, clock, ticket status, events, notices.

Every action is one call inside the caller's transaction; a refused action raises before
anything is written, so a case is never left half-moved.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import Role, ScopeKind
from core.auth.service import Principal
from core.config import Settings
from core.dispatch import clock
from core.dispatch import service as dispatch_service
from core.dispatch.enums import (
    WORKING_STAGES,
    Action,
    ExtensionStatus,
    Stage,
    SuggestionStatus,
    Urgency,
)
from core.dispatch.models import Case, DuplicateSuggestion, Extension
from core.dispatch.notify import notify_followers, notify_reporter
from core.dispatch.workflow import (
    CENTRE,
    STATUS_OF_STAGE,
    IllegalAction,
    NotAllowed,
    check,
)
from core.routing.models import Category, Department
from core.routing.service import RoutingTable
from core.sla.calendar import LimitUnit
from core.tickets import service as tickets_service
from core.tickets.enums import EventKind, TicketKind
from core.tickets.models import Ticket

MAX_PARK = timedelta(days=730)
# What the centre does (verify, dispatch, park), never the department handling the case.
CENTRE_ACTIONS = frozenset(
    {
        Action.REGISTER,
        Action.CANCEL,
        Action.DISPATCH,
        Action.VERIFY_PASS,
        Action.VERIFY_FAIL,
        Action.PARK,
        Action.UNPARK,
    }
)
MAX_EXTENSION = {LimitUnit.WORKING_HOURS: 24 * 30, LimitUnit.WORKING_DAYS: 90}


@dataclass(frozen=True)
class ActionInput:
    action: Action
    reason: str | None = None
    department_id: int | None = None
    category_id: int | None = None
    urgency: Urgency | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    amount: int | None = None
    unit: str | None = None
    park_until: datetime | None = None


@dataclass
class ActionResult:
    extension: Extension | None = None
    outbox_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What every action needs besides the case: who, when, and the hub's data."""

    principal: Principal
    routing: RoutingTable
    settings: Settings
    now: datetime


def _move(
    db_session: AsyncSession,
    ticket: Ticket,
    case: Case,
    target: Stage,
    *,
    actor: str,
    action: str,
    reason: str | None = None,
    **data: Any,
) -> None:
    previous = case.stage
    case.stage = target
    status = STATUS_OF_STAGE[target]
    if ticket.status != status:
        tickets_service.change_status(
            db_session=db_session,
            ticket=ticket,
            status=status,
            actor=actor,
            reason=reason,
            enforce=False,
        )
    ticket.updated_at = datetime.now(ticket.created_at.tzinfo)
    tickets_service.add_event(
        db_session=db_session,
        ticket_id=ticket.id,
        kind=EventKind.STAGE_CHANGED,
        actor=actor,
        action=action,
        previous=str(previous),
        stage=str(target),
        reason=reason,
        **data,
    )


async def _register(
    db_session: AsyncSession, ticket: Ticket, case: Case, data: ActionInput, ctx: Context
) -> None:
    """Applies the verifier's corrections, then checks the registration conditions."""
    if data.category_id is not None:
        category = await db_session.get(Category, data.category_id)
        if category is None or category.kind != TicketKind.CITY_CASE or not category.active:
            raise IllegalAction("that category is not a city-case category")
        ticket.category_id = category.id
    if data.urgency is not None:
        case.urgency = data.urgency
    if data.address is not None:
        ticket.address = data.address[:500]
    if data.latitude is not None and data.longitude is not None:
        await place_case(
            db_session=db_session,
            ticket=ticket,
            latitude=data.latitude,
            longitude=data.longitude,
            max_age=ctx.settings.routing_cache_seconds,
        )
        if ticket.grid_cell_id is None:
            raise IllegalAction("that point is outside every unit grid cell")
    if ticket.category_id is None:
        raise IllegalAction("choose the case's category before registering it")
    if ticket.grid_cell_id is None:
        raise IllegalAction("give the case a location inside the grid before registering it")
    case.registered_at = ctx.now


async def place_case(
    *, db_session: AsyncSession, ticket: Ticket, latitude: float, longitude: float, max_age: float
) -> bool:
    """Puts a case at a point: its grid cell, community and district. Returns whether the
    point is inside the grid (outside, the point is kept and the cell cleared)."""
    ticket.latitude, ticket.longitude = latitude, longitude
    hit = await dispatch_service.locate(
        db_session=db_session, latitude=latitude, longitude=longitude, max_age=max_age
    )
    ticket.grid_cell_id = hit.cell_id if hit else None
    if hit is not None:
        ticket.community_id = hit.community_id
        ticket.district_id = hit.district_id
    return hit is not None


async def _dispatch(
    db_session: AsyncSession,
    ticket: Ticket,
    case: Case,
    department_id: int | None,
    ctx: Context,
    *,
    actor: str,
    automatic: bool,
) -> bool:
    """Hands the case to a department and starts its clock; False if nobody is responsible."""
    if department_id is None:
        department_id = await dispatch_service.responsible_department(
            db_session=db_session,
            category_id=ticket.category_id,
            district_id=ticket.district_id,
            community_id=ticket.community_id,
            grid_cell_id=ticket.grid_cell_id,
        )
    if department_id is None:
        route = ctx.routing.match(
            kind=TicketKind.CITY_CASE,
            category_id=ticket.category_id,
            district_id=ticket.district_id,
            community_id=ticket.community_id,
        )
        department_id = route.department_id
    if department_id is None:
        if automatic:
            return False
        raise IllegalAction("no department is responsible for this case: choose one")
    department = await db_session.get(Department, department_id)
    if department is None or not department.active:
        if automatic:  # the responsibility data points at a closed department: a person picks
            return False
        raise IllegalAction("that department does not exist or is inactive")
    redispatch = case.stage == Stage.RETURNED
    limit = await dispatch_service.time_limit(
        db_session=db_session,
        routing=ctx.routing,
        category_id=ticket.category_id,
        urgency=Urgency(case.urgency),
        district_id=ticket.district_id,
        community_id=ticket.community_id,
    )
    calendar = dispatch_service.calendar_for(ctx.routing, ticket.category_id)
    # The clock starts here (DOMAIN §1); a re-dispatch gives the new department the full
    # limit, because the time the wrong department held the case was not its to use.
    case.dispatched_at = ctx.now
    case.handle_due_at = (
        clock.due_after(calendar, ctx.now, limit.limit, limit.unit) if limit else None
    )
    ticket.department_id = department.id
    ticket.due_at = case.handle_due_at
    ticket.overdue = False
    _move(
        db_session,
        ticket,
        case,
        Stage.DISPATCHED,
        actor=actor,
        action=str(Action.DISPATCH),
        department_id=department.id,
        department=department.code,
        automatic=automatic,
        redispatch=redispatch,
        due_at=case.handle_due_at.isoformat() if case.handle_due_at else None,
    )
    return True


def _extension_request(ticket: Ticket, case: Case, data: ActionInput, ctx: Context) -> Extension:
    approvers = ctx.settings.dispatch_extension_approvers
    level = case.extensions + 1
    if level > len(approvers):
        raise IllegalAction(f"a case may be extended at most {len(approvers)} times")
    unit = data.unit or LimitUnit.WORKING_DAYS
    if unit not in MAX_EXTENSION:
        raise IllegalAction("an extension is given in working_hours or working_days")
    if data.amount is None or not 0 < data.amount <= MAX_EXTENSION[unit]:
        raise IllegalAction(f"an extension needs an amount from 1 to {MAX_EXTENSION[unit]} {unit}")
    return Extension(
        ticket_id=ticket.id,
        level=level,
        amount=data.amount,
        unit=unit,
        reason=(data.reason or "").strip(),
        status=ExtensionStatus.PENDING,
        requested_by=ctx.principal.actor,
        requested_at=ctx.now,
    )


async def act(
    *, db_session: AsyncSession, ticket: Ticket, case: Case, data: ActionInput, ctx: Context
) -> ActionResult:
    """Carries out one workflow action on a case, or raises IllegalAction / NotAllowed."""
    # Autoflush off: the lookups an action makes (department, limits) do not need its own
    # pending changes, and flushing before each wrote the ticket and case twice.
    with db_session.no_autoflush:
        return await _act(db_session=db_session, ticket=ticket, case=case, data=data, ctx=ctx)


@dataclass(frozen=True)
class _Step:
    """One action's inputs, worked out once so that each stage's handler stays small."""

    db_session: AsyncSession
    ticket: Ticket
    case: Case
    data: ActionInput
    ctx: Context
    actor: str
    reason: str | None
    result: ActionResult

    def move(self, target: Stage, **data: Any) -> None:
        """Moves the case to ``target`` as this action, recording ``data`` on the event."""
        _move(
            self.db_session,
            self.ticket,
            self.case,
            target,
            actor=self.actor,
            action=self.data.action,
            **data,
        )


async def _act(
    *, db_session: AsyncSession, ticket: Ticket, case: Case, data: ActionInput, ctx: Context
) -> ActionResult:
    if ctx.principal.scope.kind == ScopeKind.DEPARTMENT and data.action in CENTRE_ACTIONS:
        # A department's own supervisor must not verify, park or dispatch its own work.
        raise NotAllowed(f"a department's staff may not {data.action} a case")
    check(data.action, Stage(case.stage), ctx.principal.role, data.reason)
    step = _Step(
        db_session=db_session,
        ticket=ticket,
        case=case,
        data=data,
        ctx=ctx,
        actor=ctx.principal.actor,
        reason=(data.reason or "").strip() or None,
        result=ActionResult(),
    )
    await _HANDLERS[data.action](step)
    return step.result


async def _on_register(step: _Step) -> None:
    await _register(step.db_session, step.ticket, step.case, step.data, step.ctx)
    step.move(Stage.REGISTERED)
    if step.ctx.settings.dispatch_auto_dispatch:
        await _dispatch(
            step.db_session, step.ticket, step.case, None, step.ctx, actor="system", automatic=True
        )


async def _on_dispatch(step: _Step) -> None:
    await _dispatch(
        step.db_session,
        step.ticket,
        step.case,
        step.data.department_id,
        step.ctx,
        actor=step.actor,
        automatic=False,
    )


async def _on_start(step: _Step) -> None:
    step.move(Stage.HANDLING)


async def _on_cancel(step: _Step) -> None:
    step.move(Stage.CANCELLED, reason=step.reason)
    values = {"number": step.ticket.public_number, "why_cancelled": step.reason}
    step.result.outbox_ids += await _tell_everyone(
        step.db_session, step.ticket, "case_cancelled", values
    )


async def _on_return(step: _Step) -> None:
    ticket, case = step.ticket, step.case
    returned_by = ticket.department_id
    # The next department asks for its own time: the last one's request lapses.
    await step.db_session.execute(
        update(Extension)
        .where(Extension.ticket_id == ticket.id, Extension.status == ExtensionStatus.PENDING)
        .values(
            status=ExtensionStatus.REFUSED,
            decided_by="system",
            decided_at=step.ctx.now,
            decision_note="the case was returned",
        )
    )
    case.returns += 1
    case.handle_due_at = None
    ticket.department_id, ticket.due_at, ticket.overdue = None, None, False
    step.move(Stage.RETURNED, reason=step.reason, returned_by=returned_by)


async def _on_report(step: _Step) -> None:
    ticket, case, now = step.ticket, step.case, step.ctx.now
    case.reported_at = now
    case.handled_on_time = case.handle_due_at is None or now <= case.handle_due_at
    case.result_note = step.reason
    # Waiting for the inspector is the centre's time, not the department's.
    ticket.due_at = None
    step.move(Stage.REPORTED, reason=step.reason, on_time=case.handled_on_time)


async def _on_verify_pass(step: _Step) -> None:
    step.case.closed_at = step.ctx.now
    step.move(Stage.CLOSED, reason=step.reason)
    values = {"number": step.ticket.public_number, "outcome": step.case.result_note or ""}
    step.result.outbox_ids += await _tell_everyone(
        step.db_session, step.ticket, "case_closed", values
    )


async def _on_verify_fail(step: _Step) -> None:
    ticket, case, now = step.ticket, step.case, step.ctx.now
    case.reworks += 1
    # Handling that failed inspection was not handling: the next report counts.
    case.reported_at = case.handled_on_time = None
    ticket.due_at = case.handle_due_at
    ticket.overdue = bool(case.handle_due_at and case.handle_due_at < now)
    step.move(Stage.REWORK, reason=step.reason)


async def _on_park(step: _Step) -> None:
    _park(step.ticket, step.case, step.data, step.ctx)
    park_due_at = step.case.park_due_at
    step.move(
        Stage.PARKED,
        reason=step.reason,
        park_due_at=park_due_at.isoformat() if park_due_at else None,
    )


async def _on_unpark(step: _Step) -> None:
    ticket, case, now = step.ticket, step.case, step.ctx.now
    calendar = dispatch_service.calendar_for(step.ctx.routing, ticket.category_id)
    # A case with no time limit had no clock to stop, and gets none back.
    case.handle_due_at = (
        clock.resumed_due(calendar, now, timedelta(seconds=case.remaining_seconds))
        if case.remaining_seconds is not None
        else None
    )
    case.parked_at = case.park_due_at = case.remaining_seconds = None
    ticket.due_at, ticket.overdue = case.handle_due_at, False
    step.move(
        Stage.HANDLING,
        due_at=case.handle_due_at.isoformat() if case.handle_due_at else None,
    )


async def _on_request_extension(step: _Step) -> None:
    ticket = step.ticket
    pending = await step.db_session.scalar(
        select(Extension.id).where(
            Extension.ticket_id == ticket.id, Extension.status == ExtensionStatus.PENDING
        )
    )
    if pending is not None:
        raise IllegalAction("an extension request for this case is already waiting")
    extension = _extension_request(ticket, step.case, step.data, step.ctx)
    step.result.extension = extension
    step.db_session.add(extension)
    tickets_service.add_event(
        db_session=step.db_session,
        ticket_id=ticket.id,
        kind=EventKind.EXTENSION,
        actor=step.actor,
        requested=True,
        level=extension.level,
        amount=extension.amount,
        unit=extension.unit,
        reason=step.reason,
    )


# One handler per action: `check` has already refused what the stage or role does not allow,
# so each handler only carries its action out. A test fails if an Action has no handler.
_HANDLERS: dict[Action, Callable[[_Step], Awaitable[None]]] = {
    Action.REGISTER: _on_register,
    Action.DISPATCH: _on_dispatch,
    Action.START: _on_start,
    Action.CANCEL: _on_cancel,
    Action.RETURN: _on_return,
    Action.REPORT: _on_report,
    Action.VERIFY_PASS: _on_verify_pass,
    Action.VERIFY_FAIL: _on_verify_fail,
    Action.PARK: _on_park,
    Action.UNPARK: _on_unpark,
    Action.REQUEST_EXTENSION: _on_request_extension,
}


def _park(ticket: Ticket, case: Case, data: ActionInput, ctx: Context) -> None:
    """Stops the department's clock, keeping the working time left, and starts the park's."""
    calendar = dispatch_service.calendar_for(ctx.routing, ticket.category_id)
    now = ctx.now
    if data.park_until is not None and not now < data.park_until <= now + MAX_PARK:
        raise IllegalAction("a case is parked until a time in the future, within two years")
    case.parked_at = now
    case.remaining_seconds = (
        int(clock.time_left(calendar, now, case.handle_due_at).total_seconds())
        if case.handle_due_at
        else None
    )
    case.park_due_at = data.park_until or clock.due_after(
        calendar, now, ctx.settings.dispatch_park_days, LimitUnit.WORKING_DAYS
    )
    ticket.due_at, ticket.overdue = case.park_due_at, False


def may_approve(role: Role, level: int, approvers: tuple[str, ...]) -> bool:
    """Whether ``role`` may approve the ``level``-th extension: its approver or one above."""
    if role is Role.ADMIN:
        return True
    return role in approvers[level - 1 :] if 0 < level <= len(approvers) else False


async def decide_extension(
    *,
    db_session: AsyncSession,
    ticket: Ticket,
    case: Case,
    extension: Extension,
    approve: bool,
    note: str | None,
    ctx: Context,
) -> None:
    """Approves (the clock grows) or refuses a department's extension request."""
    if ctx.principal.scope.kind == ScopeKind.DEPARTMENT:
        raise NotAllowed("a department's staff may not decide its own extension requests")
    if extension.status != ExtensionStatus.PENDING:
        raise IllegalAction(f"this extension request was already {extension.status}")
    if not may_approve(
        ctx.principal.role, extension.level, ctx.settings.dispatch_extension_approvers
    ):
        approvers = ctx.settings.dispatch_extension_approvers
        needed = approvers[extension.level - 1] if extension.level <= len(approvers) else "admin"
        raise NotAllowed(f"extension {extension.level} of a case needs a {needed}'s approval")
    if approve and Stage(case.stage) not in WORKING_STAGES:
        raise IllegalAction(f"the case is {case.stage}: there is no clock to extend")
    extension.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    extension.decided_by, extension.decided_at = ctx.principal.actor, ctx.now
    extension.decision_note = (note or "").strip() or None
    if approve:
        calendar = dispatch_service.calendar_for(ctx.routing, ticket.category_id)
        base = case.handle_due_at or ctx.now
        case.handle_due_at = clock.extended(calendar, base, extension.amount, extension.unit)
        case.extensions += 1
        ticket.due_at = case.handle_due_at
        ticket.overdue = case.handle_due_at < ctx.now
    tickets_service.add_event(
        db_session=db_session,
        ticket_id=ticket.id,
        kind=EventKind.EXTENSION,
        actor=ctx.principal.actor,
        decided=str(extension.status),
        level=extension.level,
        due_at=case.handle_due_at.isoformat() if case.handle_due_at else None,
        note=extension.decision_note,
    )


async def merge(
    *,
    db_session: AsyncSession,
    ticket: Ticket,
    case: Case,
    target_ticket: Ticket,
    target_case: Case,
    ctx: Context,
) -> list[int]:
    """Joins a new report to the open case it duplicates; its reporter follows that case.

    Returns the outbox ids to deliver (the reporter is told which case they now follow).
    """
    if ctx.principal.role not in CENTRE:
        raise NotAllowed(f"the role {ctx.principal.role} may not merge cases")
    if Stage(case.stage) not in (Stage.ACCEPTED, Stage.REGISTERED):
        raise IllegalAction(f"only a new report can be merged; this one is {case.stage}")
    if target_ticket.id == ticket.id:
        raise IllegalAction("a case cannot be merged into itself")
    if Stage(target_case.stage) in (Stage.CLOSED, Stage.CANCELLED, Stage.MERGED):
        raise IllegalAction(f"case {target_ticket.public_number} is {target_case.stage}")
    case.merged_into_id = target_ticket.id
    case.closed_at = ctx.now
    # Anyone already following this report now follows the case it joins.
    await db_session.execute(
        update(Case).where(Case.merged_into_id == ticket.id).values(merged_into_id=target_ticket.id)
    )
    await db_session.execute(
        update(DuplicateSuggestion)
        .where(
            DuplicateSuggestion.ticket_id == ticket.id,
            DuplicateSuggestion.candidate_id == target_ticket.id,
        )
        .values(status=SuggestionStatus.MERGED)
    )
    _move(
        db_session,
        ticket,
        case,
        Stage.MERGED,
        actor=ctx.principal.actor,
        action="merge",
        into=target_ticket.public_number,
    )
    tickets_service.add_event(
        db_session=db_session,
        ticket_id=target_ticket.id,
        kind=EventKind.MERGED,
        actor=ctx.principal.actor,
        joined=ticket.public_number,
    )
    values = {"number": ticket.public_number, "into": target_ticket.public_number}
    row = await notify_reporter(
        db_session=db_session, ticket=ticket, notice="case_merged", **values
    )
    return [row] if row is not None else []


async def _tell_everyone(
    db_session: AsyncSession, ticket: Ticket, notice: str, values: dict[str, Any]
) -> list[int]:
    """Tells the reporter and every follower of a case how it ended."""
    ids: list[int] = []
    row = await notify_reporter(db_session=db_session, ticket=ticket, notice=notice, **values)
    if row is not None:
        ids.append(row)
    ids += await notify_followers(db_session=db_session, ticket=ticket, notice=notice, **values)
    return ids
