"""The voting service every channel calls: who may see a ballot, which ballots a phone or
a resident votes in, and casting a vote. SMS replies come through intake (intake.py); the
bot, the portal and the IVR keypad call ``cast`` with the choices they collected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import Role, ScopeKind
from core.auth.service import Principal
from core.events.collector import TOPIC_BALLOTS, announce_after_commit
from core.territory.models import Committee, EstateBuilding, Premises, PremisesOwner
from core.votes.enums import BallotStatus, CountPolicy, OptionKind, PhoneStatus
from core.votes.models import (
    Ballot,
    BallotQuestion,
    BallotVote,
    BallotVoter,
    BallotVoterMember,
    Owner,
    OwnerPhone,
)
from core.votes.replies import Question

# The housing authority and the owners' committees call ballots; inspectors may read them.
MANAGE_ROLES = (Role.SUPERVISOR, Role.ADMIN, Role.COMMITTEE)
READ_ROLES = (*MANAGE_ROLES, Role.INSPECTOR)


class BallotNotFound(LookupError):
    """No ballot by that number inside the caller's scope."""


class NotAllowed(PermissionError):
    """The caller's role may not take this step."""


class BallotRefused(ValueError):
    """The ballot or the step is refused as given; the reason is for the person (409/422)."""


class ScopeRefused(BallotRefused):
    """The rule set's meeting cannot cover this kind of place: no ballot of it can be valid,
    whatever the dates or the caller (422)."""


class VotingClosed(BallotRefused):
    """The ballot is not taking votes (not yet open, closed, or past its closing time)."""


@dataclass(frozen=True)
class Reach:
    """What part of the city's ballots a caller may see."""

    district_id: int | None = None
    estate_id: int | None = None
    everything: bool = False
    nothing: bool = False


async def reach_of(*, db_session: AsyncSession, principal: Principal) -> Reach:
    """Returns the ballots a caller may see: a committee its estate's, staff by district."""
    if principal.role not in READ_ROLES:
        return Reach(nothing=True)
    scope = principal.scope
    if principal.role is Role.COMMITTEE:
        if scope.kind is not ScopeKind.COMMITTEE or scope.id is None:
            return Reach(nothing=True)
        estate_id = await db_session.scalar(
            select(Committee.estate_id).where(Committee.id == scope.id)
        )
        return Reach(estate_id=estate_id) if estate_id else Reach(nothing=True)
    if scope.kind is ScopeKind.CITY:
        return Reach(everything=True)
    if scope.kind is ScopeKind.DISTRICT:
        return Reach(district_id=scope.id)
    return Reach(nothing=True)


def restrict(query: Any, reach: Reach) -> Any:
    """Restricts a select over Ballot to what ``reach`` allows."""
    if reach.everything:
        return query
    if reach.district_id is not None:
        return query.where(Ballot.district_id == reach.district_id)
    if reach.estate_id is not None:
        return query.where(Ballot.estate_id == reach.estate_id)
    return query.where(Ballot.id.is_(None))


def allows(reach: Reach, ballot: Ballot) -> bool:
    if reach.everything:
        return True
    if reach.district_id is not None:
        return ballot.district_id == reach.district_id
    return reach.estate_id is not None and ballot.estate_id == reach.estate_id


async def get_ballot(
    *, db_session: AsyncSession, principal: Principal, ballot_id: int, lock: bool = False
) -> Ballot:
    """Returns a ballot the caller may see, or raises BallotNotFound (outside scope too)."""
    query = select(Ballot).where(Ballot.id == ballot_id)
    if lock:
        query = query.with_for_update()
    ballot = await db_session.scalar(query)
    reach = await reach_of(db_session=db_session, principal=principal)
    if ballot is None or not allows(reach, ballot):
        raise BallotNotFound(f"no ballot {ballot_id}")
    return ballot


def require_manager(principal: Principal, ballot: Ballot | None = None) -> None:
    """Refuses callers who may not run ballots; a committee runs only its own."""
    if principal.role not in MANAGE_ROLES:
        raise NotAllowed("only the owners' committee or the housing authority may do this")
    if (
        ballot is not None
        and principal.role is Role.COMMITTEE
        and ballot.committee_id != principal.scope.id
    ):
        raise NotAllowed("a committee runs only the ballots it called")


