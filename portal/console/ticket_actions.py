"""What a staff member does on the ticket page: reply, note, assign, change status, merge,
split. Thin: each parses its form, calls the ticket service, and redraws its own panel
(with the reason beside the box when the service refuses).

With htmx a panel is swapped in place and the conversation redraws itself; without
JavaScript the form posts and the browser comes back to the ticket page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import gettext
from core.runtime import Hub
from core.tickets import assign as assign_service
from core.tickets import merge as merge_service
from core.tickets import notes as notes_service
from core.tickets import replies
from core.tickets import service as tickets_service
from core.tickets.actions_views import NOTE_ROLES, REPLY_ROLES
from core.tickets.actors import Actor
from core.tickets.enums import TicketStatus
from core.tickets.models import Ticket
from core.web.deps import HubDep, SessionDep
from portal.console import ticket_panels
from portal.console.auth import Staff, allow
from portal.console.nav import DESK
from portal.console.pages import fragment
from portal.console.ticket import Number, ticket_in_scope

router = APIRouter(prefix="/console/tickets", include_in_schema=False)
ReplierDep = Annotated[Staff, Depends(allow(*REPLY_ROLES))]
NoterDep = Annotated[Staff, Depends(allow(*NOTE_ROLES))]
DeskDep = Annotated[Staff, Depends(allow(*DESK))]
Text = Annotated[str, Form(max_length=8000)]
Short = Annotated[str, Form(max_length=32)]


async def _redraw(
    request: Request,
    hub: Hub,
    db_session: AsyncSession,
    ticket: Ticket,
    staff: Staff,
    template: str,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    """Redraws one panel after an action (or the whole page for a browser without htmx)."""
    if not request.headers.get("HX-Request"):
        return RedirectResponse(f"/console/tickets/{ticket.public_number}", 303)
    panels = await ticket_panels.panels(db_session=db_session, hub=hub, ticket=ticket, staff=staff)
    response = fragment(request, staff, template, ticket=ticket, **{**panels, **extra})
    response.status_code = status_code
    if status_code < 400:
        # The conversation and facts redraw at once (the stream also says so, a moment later).
        response.headers["HX-Trigger"] = "ticket-changed"
    return response


def _refusal(staff: Staff, prefix: str, code: str) -> str:
    """Returns a refusal in the staff member's words (codes have their own sentence)."""
    return gettext(staff.language, f"{prefix}:{code}")


@router.post("/{number}/reply")
async def reply(
    request: Request,
    number: Number,
    hub: HubDep,
    db_session: SessionDep,
    staff: ReplierDep,
    text: Text = "",
    channel: Short = "",
) -> Response:
    """Sends a reply through the outbox; a refusal shows its reason beside the box."""
    ticket = await ticket_in_scope(db_session, number, staff)
    try:
        await replies.send_reply(
            db_session=db_session,
            ticket=ticket,
            actor=Actor.staff(staff.id),
            text=text,
            channel=channel or None,
        )
    except replies.ReplyRefused as exc:
        return await _redraw(
            request,
            hub,
            db_session,
            ticket,
            staff,
            "console/_reply_box.html",
            status_code=422,
            reply_error=_refusal(staff, "reply_refused", exc.code),
            reply_text=text[:4000],
            reply_channel=channel,
        )
    await db_session.commit()
    notice = gettext(staff.language, "Reply queued; its delivery shows in the conversation.")
    return await _redraw(
        request, hub, db_session, ticket, staff, "console/_reply_box.html", reply_notice=notice
    )


@router.post("/{number}/note")
async def note(
    request: Request,
    number: Number,
    hub: HubDep,
    db_session: SessionDep,
    staff: NoterDep,
    text: Text = "",
) -> Response:
    """Adds an internal note; @username mentions a colleague who can see the request."""
    ticket = await ticket_in_scope(db_session, number, staff)
    try:
        await notes_service.add_note(
            db_session=db_session, ticket=ticket, author_id=staff.id, text=text
        )
    except notes_service.NoteRefused:
        return await _redraw(
            request,
            hub,
            db_session,
            ticket,
            staff,
            "console/_note_box.html",
            status_code=422,
            note_error=_refusal(staff, "note_refused", "invalid"),
            note_text=text[:4000],
        )
    await db_session.commit()
    notice = gettext(staff.language, "Note added.")
    return await _redraw(
        request, hub, db_session, ticket, staff, "console/_note_box.html", note_notice=notice
    )


def _id(value: str) -> int | None:
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


