"""Owners' committee screens: ballots, the live tally, paper votes, and the protocol.

The tally redraws itself when the event stream says this ballot's votes changed (a
``ballot`` frame carrying its id), read again through a route that checks who may see it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.i18n import pick_name
from core.runtime import Hub
from core.tickets.wording import N_
from core.votes import ballots
from core.votes import service as votes_service
from core.votes.counting import current_results
from core.votes.models import Ballot, BallotVoterMember, Owner
from core.votes.presenters import ballot_out, ballots_out
from core.votes.service import MANAGE_ROLES, READ_ROLES, BallotNotFound, BallotRefused, NotAllowed
from core.web.deps import HubDep, SessionDep
from portal.console.auth import NotFound, Staff, allow
from portal.console.pages import fragment, page

router = APIRouter(prefix="/console/ballots", include_in_schema=False)
ReaderDep = Annotated[Staff, Depends(allow(*READ_ROLES))]
ManagerDep = Annotated[Staff, Depends(allow(*MANAGE_ROLES))]
REFUSALS = (BallotNotFound, NotAllowed, BallotRefused)
Reason = Annotated[str, Form(max_length=2000)]
BALLOT_STATUS_LABELS = (
    N_("ballot_status:draft"),
    N_("ballot_status:scheduled"),
    N_("ballot_status:open"),
    N_("ballot_status:closed"),
    N_("ballot_status:cancelled"),
)


@router.get("", response_class=HTMLResponse)
async def ballot_list(request: Request, db_session: SessionDep, staff: ReaderDep) -> Response:
    """The ballots the staff member may see (a committee its own), newest first."""
    reach = await votes_service.reach_of(db_session=db_session, principal=staff.principal)
    found = await db_session.scalars(
        votes_service.restrict(select(Ballot), reach).order_by(Ballot.id.desc()).limit(100)
    )
    items = await ballots_out(db_session, list(found))
    return page(request, staff, "console/votes/list.html", items=items, title=pick_name)


async def _ballot(
    db_session: AsyncSession, staff: Staff, ballot_id: int, lock: bool = False
) -> Ballot:
    try:
        return await votes_service.get_ballot(
            db_session=db_session, principal=staff.principal, ballot_id=ballot_id, lock=lock
        )
    except BallotNotFound as exc:
        raise NotFound(staff.language) from exc


async def _ballot_page(
    request: Request,
    db_session: AsyncSession,
    staff: Staff,
    ballot_id: int,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    ballot = await _ballot(db_session, staff, ballot_id)
    questions = await votes_service.questions_of(db_session=db_session, ballot_id=ballot.id)
    return page(
        request,
        staff,
        "console/votes/ballot.html",
        b=await ballot_out(db_session, ballot, questions),
        results=await current_results(db_session=db_session, ballot=ballot),
        manages=staff.role in MANAGE_ROLES,
        title=pick_name,
        error=error,
        status_code=status_code,
    )


@router.get("/{ballot_id}", response_class=HTMLResponse)
async def ballot_page(
    request: Request, ballot_id: int, db_session: SessionDep, staff: ReaderDep
) -> Response:
    """A ballot: its questions, the tally (live while open), and what the committee may do."""
    return await _ballot_page(request, db_session, staff, ballot_id)


@router.get("/{ballot_id}/tally", response_class=HTMLResponse)
async def tally(
    request: Request, ballot_id: int, db_session: SessionDep, staff: ReaderDep
) -> Response:
    """The tally alone, redrawn when the stream says a vote came in."""
    ballot = await _ballot(db_session, staff, ballot_id)
    results = await current_results(db_session=db_session, ballot=ballot)
    return fragment(
        request, staff, "console/votes/_tally.html", results=results, ballot_id=ballot.id
    )


async def _step(
    request: Request, hub: Hub, db_session: AsyncSession, staff: Staff, ballot_id: int, act: Any
) -> Response:
    ballot = await _ballot(db_session, staff, ballot_id, lock=True)
    try:
        await act(ballot)
    except REFUSALS as exc:
        await db_session.rollback()
        return await _ballot_page(request, db_session, staff, ballot_id, str(exc), 409)
    await db_session.commit()
    return RedirectResponse(f"/console/ballots/{ballot_id}", 303)


@router.post("/{ballot_id}/step")
async def step(
    request: Request,
    ballot_id: int,
    hub: HubDep,
    db_session: SessionDep,
    staff: ManagerDep,
    action: Annotated[str, Form(max_length=16)] = "",
    reason: Reason = "",
) -> Response:
    """Publishes a draft, cancels a ballot not yet open, or closes an open one early."""
    principal, now = staff.principal, utcnow()

    async def act(ballot: Ballot) -> None:
        if action == "publish":
            await ballots.publish_ballot(
                db_session=db_session, principal=principal, ballot=ballot, now=now
            )
        elif action in ("cancel", "close") and not reason.strip():
            raise BallotRefused("give the reason: it goes on the protocol")
        elif action == "cancel":
            await ballots.cancel_ballot(
                db_session=db_session, principal=principal, ballot=ballot, reason=reason, now=now
            )
        elif action == "close":
            await ballots.close_early(
                db_session=db_session,
                principal=principal,
                ballot=ballot,
                reason=reason,
                now=now,
                timezone=hub.settings.timezone,
            )
        else:
            raise BallotRefused(f"no action {action!r}")

    return await _step(request, hub, db_session, staff, ballot_id, act)


@router.post("/{ballot_id}/paper")
async def paper_vote(
    request: Request,
    ballot_id: int,
    hub: HubDep,
    db_session: SessionDep,
    staff: ManagerDep,
    owner: Annotated[str, Form(max_length=32)] = "",
    reference: Annotated[str, Form(max_length=100)] = "",
    choices: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Records a signed paper decision: the owner's key, its reference, "1:1 2:2" answers."""

    async def act(ballot: Ballot) -> None:
        picked = _choices(choices)
        voters = list(
            await db_session.scalars(
                select(BallotVoterMember.voter_id)
                .join(Owner, Owner.resident_id == BallotVoterMember.resident_id)
                .where(BallotVoterMember.ballot_id == ballot.id, Owner.code == owner.strip())
            )
        )
        if not voters or not reference.strip() or not picked:
            raise BallotRefused("give the owner's key, the paper's reference and the answers")
        await votes_service.cast(
            db_session=db_session,
            ballot=ballot,
            voter_ids=voters,
            picked=picked,
            channel="paper",
            now=utcnow(),
            idempotency_key=f"paper:{reference.strip()}",
            recorded_by=staff.principal.actor,
            message_ref=reference.strip(),
        )

    return await _step(request, hub, db_session, staff, ballot_id, act)


def _choices(text: str) -> dict[int, str]:
    """Reads "1:1 2:3" (question position: option) into a dict; bad parts are dropped."""
    picked = {}
    for part in text.replace(",", " ").split():
        position, _, option = part.partition(":")
        if position.isdigit() and option.isdigit() and len(option) == 1 and option != "0":
            picked[int(position)] = option
    return picked
