"""A ballot's life: written (draft), published (the agenda is fixed and owners are told on
the notice date), opened (the electorate is frozen and the SMS ballot goes out), closed
(the tally is frozen and owners hear the results). Once open, nothing about it changes:
it may only close early, with a reason, and the reason is on the protocol."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.segments import count_segments
from channels.templates.labels import N_
from core.auth.enums import Role
from core.auth.service import Principal
from core.i18n import gettext
from core.territory.models import Building, Committee, Community, Estate, EstateBuilding
from core.votes import notify
from core.votes.counting import count_ballot
from core.votes.electorate import freeze
from core.votes.enums import BallotScope, BallotStatus, OptionKind, VoteChannel
from core.votes.models import Ballot, BallotQuestion
from core.votes.rules import RuleSet, UnknownRuleSet, get_rule_set
from core.votes.schemas import BallotIn
from core.votes.service import (
    BallotRefused,
    Reach,
    ScopeRefused,
    allows,
    questions_of,
    reach_of,
    require_manager,
)

DEFAULT_OPTIONS = (
    (OptionKind.FOR, N_("Agree")),
    (OptionKind.AGAINST, N_("Disagree")),
    (OptionKind.ABSTAIN, N_("Abstain")),
)
# A ballot's notice date may be "now" give or take the time the form took to send.
_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class Settled:
    """What a lifecycle step wrote for the queue: outbox rows to hand to the bulk queue."""

    ballot: Ballot
    outbox_ids: list[int]


async def _place(
    db_session: AsyncSession, data: BallotIn, reach: Reach
) -> tuple[int | None, int | None, int | None]:
    """Returns (building id, estate id, district id) of the ballot's scope, checked."""
    building_id: int | None
    district_id: int | None
    if data.scope is BallotScope.BUILDING:
        if not data.building or data.estate:
            raise BallotRefused("a building's ballot names the building (and no estate)")
        row = (
            await db_session.execute(
                select(Building.id, Community.district_id)
                .join(Community, Community.id == Building.community_id)
                .where(Building.code == data.building)
            )
        ).first()
        if row is None:
            raise BallotRefused(f"no building {data.building!r}")
        building_id, district_id = row
        estate_id = await db_session.scalar(
            select(EstateBuilding.estate_id).where(EstateBuilding.building_id == building_id)
        )
    else:
        if not data.estate or data.building:
            raise BallotRefused("an estate's ballot names the estate (and no building)")
        estate_id = await db_session.scalar(select(Estate.id).where(Estate.code == data.estate))
        if estate_id is None:
            raise BallotRefused(f"no estate {data.estate!r}")
        building_id = None
        district_id = await db_session.scalar(
            select(Community.district_id)
            .join(Building, Building.community_id == Community.id)
            .join(EstateBuilding, EstateBuilding.building_id == Building.id)
            .where(EstateBuilding.estate_id == estate_id)
            .order_by(Building.id)
            .limit(1)
        )
        if district_id is None:
            raise BallotRefused(f"estate {data.estate!r} has no buildings")
    probe = Ballot(district_id=district_id, estate_id=estate_id)
    if not allows(reach, probe):
        # The caller's scope ends here: refused the same way as a place that does not exist.
        raise BallotRefused(f"no {data.scope} {data.building or data.estate!r} in your area")
    return building_id, estate_id, district_id


def _options(options: list[Any] | None) -> list[dict[str, Any]]:
    if options is None:
        return [
            {
                "code": str(index),
                "kind": str(kind),
                "labels": {lang: gettext(lang, label) for lang in notify.LANGUAGES},
            }
            for index, (kind, label) in enumerate(DEFAULT_OPTIONS, start=1)
        ]
    kinds = [o.kind for o in options]
    if OptionKind.FOR not in kinds:
        raise BallotRefused("a question needs at least one choice that can be adopted")
    if kinds.count(OptionKind.ABSTAIN) > 1 or kinds.count(OptionKind.AGAINST) > 1:
        raise BallotRefused("a question has at most one 'against' and one 'abstain'")
    return [
        {"code": str(index), "kind": str(o.kind), "labels": dict(o.labels)}
        for index, o in enumerate(options, start=1)
    ]