@router.post("/{number}/assign")
async def assign(
    request: Request,
    number: Number,
    hub: HubDep,
    db_session: SessionDep,
    staff: DeskDep,
    assignee: Short = "",
    department: Short = "",
) -> Response:
    """Assigns the request to me, a colleague or nobody, and optionally a department."""
    ticket = await ticket_in_scope(db_session, number, staff)
    target = staff.id if assignee == "me" else _id(assignee)
    try:
        if assignee not in ("", "me") and target is None:
            raise assign_service.AssignRefused("no_such_agent", "not a staff id")
        await assign_service.assign(
            db_session=db_session,
            ticket=ticket,
            actor=Actor.staff(staff.id),
            assignee_id=target,
            department_id=_id(department),
        )
    except assign_service.AssignRefused as exc:
        return await _redraw(
            request,
            hub,
            db_session,
            ticket,
            staff,
            "console/_ticket_side.html",
            status_code=422,
            side_error=_refusal(staff, "assign_refused", exc.code),
        )
    await db_session.commit()
    notice = gettext(staff.language, "Assignment saved.")
    return await _redraw(
        request, hub, db_session, ticket, staff, "console/_ticket_side.html", side_notice=notice
    )


@router.post("/{number}/status")
async def change_status(
    request: Request,
    number: Number,
    hub: HubDep,
    db_session: SessionDep,
    staff: DeskDep,
    status: Short = "",
) -> Response:
    """Moves a general request along its lifecycle (back offices move theirs by steps)."""
    ticket = await ticket_in_scope(db_session, number, staff)
    allowed = (
        ticket_panels.next_statuses(ticket)
        if ticket.back_office not in (ticket_panels.OWN_WORKFLOW)
        else []
    )
    if status not in allowed:
        return await _redraw(
            request,
            hub,
            db_session,
            ticket,
            staff,
            "console/_ticket_side.html",
            status_code=422,
            side_error=_refusal(staff, "status_refused", "not_allowed"),
        )
    tickets_service.change_status(
        db_session=db_session,
        ticket=ticket,
        status=TicketStatus(status),
        actor=Actor.staff(staff.id),
    )
    await db_session.commit()
    notice = gettext(staff.language, "Status saved.")
    return await _redraw(
        request, hub, db_session, ticket, staff, "console/_ticket_side.html", side_notice=notice
    )


@router.post("/{number}/merge")
async def merge(
    request: Request,
    number: Number,
    hub: HubDep,
    db_session: SessionDep,
    staff: DeskDep,
    into: Short = "",
    confirm: Short = "",
) -> Response:
    """Merges this request into another; two residents' requests ask for a yes first."""
    source = await ticket_in_scope(db_session, number, staff)
    target = await tickets_service.get_by_public_number(db_session=db_session, number=into)
    side = "console/_ticket_side.html"
    if target is None or not staff.principal.scope.allows(target):
        return await _redraw(
            request,
            hub,
            db_session,
            source,
            staff,
            side,
            status_code=422,
            side_error=_refusal(staff, "merge_refused", "no_such_ticket"),
            merge_into=into,
        )
    try:
        await merge_service.merge(
            db_session=db_session,
            source=source,
            target=target,
            actor=Actor.staff(staff.id),
            confirm=confirm == "yes",
        )
    except merge_service.MergeNeedsConfirmation:
        question = gettext(
            staff.language,
            "Requests {source} and {target} come from two different residents. Merge anyway?",
            source=source.public_number,
            target=target.public_number,
        )
        return await _redraw(
            request,
            hub,
            db_session,
            source,
            staff,
            side,
            status_code=409,
            merge_confirm=question,
            merge_into=into,
        )
    except merge_service.MergeRefused as exc:
        return await _redraw(
            request,
            hub,
            db_session,
            source,
            staff,
            side,
            status_code=422,
            side_error=_refusal(staff, "merge_refused", exc.code),
            merge_into=into,
        )
    await db_session.commit()
    return _go_to(request, target.public_number)


def _go_to(request: Request, number: str) -> Response:
    """Sends the browser to another ticket's page (htmx follows HX-Redirect)."""
    url = f"/console/tickets/{number}"
    if request.headers.get("HX-Request"):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, 303)


@router.post("/{number}/split")
async def split(
    request: Request,
    number: Number,
    db_session: SessionDep,
    staff: DeskDep,
    message_id: Short = "",
) -> Response:
    """Moves one of the resident's messages into a request of its own, and opens it."""
    ticket = await ticket_in_scope(db_session, number, staff)
    try:
        message = _id(message_id)
        if message is None:
            raise merge_service.MergeRefused("no_such_message", "not a message id")
        new = await merge_service.split(
            db_session=db_session, ticket=ticket, message_id=message, actor=Actor.staff(staff.id)
        )
    except merge_service.MergeRefused as exc:
        return Response(_refusal(staff, "merge_refused", exc.code), status_code=422)
    await db_session.commit()
    return _go_to(request, new.public_number)
