"""Turning ballots and owners into API shapes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.residents.models import Resident
from core.residents.service import mask_address
from core.territory.models import Building, Estate, Premises, PremisesOwner
from core.votes.models import Ballot, BallotQuestion, Owner, OwnerPhone
from core.votes.rules import RuleSet
from core.votes.schemas import BallotOut, OwnerOut, OwnerPhoneOut, QuestionOut, RuleSetOut
from core.votes.tally import area_text


async def ballot_out(
    db_session: AsyncSession, ballot: Ballot, questions: list[BallotQuestion]
) -> BallotOut:
    """Returns a ballot with its questions."""
    places = await _place_codes(db_session, [ballot])
    return _ballot_out(ballot, questions, places)


async def ballots_out(db_session: AsyncSession, ballots: list[Ballot]) -> list[BallotOut]:
    """Returns a page of ballots with their questions (three queries, whatever the page)."""
    questions: dict[int, list[BallotQuestion]] = {ballot.id: [] for ballot in ballots}
    if ballots:
        for question in await db_session.scalars(
            select(BallotQuestion)
            .where(BallotQuestion.ballot_id.in_(list(questions)))
            .order_by(BallotQuestion.ballot_id, BallotQuestion.position)
        ):
            questions[question.ballot_id].append(question)
    places = await _place_codes(db_session, ballots)
    return [_ballot_out(ballot, questions[ballot.id], places) for ballot in ballots]


async def _place_codes(
    db_session: AsyncSession, ballots: list[Ballot]
) -> dict[tuple[str, int], str]:
    """Returns the codes of the ballots' buildings and estates, keyed ("building", id)."""
    found: dict[tuple[str, int], str] = {}
    for kind, model, ids in (
        ("building", Building, {b.building_id for b in ballots if b.building_id}),
        ("estate", Estate, {b.estate_id for b in ballots if b.estate_id}),
    ):
        if ids:
            rows = await db_session.execute(select(model.id, model.code).where(model.id.in_(ids)))
            found.update(((kind, row_id), code) for row_id, code in rows)
    return found


def _ballot_out(
    ballot: Ballot, questions: list[BallotQuestion], places: dict[tuple[str, int], str]
) -> BallotOut:
    building = places.get(("building", ballot.building_id)) if ballot.building_id else None
    estate = places.get(("estate", ballot.estate_id)) if ballot.estate_id else None
    return BallotOut(
        id=ballot.id,
        status=ballot.status,
        scope=ballot.scope,
        building=building,
        estate=estate,
        titles=ballot.titles,
        details=ballot.details or {},
        language=ballot.language,
        rule_set=ballot.rule_set,
        edition=ballot.edition,
        rules_digest=ballot.rules_digest,
        count_policy=ballot.count_policy,
        channels=ballot.channels,
        notice_at=ballot.notice_at,
        opens_at=ballot.opens_at,
        closes_at=ballot.closes_at,
        closed_at=ballot.closed_at,
        end_reason=ballot.end_reason,
        sms_parts=ballot.sms_parts,
        total_area=area_text(ballot.total_weight) if ballot.total_weight is not None else None,
        total_heads=ballot.total_heads,
        voter_count=ballot.voter_count,
        unowned_units=ballot.unowned_units,
        electorate_digest=ballot.electorate_digest,
        created_by=ballot.created_by,
        questions=[
            QuestionOut(
                position=q.position,
                texts=q.texts,
                matter=q.matter,
                threshold=q.threshold,
                options=q.options,
            )
            for q in questions
        ],
    )


def rule_set_out(rule_set: RuleSet) -> RuleSetOut:
    return RuleSetOut(
        code=rule_set.code,
        edition=rule_set.edition,
        jurisdiction=rule_set.jurisdiction,
        names=rule_set.names,
        source=rule_set.source,
        digest=rule_set.digest,
        notice_days_min=rule_set.notice_days_min,
        voting_days_min=rule_set.voting_days_min,
        voting_days_max=rule_set.voting_days_max,
        scopes=[str(scope) for scope in rule_set.scopes],
        matters=[
            {
                "code": m.code,
                "threshold": str(m.threshold),
                "article": m.article,
                "names": m.names,
            }
            for m in rule_set.matters.values()
        ],
    )


async def owners_of_building(db_session: AsyncSession, building_id: int) -> list[OwnerOut]:
    """Returns the register's owners of a building's units, phones masked."""
    result = await db_session.execute(
        select(Owner, Resident.display_name, Premises.number, PremisesOwner.share)
        .join(PremisesOwner, PremisesOwner.resident_id == Owner.resident_id)
        .join(Premises, Premises.id == PremisesOwner.premises_id)
        .join(Resident, Resident.id == Owner.resident_id)
        .where(Premises.building_id == building_id)
        .order_by(Owner.code, Premises.number)
    )
    rows = list(result)
    phones: dict[int, list[OwnerPhone]] = {owner.id: [] for owner, *_ in rows}
    if phones:
        for phone in await db_session.scalars(
            select(OwnerPhone)
            .where(OwnerPhone.owner_id.in_(list(phones)))
            .order_by(OwnerPhone.owner_id, OwnerPhone.id)
        ):
            phones[phone.owner_id].append(phone)
    found: dict[int, OwnerOut] = {}
    for owner, name, number, share in rows:
        entry = found.get(owner.id)
        if entry is None:
            entry = found[owner.id] = OwnerOut(
                code=owner.code,
                kind=owner.kind,
                name=name,
                units=[],
                phones=[
                    OwnerPhoneOut(
                        phone=mask_address(p.phone),
                        status=p.status,
                        added_at=p.added_at,
                        verified_by=p.verified_by,
                    )
                    for p in phones[owner.id]
                ],
            )
        entry.units.append({"premises": number, "share": str(share.normalize())})
    return list(found.values())