def _check_texts(data: BallotIn) -> None:
    language = data.language
    if language not in data.titles:
        raise BallotRefused(f"the title must be given in the ballot's language ({language})")
    if data.details and language not in data.details:
        raise BallotRefused(f"the details must be given in the ballot's language ({language})")
    for position, question in enumerate(data.questions, start=1):
        if language not in question.texts:
            raise BallotRefused(f"question {position} must be given in {language}")
        for option in question.options or []:
            if language not in option.labels:
                raise BallotRefused(f"question {position}: every choice needs a {language} label")


def _rule_set(data: BallotIn) -> RuleSet:
    try:
        rule_set = get_rule_set(data.rule_set, data.edition)
        for question in data.questions:
            rule_set.matter(question.matter)
    except UnknownRuleSet as exc:
        raise BallotRefused(str(exc)) from None
    return rule_set


def _check_scope(rule_set: RuleSet, scope: BallotScope) -> None:
    # A ballot is one meeting (one notice, one frozen electorate, one protocol): where the
    # law holds a meeting per building, an estate's ballot would pool several meetings.
    problem = rule_set.scope_problem(scope)
    if problem is not None:
        raise ScopeRefused(problem)


def _check_window(data: BallotIn, rule_set: RuleSet, now: datetime) -> None:
    if data.notice_at < now - _SLACK:
        raise BallotRefused("the notice date has passed; move the dates")
    problems = rule_set.window_problems(
        notice_at=data.notice_at, opens_at=data.opens_at, closes_at=data.closes_at
    )
    if problems:
        raise BallotRefused("; ".join(problems))


async def _write(
    db_session: AsyncSession,
    ballot: Ballot,
    data: BallotIn,
    rule_set: RuleSet,
    settings_max_parts: int,
    timezone: str,
) -> None:
    ballot.titles = {str(lang): text for lang, text in data.titles.items()}
    ballot.details = {str(lang): text for lang, text in data.details.items()}
    ballot.language = data.language
    ballot.rule_set = rule_set.code
    ballot.edition = rule_set.edition
    ballot.rules_digest = rule_set.digest
    ballot.count_policy = data.count_policy
    ballot.channels = [str(c) for c in dict.fromkeys(data.channels)]
    ballot.notice_at, ballot.opens_at, ballot.closes_at = (
        data.notice_at,
        data.opens_at,
        data.closes_at,
    )
    await db_session.flush()
    await db_session.execute(delete(BallotQuestion).where(BallotQuestion.ballot_id == ballot.id))
    questions = [
        BallotQuestion(
            ballot_id=ballot.id,
            position=position,
            texts={str(lang): text for lang, text in q.texts.items()},
            matter=q.matter,
            threshold=rule_set.matter(q.matter).threshold,
            options=_options(q.options),
        )
        for position, q in enumerate(data.questions, start=1)
    ]
    db_session.add_all(questions)
    await db_session.flush()
    places = await notify.place_names(db_session=db_session, ballot=ballot)
    parts = max(
        count_segments(
            notify.invitation(ballot, questions, lang, notify.text_in(places, lang, "en"), timezone)
        ).parts
        for lang in notify.LANGUAGES
    )
    ballot.sms_parts = parts
    if VoteChannel.SMS in ballot.channels and parts > settings_max_parts and not data.confirm_long:
        raise BallotRefused(
            f"the SMS ballot is {parts} parts long, over the limit of {settings_max_parts}; "
            "shorten the questions or confirm the cost (confirm_long)"
        )


async def create_ballot(
    *,
    db_session: AsyncSession,
    principal: Principal,
    data: BallotIn,
    now: datetime,
    max_parts: int,
    timezone: str,
) -> Ballot:
    """Writes a draft ballot after checking it against its rule set and the caller's scope."""
    require_manager(principal)
    reach = await reach_of(db_session=db_session, principal=principal)
    _check_texts(data)
    rule_set = _rule_set(data)
    _check_scope(rule_set, data.scope)
    _check_window(data, rule_set, now)
    building_id, estate_id, district_id = await _place(db_session, data, reach)
    committee_id = None
    if principal.role is Role.COMMITTEE:
        committee_id = await db_session.scalar(
            select(Committee.id).where(Committee.id == principal.scope.id)
        )
    ballot = Ballot(
        scope=data.scope,
        building_id=building_id,
        estate_id=estate_id,
        district_id=district_id,
        committee_id=committee_id,
        status=BallotStatus.DRAFT,
        created_by=principal.actor,
        created_at=now,
    )
    db_session.add(ballot)
    await _write(db_session, ballot, data, rule_set, max_parts, timezone)
    return ballot