async def questions_of(*, db_session: AsyncSession, ballot_id: int) -> list[BallotQuestion]:
    """Returns a ballot's questions in order."""
    return list(
        await db_session.scalars(
            select(BallotQuestion)
            .where(BallotQuestion.ballot_id == ballot_id)
            .order_by(BallotQuestion.position)
        )
    )


def reading_shape(questions: list[BallotQuestion]) -> list[Question]:
    """Returns what the reply reader needs of the questions."""
    return [
        Question(q.position, {o["code"]: OptionKind(o["kind"]) for o in q.options})
        for q in questions
    ]


def taking_votes(ballot: Ballot, now: datetime) -> bool:
    """Whether the ballot takes votes at ``now`` (open, and its closing time not reached)."""
    return ballot.status == BallotStatus.OPEN and ballot.opens_at <= now < ballot.closes_at


@dataclass
class Standing:
    """A phone's place in one ballot: the voters it speaks for, and whether it may."""

    ballot: Ballot
    voter_ids: list[int] = field(default_factory=list)
    # Voters reachable only through a number still waiting to be confirmed.
    pending: list[tuple[OwnerPhone, Owner]] = field(default_factory=list)


async def standings_for_phone(
    *, db_session: AsyncSession, phone: str, now: datetime, late_days: int
) -> list[Standing]:
    """Returns the ballots a phone votes in: open ones, and those closed in the last days."""
    rows = await db_session.execute(
        select(Ballot, BallotVoterMember.voter_id, OwnerPhone, Owner)
        .join(Owner, Owner.id == OwnerPhone.owner_id)
        .join(BallotVoterMember, BallotVoterMember.resident_id == Owner.resident_id)
        .join(Ballot, Ballot.id == BallotVoterMember.ballot_id)
        .where(
            OwnerPhone.phone == phone,
            or_(
                Ballot.status == BallotStatus.OPEN,
                and_(
                    Ballot.status == BallotStatus.CLOSED,
                    Ballot.closed_at >= now - timedelta(days=late_days),
                ),
            ),
        )
        .order_by(Ballot.id, BallotVoterMember.voter_id)
    )
    found: dict[int, Standing] = {}
    for ballot, voter_id, owner_phone, owner in rows:
        standing = found.setdefault(ballot.id, Standing(ballot))
        if owner_phone.status == PhoneStatus.VERIFIED:
            if voter_id not in standing.voter_ids:
                standing.voter_ids.append(voter_id)
        else:
            standing.pending.append((owner_phone, owner))
    return list(found.values())


async def scheduled_for_phone(*, db_session: AsyncSession, phone: str) -> Ballot | None:
    """Returns the next ballot a phone's owner will vote in, not yet open; or None."""
    owned_buildings = (
        select(Premises.building_id)
        .join(PremisesOwner, PremisesOwner.premises_id == Premises.id)
        .join(Owner, Owner.resident_id == PremisesOwner.resident_id)
        .join(OwnerPhone, OwnerPhone.owner_id == Owner.id)
        .where(OwnerPhone.phone == phone)
    )
    estates = select(EstateBuilding.estate_id).where(
        EstateBuilding.building_id.in_(owned_buildings)
    )
    return await db_session.scalar(
        select(Ballot)
        .where(
            Ballot.status == BallotStatus.SCHEDULED,
            or_(Ballot.building_id.in_(owned_buildings), Ballot.estate_id.in_(estates)),
        )
        .order_by(Ballot.opens_at)
        .limit(1)
    )


async def any_sms_ballot_open(*, db_session: AsyncSession) -> bool:
    """Whether any ballot anywhere is open (a digit reply from a stranger is then a vote)."""
    found = await db_session.scalar(
        select(Ballot.id).where(Ballot.status == BallotStatus.OPEN).limit(1)
    )
    return found is not None


