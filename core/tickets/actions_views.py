"""REST API for what staff do on a ticket: reply, note, assign, merge, split; canned replies.

Every action is recorded in the ticket's history with the caller as actor; a refusal is a
422 (or 409 for a merge that needs a yes) whose ``detail`` carries a code and a message.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field

from core.auth.enums import Role
from core.auth.service import Principal
from core.tickets import assign as assign_service
from core.tickets import canned as canned_service
from core.tickets import merge as merge_service
from core.tickets import notes as notes_service
from core.tickets import replies
from core.tickets.actors import Actor
from core.tickets.enums import ActorKind
from core.tickets.views import _ticket_in_scope
from core.web.deps import ADMIN_ROLES, STAFF_ROLES, DbId, SessionDep, require_roles

router = APIRouter(prefix="/tickets", tags=["tickets"])
canned_router = APIRouter(prefix="/canned-responses", tags=["tickets"])

DESK = (Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
REPLY_ROLES = (*DESK, Role.DEPARTMENT)
NOTE_ROLES = (*DESK, Role.DEPARTMENT, Role.INSPECTOR)
ReplierDep = Annotated[Principal, Depends(require_roles(*REPLY_ROLES))]
NoterDep = Annotated[Principal, Depends(require_roles(*NOTE_ROLES))]
DeskDep = Annotated[Principal, Depends(require_roles(*DESK))]
StaffDep = Annotated[Principal, Depends(require_roles(*STAFF_ROLES))]
AdminDep = Annotated[Principal, Depends(require_roles(*ADMIN_ROLES))]
UNPROCESSABLE = status.HTTP_422_UNPROCESSABLE_CONTENT


def refusal(code: str, message: str, status_code: int = UNPROCESSABLE) -> HTTPException:
    """Returns the error a console shows beside the box: a code and a sentence."""
    return HTTPException(status_code, {"code": code, "message": message})


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=replies.MAX_TEXT)
    channel: str | None = Field(default=None, max_length=16, pattern=r"^[a-z0-9_]+$")


class ReplyOut(BaseModel):
    outbox_id: int
    channel: str
    status: str


class ReplyOptionOut(BaseModel):
    channel: str
    address: str | None
    available: bool
    reason: str | None
    is_origin: bool


@router.get("/{number}/reply-options", response_model=list[ReplyOptionOut])
async def reply_options(
    number: str, db_session: SessionDep, principal: ReplierDep
) -> list[ReplyOptionOut]:
    """Which channels a reply can take, and why the others cannot."""
    ticket = await _ticket_in_scope(db_session, number, principal)
    options = await replies.reply_options(db_session=db_session, ticket=ticket)
    return [ReplyOptionOut(**o.__dict__) for o in options]


@router.post("/{number}/replies", response_model=ReplyOut, status_code=status.HTTP_201_CREATED)
async def send_reply(
    number: str, body: ReplyIn, db_session: SessionDep, principal: ReplierDep
) -> ReplyOut:
    """Replies to the resident on the request's channel (or ``channel``) via the outbox."""
    ticket = await _ticket_in_scope(db_session, number, principal)
    try:
        message = await replies.send_reply(
            db_session=db_session,
            ticket=ticket,
            actor=Actor.parse(principal.actor),
            text=body.text,
            channel=body.channel,
        )
    except replies.ReplyRefused as exc:
        raise refusal(exc.code, str(exc)) from exc
    await db_session.commit()
    return ReplyOut(outbox_id=message.id, channel=message.channel, status=str(message.status))


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=notes_service.MAX_NOTE)


class NoteOut(BaseModel):
    message_id: int
    mentions: list[int]


def _staff_id(principal: Principal) -> int:
    actor = Actor.parse(principal.actor)
    if actor.kind is not ActorKind.STAFF or actor.id is None:
        # A note is a colleague's word: a partner system's key has nobody to sign it.
        raise HTTPException(status.HTTP_403_FORBIDDEN, "notes are written by staff members")
    return actor.id


@router.post("/{number}/notes", response_model=NoteOut, status_code=status.HTTP_201_CREATED)
async def add_note(
    number: str, body: NoteIn, db_session: SessionDep, principal: NoterDep
) -> NoteOut:
    """Adds an internal note (never sent to the resident); @username mentions colleagues."""
    author = _staff_id(principal)
    ticket = await _ticket_in_scope(db_session, number, principal)
    try:
        note = await notes_service.add_note(
            db_session=db_session, ticket=ticket, author_id=author, text=body.text
        )
    except notes_service.NoteRefused as exc:
        raise refusal("invalid", str(exc)) from exc
    await db_session.flush()
    message_id = note.message.id
    await db_session.commit()
    return NoteOut(message_id=message_id, mentions=note.mentions)