async def update_ballot(
    *,
    db_session: AsyncSession,
    principal: Principal,
    ballot: Ballot,
    data: BallotIn,
    now: datetime,
    max_parts: int,
    timezone: str,
) -> Ballot:
    """Rewrites a draft; a published ballot's agenda is fixed."""
    require_manager(principal, ballot)
    if ballot.status != BallotStatus.DRAFT:
        raise BallotRefused(f"ballot {ballot.id} is {ballot.status}: only a draft can change")
    reach = await reach_of(db_session=db_session, principal=principal)
    _check_texts(data)
    rule_set = _rule_set(data)
    _check_scope(rule_set, data.scope)
    _check_window(data, rule_set, now)
    ballot.building_id, ballot.estate_id, ballot.district_id = await _place(db_session, data, reach)
    ballot.scope = data.scope
    await _write(db_session, ballot, data, rule_set, max_parts, timezone)
    return ballot


async def delete_draft(*, db_session: AsyncSession, principal: Principal, ballot: Ballot) -> None:
    """Deletes a draft (nobody has been told of it)."""
    require_manager(principal, ballot)
    if ballot.status != BallotStatus.DRAFT:
        raise BallotRefused(f"ballot {ballot.id} is {ballot.status}: cancel it instead")
    await db_session.execute(delete(BallotQuestion).where(BallotQuestion.ballot_id == ballot.id))
    await db_session.delete(ballot)


async def publish_ballot(
    *, db_session: AsyncSession, principal: Principal, ballot: Ballot, now: datetime
) -> Ballot:
    """Fixes a draft's agenda: owners are told on the notice date, voting opens on time."""
    require_manager(principal, ballot)
    if ballot.status != BallotStatus.DRAFT:
        raise BallotRefused(f"ballot {ballot.id} is {ballot.status}, not a draft")
    # A draft written before its rule set said which places a meeting covers is checked
    # again here; ballots already published run to their protocol as they were called.
    _check_scope(get_rule_set(ballot.rule_set, ballot.edition), ballot.scope)
    if ballot.notice_at < now - _SLACK:
        raise BallotRefused("the notice date has passed; move the dates")
    owners = await db_session.scalar(notify.register_residents(ballot).limit(1))
    if owners is None:
        raise BallotRefused("the owner register lists nobody in this ballot's scope")
    ballot.status = BallotStatus.SCHEDULED
    return ballot


async def cancel_ballot(
    *, db_session: AsyncSession, principal: Principal, ballot: Ballot, reason: str, now: datetime
) -> Ballot:
    """Withdraws a ballot that has not opened."""
    require_manager(principal, ballot)
    if ballot.status not in (BallotStatus.DRAFT, BallotStatus.SCHEDULED):
        raise BallotRefused(f"ballot {ballot.id} is {ballot.status}; an open ballot closes early")
    ballot.status = BallotStatus.CANCELLED
    ballot.end_reason = reason
    ballot.closed_at = now
    return ballot


async def close_early(
    *,
    db_session: AsyncSession,
    principal: Principal,
    ballot: Ballot,
    reason: str,
    now: datetime,
    timezone: str,
) -> list[int]:
    """Closes an open ballot before its time; the reason goes on the protocol."""
    require_manager(principal, ballot)
    if ballot.status != BallotStatus.OPEN:
        raise BallotRefused(f"ballot {ballot.id} is {ballot.status}, not open")
    return await close_ballot(
        db_session=db_session, ballot_id=ballot.id, now=now, timezone=timezone, reason=reason
    )