async def voters_for_resident(
    *, db_session: AsyncSession, resident_id: int, now: datetime
) -> list[tuple[Ballot, list[int]]]:
    """Returns the open ballots a resident votes in, with the voters they speak for.

    For channels where the person is already known (a proven bot chat, a portal sign-in by
    SMS code, the IVR after caller ID and PIN): they call ``cast`` with these voters.
    """
    rows = await db_session.execute(
        select(Ballot, BallotVoterMember.voter_id)
        .join(BallotVoterMember, BallotVoterMember.ballot_id == Ballot.id)
        .where(BallotVoterMember.resident_id == resident_id, Ballot.status == BallotStatus.OPEN)
        .order_by(Ballot.id, BallotVoterMember.voter_id)
    )
    found: dict[int, tuple[Ballot, list[int]]] = {}
    for ballot, voter_id in rows:
        if taking_votes(ballot, now):
            found.setdefault(ballot.id, (ballot, []))[1].append(voter_id)
    return list(found.values())


@dataclass(frozen=True)
class CastResult:
    # question position → the option now counted for it
    counted: dict[int, str]
    # question position → the option this reply replaced (last-counts)
    replaced: dict[int, str]
    # question positions where an earlier vote stands and this one was not taken
    kept: dict[int, str]
    voters: int
    # question positions every one of these voters has a counted answer to, now
    answered: frozenset[int] = frozenset()
    # The idempotency key was seen before: nothing was recorded this time.
    repeated: bool = False


async def cast(
    *,
    db_session: AsyncSession,
    ballot: Ballot,
    voter_ids: list[int],
    picked: dict[int, str],
    channel: str,
    now: datetime,
    idempotency_key: str,
    recorded_by: str,
    resident_id: int | None = None,
    address: str | None = None,
    inbound_id: int | None = None,
    message_ref: str | None = None,
) -> CastResult:
    """Records choices (question position → option code) for voters of an open ballot.

    Votes are only ever added. Under last-counts a different choice adds a row that
    replaces the earlier one; the same choice again adds nothing. Under first-counts an
    earlier vote stands and the new one is refused (reported in ``kept``).
    """
    await _lock_open_ballot(db_session, ballot, channel, now)
    if not voter_ids or not picked:
        raise BallotRefused("nothing to record")
    questions = await _questions_for_choices(db_session, ballot, picked)
    members = await _lock_voters(db_session, ballot, voter_ids)
    if await _already_recorded(db_session, ballot, members, questions, picked, idempotency_key):
        # The same message or paper again: nothing new is recorded, whatever it says now.
        return CastResult({}, {}, {}, len(members), frozenset(), repeated=True)
    current = await _current_votes(db_session, ballot, sorted(members))
    # Every new row shares who, how and when; only question, voter and option differ.
    provenance = {
        "ballot_id": ballot.id,
        "channel": channel,
        "resident_id": resident_id,
        "address": address,
        "inbound_id": inbound_id,
        "message_ref": message_ref,
        "idempotency_key": idempotency_key,
        "recorded_by": recorded_by,
        "cast_at": now,
    }
    plan = _plan_votes(ballot, questions, members, picked, current, provenance)
    if plan.rows:
        dialect = postgresql if db_session.get_bind().dialect.name == "postgresql" else sqlite
        await db_session.execute(
            dialect.insert(BallotVote).on_conflict_do_nothing(
                index_elements=["question_id", "voter_id", "idempotency_key"]
            ),
            plan.rows,
        )
        # The console's live tally re-reads this ballot once the votes are committed.
        announce_after_commit(db_session, TOPIC_BALLOTS, ballot=ballot.id)
    answered = frozenset(
        position
        for position, question in questions.items()
        if position in picked or all((question.id, v) in current for v in members)
    )
    return CastResult(plan.counted, plan.replaced, plan.kept, len(members), answered)


async def _lock_open_ballot(
    db_session: AsyncSession, ballot: Ballot, channel: str, now: datetime
) -> None:
    """Refuses a vote unless the ballot takes votes now, by this channel."""
    # FOR SHARE on the ballot row: replies run side by side, but closing (an UPDATE of
    # that row) waits for the ones in flight, so no vote lands after the count.
    status, closes_at = (
        await db_session.execute(
            select(Ballot.status, Ballot.closes_at)
            .where(Ballot.id == ballot.id)
            .with_for_update(read=True)
        )
    ).one()
    if status != BallotStatus.OPEN or not ballot.opens_at <= now < closes_at:
        raise VotingClosed(f"ballot {ballot.id} is not taking votes")
    if channel not in ballot.channels:
        raise BallotRefused(f"ballot {ballot.id} does not take votes by {channel}")