class AssignIn(BaseModel):
    # "me", a colleague's staff id, or null to put it back in the queue.
    assignee: Literal["me"] | Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    department_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class Done(BaseModel):
    number: str
    status: str


@router.post("/{number}/assign", response_model=Done)
async def assign(number: str, body: AssignIn, db_session: SessionDep, principal: DeskDep) -> Done:
    """Assigns the request to the caller ("me"), a colleague or nobody, and a department."""
    ticket = await _ticket_in_scope(db_session, number, principal)
    assignee = _staff_id(principal) if body.assignee == "me" else body.assignee
    try:
        await assign_service.assign(
            db_session=db_session,
            ticket=ticket,
            actor=Actor.parse(principal.actor),
            assignee_id=assignee if isinstance(assignee, int) else None,
            department_id=body.department_id,
        )
    except assign_service.AssignRefused as exc:
        raise refusal(exc.code, str(exc)) from exc
    await db_session.commit()
    return Done(number=ticket.public_number, status=str(ticket.status))


class MergeIn(BaseModel):
    into: str = Field(min_length=1, max_length=20)
    confirm: bool = False


@router.post("/{number}/merge", response_model=Done)
async def merge(number: str, body: MergeIn, db_session: SessionDep, principal: DeskDep) -> Done:
    """Merges this request into ``into``; two residents' requests need ``confirm`` (409)."""
    source = await _ticket_in_scope(db_session, number, principal)
    target = await _ticket_in_scope(db_session, body.into, principal)
    try:
        kept = await merge_service.merge(
            db_session=db_session,
            source=source,
            target=target,
            actor=Actor.parse(principal.actor),
            confirm=body.confirm,
        )
    except merge_service.MergeNeedsConfirmation as exc:
        raise refusal(exc.code, str(exc), status.HTTP_409_CONFLICT) from exc
    except merge_service.MergeRefused as exc:
        raise refusal(exc.code, str(exc)) from exc
    await db_session.commit()
    return Done(number=kept.public_number, status=str(kept.status))


class SplitIn(BaseModel):
    message_id: Annotated[int, Field(ge=1, le=2**31 - 1)]


@router.post("/{number}/split", response_model=Done, status_code=status.HTTP_201_CREATED)
async def split(number: str, body: SplitIn, db_session: SessionDep, principal: DeskDep) -> Done:
    """Moves one of the resident's messages out into a new request; returns the new one."""
    ticket = await _ticket_in_scope(db_session, number, principal)
    try:
        new = await merge_service.split(
            db_session=db_session,
            ticket=ticket,
            message_id=body.message_id,
            actor=Actor.parse(principal.actor),
        )
    except merge_service.MergeRefused as exc:
        raise refusal(exc.code, str(exc)) from exc
    await db_session.commit()
    return Done(number=new.public_number, status=str(new.status))


class CannedIn(BaseModel):
    language: Literal["en", "ru", "zh"]
    title: str = Field(min_length=1, max_length=canned_service.MAX_TITLE)
    body: str = Field(min_length=1, max_length=canned_service.MAX_BODY)
    active: bool = True


class CannedOut(CannedIn):
    id: int


def _canned_out(row: canned_service.CannedResponse) -> CannedOut:
    return CannedOut(
        id=row.id,
        language=row.language,
        title=row.title,
        body=row.body,
        active=row.active,
    )


@canned_router.get("", response_model=list[CannedOut])
async def list_canned(
    db_session: SessionDep,
    principal: StaffDep,
    language: Annotated[Literal["en", "ru", "zh"] | None, Query()] = None,
) -> list[CannedOut]:
    """The canned responses, of one language if asked."""
    rows = await canned_service.list_canned(db_session=db_session, language=language)
    return [_canned_out(row) for row in rows]


@canned_router.post("", response_model=CannedOut, status_code=status.HTTP_201_CREATED)
async def create_canned(body: CannedIn, db_session: SessionDep, principal: AdminDep) -> CannedOut:
    """Adds a canned response (supervisors and admins)."""
    try:
        row = await canned_service.create(
            db_session=db_session, language=body.language, title=body.title, body=body.body
        )
    except canned_service.CannedRefused as exc:
        raise refusal("invalid", str(exc)) from exc
    out = _canned_out(row)
    await db_session.commit()
    return out


@canned_router.put("/{canned_id}", response_model=CannedOut)
async def update_canned(
    canned_id: DbId, body: CannedIn, db_session: SessionDep, principal: AdminDep
) -> CannedOut:
    """Changes a canned response, or retires it (``active: false``)."""
    try:
        row = await canned_service.update(
            db_session=db_session,
            canned_id=canned_id,
            language=body.language,
            title=body.title,
            body=body.body,
            active=body.active,
        )
    except canned_service.CannedRefused as exc:
        raise refusal("invalid", str(exc)) from exc
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such canned response")
    out = _canned_out(row)
    await db_session.commit()
    return out