async def announce_ballot(
    *, db_session: AsyncSession, ballot_id: int, now: datetime, timezone: str
) -> list[int]:
    """Sends the notice of a coming vote once (claimed by a conditional UPDATE)."""
    ballot = await db_session.scalar(
        update(Ballot)
        .where(
            Ballot.id == ballot_id,
            Ballot.status == BallotStatus.SCHEDULED,
            Ballot.announced_at.is_(None),
        )
        .values(announced_at=now)
        .returning(Ballot)
    )
    if ballot is None or VoteChannel.SMS not in ballot.channels:
        return []
    places = await notify.place_names(db_session=db_session, ballot=ballot)
    texts = notify.texts_for(
        lambda lang: notify.announcement(
            ballot, lang, notify.text_in(places, lang, ballot.language), timezone
        )
    )
    return await notify.blast(
        db_session=db_session,
        ballot=ballot,
        residents=notify.register_residents(ballot),
        texts=texts,
        now=now,
        created_by="votes",
    )


async def open_ballot(
    *, db_session: AsyncSession, ballot_id: int, now: datetime, timezone: str
) -> list[int]:
    """Opens a due ballot once: freezes its electorate and sends the SMS ballot."""
    ballot = await db_session.scalar(
        update(Ballot)
        .where(
            Ballot.id == ballot_id,
            Ballot.status == BallotStatus.SCHEDULED,
            Ballot.opens_at <= now,
        )
        .values(status=BallotStatus.OPEN)
        .returning(Ballot)
    )
    if ballot is None:
        return []
    jurisdiction = get_rule_set(ballot.rule_set, ballot.edition).jurisdiction
    await freeze(db_session=db_session, ballot=ballot, jurisdiction=jurisdiction)
    if VoteChannel.SMS not in ballot.channels:
        return []
    ballot.invited_at = now
    questions = await questions_of(db_session=db_session, ballot_id=ballot.id)
    places = await notify.place_names(db_session=db_session, ballot=ballot)
    texts = notify.texts_for(
        lambda lang: notify.invitation(
            ballot, questions, lang, notify.text_in(places, lang, ballot.language), timezone
        )
    )
    return await notify.blast(
        db_session=db_session,
        ballot=ballot,
        residents=notify.frozen_residents(ballot),
        texts=texts,
        now=now,
        created_by="votes",
    )


async def close_ballot(
    *,
    db_session: AsyncSession,
    ballot_id: int,
    now: datetime,
    timezone: str,
    reason: str | None = None,
) -> list[int]:
    """Closes an open ballot once (on time, or early with a reason): freezes the tally and
    tells the owners the results."""
    conditions = [Ballot.id == ballot_id, Ballot.status == BallotStatus.OPEN]
    if reason is None:
        conditions.append(Ballot.closes_at <= now)
    ballot = await db_session.scalar(
        update(Ballot)
        .where(*conditions)
        .values(status=BallotStatus.CLOSED, closed_at=now, end_reason=reason)
        .returning(Ballot)
    )
    if ballot is None:
        return []
    count = await count_ballot(db_session=db_session, ballot=ballot)
    ballot.results = count.as_dict()
    if VoteChannel.SMS not in ballot.channels:
        return []
    ballot.results_sent_at = now
    questions = await questions_of(db_session=db_session, ballot_id=ballot.id)
    places = await notify.place_names(db_session=db_session, ballot=ballot)
    results = ballot.results
    texts = notify.texts_for(
        lambda lang: notify.results_text(
            ballot, questions, results, lang, notify.text_in(places, lang, ballot.language)
        )
    )
    return await notify.blast(
        db_session=db_session,
        ballot=ballot,
        residents=notify.frozen_residents(ballot),
        texts=texts,
        now=now,
        created_by="votes",
    )


async def due_steps(*, db_session: AsyncSession, now: datetime) -> list[tuple[str, int]]:
    """Returns the lifecycle steps due now: (announce | open | close, ballot id)."""
    steps: list[tuple[str, int]] = []
    for step, condition in (
        (
            "announce",
            (Ballot.status == BallotStatus.SCHEDULED)
            & Ballot.announced_at.is_(None)
            & (Ballot.notice_at <= now),
        ),
        ("open", (Ballot.status == BallotStatus.SCHEDULED) & (Ballot.opens_at <= now)),
        ("close", (Ballot.status == BallotStatus.OPEN) & (Ballot.closes_at <= now)),
    ):
        ids = await db_session.scalars(select(Ballot.id).where(condition).order_by(Ballot.id))
        steps.extend((step, ballot_id) for ballot_id in ids)
    return steps
