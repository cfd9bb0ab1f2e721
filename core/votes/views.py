"""REST API of the owners' votes back office (/api/v1/votes): rule sets, the owner register,
ballots and their lifecycle, paper decisions, tallies, audit lists and protocols. Thin:
parse, call a service, map domain errors to 4xx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import Role
from core.auth.service import Principal
from core.db import utcnow
from core.i18n import gettext
from core.importing.schemas import ImportOut
from core.importing.service import ImportOptions, ImportRejected, run_import
from core.residents.service import InvalidAddress, normalise_phone
from core.territory.models import Building, Community, EstateBuilding, Premises, PremisesOwner
from core.votes import ballots, protocol
from core.votes import service as votes_service
from core.votes.counting import current_results
from core.votes.enums import BallotStatus, PhoneStatus
from core.votes.models import Ballot, BallotVoterMember, Owner, OwnerPhone
from core.votes.presenters import ballot_out, ballots_out, owners_of_building, rule_set_out
from core.votes.register import FINISHERS, IMPORTERS, confirm_phone
from core.votes.rules import rule_sets
from core.votes.schemas import (
    BallotIn,
    BallotOut,
    CastOut,
    EndIn,
    OwnerOut,
    PaperVoteIn,
    PhoneConfirmIn,
    RuleSetOut,
    TallyOut,
)
from core.votes.service import (
    MANAGE_ROLES,
    READ_ROLES,
    BallotNotFound,
    BallotRefused,
    NotAllowed,
    Reach,
    ScopeRefused,
)
from core.votes.tally import area_text
from core.web.deps import CityAdminDep, DbId, HubDep, SessionDep, require_roles

router = APIRouter(prefix="/votes", tags=["votes"])
# The printable protocol is a page of this back office, standalone (no portal base), so
# its template lives here and the core never reaches into the portal's templates.
PAGES = Jinja2Templates(directory=str(FilePath(__file__).parent / "templates"))

ReaderDep = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
ManagerDep = Annotated[Principal, Depends(require_roles(*MANAGE_ROLES))]
AuthorityDep = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))]
TEXT_BODY = Annotated[str, Body(media_type="text/plain", max_length=50_000_000)]


def refuse(exc: Exception) -> HTTPException:
    """Maps a domain refusal to its HTTP status: 404, 403, 422 or 409."""
    if isinstance(exc, NotAllowed):
        return HTTPException(status.HTTP_403_FORBIDDEN, str(exc))
    if isinstance(exc, BallotNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    if isinstance(exc, ScopeRefused):
        return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


REFUSALS = (BallotNotFound, NotAllowed, BallotRefused)


async def _ballot(
    db_session: AsyncSession, principal: Principal, ballot_id: int, lock: bool = False
) -> Ballot:
    try:
        return await votes_service.get_ballot(
            db_session=db_session, principal=principal, ballot_id=ballot_id, lock=lock
        )
    except BallotNotFound as exc:
        raise refuse(exc) from exc


async def _out(db_session: AsyncSession, ballot: Ballot) -> BallotOut:
    questions = await votes_service.questions_of(db_session=db_session, ballot_id=ballot.id)
    return await ballot_out(db_session, ballot, questions)


@router.get("/rule-sets", response_model=list[RuleSetOut])
async def list_rule_sets(_principal: ReaderDep) -> list[RuleSetOut]:
    """Lists the rule sets ballots can run under, with their matter types."""
    return [rule_set_out(rs) for _key, rs in sorted(rule_sets().items())]


@router.get("/ballots", response_model=list[BallotOut])
async def list_ballots(
    db_session: SessionDep,
    principal: ReaderDep,
    ballot_status: Annotated[BallotStatus | None, Query(alias="status")] = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> list[BallotOut]:
    """Lists the ballots the caller may see, newest first."""
    reach = await votes_service.reach_of(db_session=db_session, principal=principal)
    query = votes_service.restrict(select(Ballot), reach)
    if ballot_status is not None:
        query = query.where(Ballot.status == ballot_status)
    found = await db_session.scalars(query.order_by(Ballot.id.desc()).limit(limit).offset(offset))
    return await ballots_out(db_session, list(found))


@router.post("/ballots", response_model=BallotOut, status_code=status.HTTP_201_CREATED)
async def create_ballot(
    data: BallotIn, hub: HubDep, db_session: SessionDep, principal: ManagerDep
) -> BallotOut:
    """Writes a draft ballot, checked against its rule set (dates, matters, SMS length)."""
    try:
        ballot = await ballots.create_ballot(
            db_session=db_session,
            principal=principal,
            data=data,
            now=utcnow(),
            max_parts=hub.settings.sms_max_parts,
            timezone=hub.settings.timezone,
        )
    except REFUSALS as exc:
        await db_session.rollback()
        raise refuse(exc) from exc
    out = await _out(db_session, ballot)
    await db_session.commit()
    return out


@router.get("/ballots/{ballot_id}", response_model=BallotOut)
async def get_ballot(ballot_id: DbId, db_session: SessionDep, principal: ReaderDep) -> BallotOut:
    """Returns a ballot with its questions."""
    return await _out(db_session, await _ballot(db_session, principal, ballot_id))


@router.put("/ballots/{ballot_id}", response_model=BallotOut)
async def update_ballot(
    ballot_id: DbId, data: BallotIn, hub: HubDep, db_session: SessionDep, principal: ManagerDep
) -> BallotOut:
    """Rewrites a draft ballot; a published one cannot change."""
    ballot = await _ballot(db_session, principal, ballot_id, lock=True)
    try:
        await ballots.update_ballot(
            db_session=db_session,
            principal=principal,
            ballot=ballot,
            data=data,
            now=utcnow(),
            max_parts=hub.settings.sms_max_parts,
            timezone=hub.settings.timezone,
        )
    except REFUSALS as exc:
        await db_session.rollback()
        raise refuse(exc) from exc
    out = await _out(db_session, ballot)
    await db_session.commit()
    return out


@router.delete("/ballots/{ballot_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_ballot(ballot_id: DbId, db_session: SessionDep, principal: ManagerDep) -> Response:
    """Deletes a draft."""
    ballot = await _ballot(db_session, principal, ballot_id, lock=True)
    try:
        await ballots.delete_draft(db_session=db_session, principal=principal, ballot=ballot)
    except REFUSALS as exc:
        await db_session.rollback()
        raise refuse(exc) from exc
    await db_session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/ballots/{ballot_id}/publish", response_model=BallotOut)
async def publish_ballot(
    ballot_id: DbId, db_session: SessionDep, principal: ManagerDep
) -> BallotOut:
    """Fixes the agenda: owners are told on the notice date, voting opens on time."""
    ballot = await _ballot(db_session, principal, ballot_id, lock=True)
    try:
        await ballots.publish_ballot(
            db_session=db_session, principal=principal, ballot=ballot, now=utcnow()
        )
    except REFUSALS as exc:
        await db_session.rollback()
        raise refuse(exc) from exc
    out = await _out(db_session, ballot)
    await db_session.commit()
    return out


@router.post("/ballots/{ballot_id}/cancel", response_model=BallotOut)
async def cancel_ballot(
    ballot_id: DbId, data: EndIn, db_session: SessionDep, principal: ManagerDep
) -> BallotOut:
    """Withdraws a ballot that has not opened, with the reason."""
    ballot = await _ballot(db_session, principal, ballot_id, lock=True)
    try:
        await ballots.cancel_ballot(
            db_session=db_session,
            principal=principal,
            ballot=ballot,
            reason=data.reason,
            now=utcnow(),
        )
    except REFUSALS as exc:
        await db_session.rollback()
        raise refuse(exc) from exc
    out = await _out(db_session, ballot)
    await db_session.commit()
    return out


@router.post("/ballots/{ballot_id}/close", response_model=BallotOut)
async def close_ballot(
    ballot_id: DbId, data: EndIn, hub: HubDep, db_session: SessionDep, principal: ManagerDep
) -> BallotOut:
    """Closes an open ballot early, with the reason: the tally is frozen and owners told."""
    ballot = await _ballot(db_session, principal, ballot_id, lock=True)
    try:
        await ballots.close_early(
            db_session=db_session,
            principal=principal,
            ballot=ballot,
            reason=data.reason,
            now=utcnow(),
            timezone=hub.settings.timezone,
        )
    except REFUSALS as exc:
        await db_session.rollback()
        raise refuse(exc) from exc
    # The owners' notices are queued once this commits (core.events.collector).
    await db_session.commit()
    await db_session.refresh(ballot)
    return await _out(db_session, ballot)


@router.post("/ballots/{ballot_id}/paper-votes", response_model=CastOut)
async def record_paper_vote(
    ballot_id: DbId, data: PaperVoteIn, db_session: SessionDep, principal: ManagerDep
) -> CastOut:
    """Records a signed paper decision handed in while the ballot is open."""
    ballot = await _ballot(db_session, principal, ballot_id)
    voter_ids = list(
        await db_session.scalars(
            select(BallotVoterMember.voter_id)
            .join(Owner, Owner.resident_id == BallotVoterMember.resident_id)
            .where(BallotVoterMember.ballot_id == ballot.id, Owner.code == data.owner)
        )
    )
    if not voter_ids:
        raise HTTPException(status.HTTP_409_CONFLICT, f"owner {data.owner!r} has no vote here")
    try:
        result = await votes_service.cast(
            db_session=db_session,
            ballot=ballot,
            voter_ids=voter_ids,
            picked=dict(data.choices),
            channel="paper",
            now=utcnow(),
            idempotency_key=f"paper:{data.reference}",
            recorded_by=principal.actor,
            message_ref=data.reference,
        )
    except REFUSALS as exc:
        await db_session.rollback()
        raise refuse(exc) from exc
    await db_session.commit()
    return CastOut(counted=result.counted, replaced=result.replaced, kept=result.kept)


@router.get("/ballots/{ballot_id}/tally", response_model=TallyOut)
async def tally(ballot_id: DbId, db_session: SessionDep, principal: ReaderDep) -> TallyOut:
    """Returns the tally: as frozen at closing, or as it stands while voting is open."""
    ballot = await _ballot(db_session, principal, ballot_id)
    results = await current_results(db_session=db_session, ballot=ballot)
    if results is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"ballot {ballot.id} has not opened")
    return TallyOut(
        ballot=ballot.id,
        status=ballot.status,
        final=ballot.results is not None,
        rule_set=ballot.rule_set,
        edition=ballot.edition,
        total_area=area_text(int(results["total_weight"])),
        total_heads=int(results["total_heads"]),
        voters=int(results["voters"]),
        voted=int(results["voted"]),
        questions=results["questions"],
    )


def _csv(name: str, lines: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _opened(db_session: AsyncSession, principal: Principal, ballot_id: int) -> Ballot:
    """Returns a closed ballot: who voted how is not shown while voting goes on (it would
    let anyone with the list lean on those who voted the wrong way)."""
    ballot = await _ballot(db_session, principal, ballot_id)
    if ballot.results is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"ballot {ballot.id}: who voted how is shown once it closes (the tally shows "
            "the turnout meanwhile)",
        )
    return ballot


@router.get("/ballots/{ballot_id}/audit.csv")
async def audit_list(
    ballot_id: DbId, db_session: SessionDep, principal: ReaderDep
) -> StreamingResponse:
    """The per-owner audit list: every voter, the counted answer, when, how, which message."""
    ballot = await _opened(db_session, principal, ballot_id)
    questions = await votes_service.questions_of(db_session=db_session, ballot_id=ballot.id)
    lines = protocol.audit_csv(db_session=db_session, ballot=ballot, questions=questions)
    return _csv(f"ballot-{ballot.id}-audit.csv", lines)


@router.get("/ballots/{ballot_id}/votes.csv")
async def vote_log(
    ballot_id: DbId, db_session: SessionDep, principal: ReaderDep
) -> StreamingResponse:
    """Every vote row as cast, changed votes included."""
    ballot = await _opened(db_session, principal, ballot_id)
    return _csv(
        f"ballot-{ballot.id}-votes.csv", protocol.vote_log_csv(db_session=db_session, ballot=ballot)
    )


async def _final(db_session: AsyncSession, principal: Principal, ballot_id: int) -> Ballot:
    ballot = await _ballot(db_session, principal, ballot_id)
    if ballot.results is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"ballot {ballot.id} has no protocol until it closes"
        )
    return ballot


@router.get("/ballots/{ballot_id}/protocol.csv")
async def protocol_csv(
    ballot_id: DbId, db_session: SessionDep, principal: ReaderDep
) -> PlainTextResponse:
    """The protocol's results table, in the ballot's language."""
    ballot = await _final(db_session, principal, ballot_id)
    questions = await votes_service.questions_of(db_session=db_session, ballot_id=ballot.id)
    assert ballot.results is not None
    return PlainTextResponse(
        protocol.protocol_csv(ballot, questions, ballot.results),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="ballot-{ballot.id}-protocol.csv"'},
    )


@router.get("/ballots/{ballot_id}/protocol.html", response_class=HTMLResponse)
async def protocol_html(
    request: Request, ballot_id: DbId, hub: HubDep, db_session: SessionDep, principal: ReaderDep
) -> HTMLResponse:
    """The printable protocol, in the ballot's language."""
    ballot = await _final(db_session, principal, ballot_id)
    assert ballot.results is not None
    questions = await votes_service.questions_of(db_session=db_session, ballot_id=ballot.id)
    context = await protocol.html_context(
        db_session=db_session, ballot=ballot, questions=questions, timezone=hub.settings.timezone
    )
    return PAGES.TemplateResponse(
        request,
        "protocol.html",
        {**context, "lang": ballot.language, "_": partial(gettext, ballot.language)},
    )