async def _questions_for_choices(
    db_session: AsyncSession, ballot: Ballot, picked: dict[int, str]
) -> dict[int, BallotQuestion]:
    """Returns the ballot's questions by position; refuses a choice no question offers."""
    questions = {
        q.position: q for q in await questions_of(db_session=db_session, ballot_id=ballot.id)
    }
    for position, code in picked.items():
        question = questions.get(position)
        if question is None or code not in {o["code"] for o in question.options}:
            raise BallotRefused(f"question {position} has no choice {code}")
    return questions


async def _lock_voters(db_session: AsyncSession, ballot: Ballot, voter_ids: list[int]) -> set[int]:
    """Locks the voters' rows; refuses a voter who is not on the ballot."""
    members = set(
        await db_session.scalars(
            select(BallotVoter.id)
            .where(BallotVoter.ballot_id == ballot.id, BallotVoter.id.in_(voter_ids))
            .order_by(BallotVoter.id)
            # Two replies from joint owners at once are serialised per voter.
            .with_for_update()
        )
    )
    if members != set(voter_ids):
        raise BallotRefused("a voter is not on this ballot")
    return members


async def _already_recorded(
    db_session: AsyncSession,
    ballot: Ballot,
    members: set[int],
    questions: dict[int, BallotQuestion],
    picked: dict[int, str],
    idempotency_key: str,
) -> bool:
    """Whether this idempotency key was recorded before (the same choices, or it refuses)."""
    earlier = {
        (question_id, option)
        for question_id, option in await db_session.execute(
            select(BallotVote.question_id, BallotVote.option).where(
                BallotVote.ballot_id == ballot.id,
                BallotVote.voter_id.in_(sorted(members)),
                BallotVote.idempotency_key == idempotency_key,
            )
        )
    }
    if not earlier:
        return False
    if earlier != {(questions[p].id, c) for p, c in picked.items()}:
        raise BallotRefused("this reference was already recorded with other choices")
    return True


@dataclass
class _VotePlan:
    """What a cast changes, per question position, and the vote rows to add for it."""

    counted: dict[int, str] = field(default_factory=dict)
    replaced: dict[int, str] = field(default_factory=dict)
    kept: dict[int, str] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)


def _plan_votes(
    ballot: Ballot,
    questions: dict[int, BallotQuestion],
    members: set[int],
    picked: dict[int, str],
    current: dict[tuple[int, int], str],
    provenance: dict[str, Any],
) -> _VotePlan:
    """Decides, voter by voter, which choices add a row under the ballot's count policy."""
    plan = _VotePlan()
    for position, code in sorted(picked.items()):
        question = questions[position]
        for voter_id in sorted(members):
            before = current.get((question.id, voter_id))
            if before is not None and (ballot.count_policy == CountPolicy.FIRST or before == code):
                (plan.kept if before != code else plan.counted)[position] = before
                continue
            if before is not None:
                plan.replaced[position] = before
            plan.counted[position] = code
            plan.rows.append(
                {**provenance, "question_id": question.id, "voter_id": voter_id, "option": code}
            )
    return plan


async def _current_votes(
    db_session: AsyncSession, ballot: Ballot, voter_ids: list[int]
) -> dict[tuple[int, int], str]:
    """Returns the counted option per (question id, voter id) for some voters."""
    pick = func.max if ballot.count_policy == CountPolicy.LAST else func.min
    counted_ids = (
        select(pick(BallotVote.id))
        .where(BallotVote.ballot_id == ballot.id, BallotVote.voter_id.in_(voter_ids))
        .group_by(BallotVote.question_id, BallotVote.voter_id)
    )
    rows = await db_session.execute(
        select(BallotVote.question_id, BallotVote.voter_id, BallotVote.option).where(
            BallotVote.id.in_(counted_ids)
        )
    )
    return {(question_id, voter_id): option for question_id, voter_id, option in rows}