async def _building_in_reach(db_session: AsyncSession, reach: Reach, code: str) -> int:
    row = (
        await db_session.execute(
            select(Building.id, Community.district_id, EstateBuilding.estate_id)
            .join(Community, Community.id == Building.community_id)
            .outerjoin(EstateBuilding, EstateBuilding.building_id == Building.id)
            .where(Building.code == code)
        )
    ).first()
    if row is None or not votes_service.allows(reach, Ballot(district_id=row[1], estate_id=row[2])):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no building {code!r}")
    return int(row[0])


@router.get("/owners", response_model=list[OwnerOut])
async def list_owners(
    db_session: SessionDep,
    principal: ReaderDep,
    building: str = Query(min_length=1, max_length=32),
) -> list[OwnerOut]:
    """Lists a building's owners from the register: units, shares, phones (masked)."""
    reach = await votes_service.reach_of(db_session=db_session, principal=principal)
    building_id = await _building_in_reach(db_session, reach, building)
    return await owners_of_building(db_session, building_id)


@router.post("/owners/{code}/phones/confirm", response_model=OwnerOut)
async def confirm_owner_phone(
    code: Annotated[str, Path(min_length=1, max_length=64)],
    data: PhoneConfirmIn,
    hub: HubDep,
    db_session: SessionDep,
    principal: AuthorityDep,
) -> OwnerOut:
    """Confirms a changed number after seeing the owner's documents (the reference says
    what was seen). The housing authority's to do: a committee is a party to its votes."""
    try:
        phone = normalise_phone(data.phone, hub.settings.phone_region)
    except InvalidAddress as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    reach = await votes_service.reach_of(db_session=db_session, principal=principal)
    rows = (
        await db_session.execute(
            select(OwnerPhone, Building.code, Premises.building_id)
            .join(Owner, Owner.id == OwnerPhone.owner_id)
            .join(PremisesOwner, PremisesOwner.resident_id == Owner.resident_id)
            .join(Premises, Premises.id == PremisesOwner.premises_id)
            .join(Building, Building.id == Premises.building_id)
            .where(Owner.code == code, OwnerPhone.phone == phone)
            .order_by(Premises.building_id)
            .with_for_update(of=OwnerPhone)
        )
    ).all()
    # The owner must have a unit within the caller's reach (any of their units).
    row = None
    for candidate in rows:
        try:
            await _building_in_reach(db_session, reach, candidate[1])
        except HTTPException:
            continue
        row = candidate
        break
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such number for that owner")
    owner_phone: OwnerPhone = row[0]
    if owner_phone.status != PhoneStatus.PENDING:
        raise HTTPException(status.HTTP_409_CONFLICT, "that number is already confirmed")
    confirm_phone(owner_phone, by=principal.actor, reference=data.reference, now=utcnow())
    await db_session.flush()
    owners = await owners_of_building(db_session, int(row[2]))
    await db_session.commit()
    return next(o for o in owners if o.code == code)


@router.post("/imports/{what}", response_model=ImportOut)
async def import_file(
    what: Literal["owners"],
    text: TEXT_BODY,
    hub: HubDep,
    db_session: SessionDep,
    _principal: CityAdminDep,
    format: Literal["csv", "yaml"] = "csv",  # noqa: A002
) -> ImportOut:
    """Imports the owner register (all rows or none; the rejected rows are listed)."""
    options = ImportOptions(
        region=hub.settings.phone_region, language=hub.settings.default_language
    )
    try:
        report = await run_import(
            db_session=db_session,
            importers=IMPORTERS,
            finishers=FINISHERS,
            what=what,
            text=text,
            fmt=format,
            options=options,
        )
    except ImportRejected as exc:
        await db_session.rollback()
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"line": line, "reason": reason} for line, reason in exc.report.rejected],
        ) from exc
    await db_session.commit()
    return ImportOut(created=report.created, updated=report.updated, unchanged=report.unchanged)
