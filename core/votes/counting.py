"""Counting a ballot: which vote of each owner counts, the totals per option, the decision
per question, and the per-owner audit list the decision can be recomputed from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from core.votes.enums import CountPolicy, OptionKind, Threshold
from core.votes.models import Ballot, BallotQuestion, BallotVote, BallotVoter
from core.votes.tally import Counted, Totals, area_text, decide


def counted_votes(ballot: Ballot, dialect: str) -> Any:
    """Returns a subquery of the vote rows that count: per (question, voter), the last
    (or the first) row under the ballot's policy. Rows are only ever added, so the id
    order is the order they arrived in."""
    last = ballot.count_policy == CountPolicy.LAST
    if dialect == "postgresql":
        # DISTINCT ON walks ix_ballot_votes_count in order with no sort; the window below
        # was misestimated (918 rows expected, 183,446 found) into a nested loop and a sort
        # spilling to disk at 100,000 owners.
        keys = (BallotVote.question_id, BallotVote.voter_id)
        columns = (*keys, BallotVote.id)
        ordering: list[Any] = [c.desc() for c in columns] if last else list(columns)
        return (
            select(BallotVote.id, BallotVote.question_id, BallotVote.voter_id, BallotVote.option)
            .where(BallotVote.ballot_id == ballot.id)
            .ext(distinct_on(*keys))
            .order_by(*ordering)
            .subquery()
        )
    order = BallotVote.id.desc() if last else BallotVote.id
    ranked = (
        select(
            BallotVote.id,
            BallotVote.question_id,
            BallotVote.voter_id,
            BallotVote.option,
            func.row_number()
            .over(partition_by=(BallotVote.question_id, BallotVote.voter_id), order_by=order)
            .label("rank"),
        )
        .where(BallotVote.ballot_id == ballot.id)
        .subquery()
    )
    return (
        select(ranked.c.id, ranked.c.question_id, ranked.c.voter_id, ranked.c.option)
        .where(ranked.c.rank == 1)
        .subquery()
    )


@dataclass(frozen=True)
class Count:
    """A ballot's tally at one moment."""

    totals: Totals
    voters: int
    voted: int
    questions: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "total_area": area_text(self.totals.weight),
            "total_weight": self.totals.weight,
            "total_heads": self.totals.heads,
            "voters": self.voters,
            "voted": self.voted,
            "questions": self.questions,
        }


def decide_question(
    question: BallotQuestion,
    totals: Totals,
    sums: dict[str, tuple[int, int]],
    meeting: tuple[int, int],
) -> dict[str, Any]:
    """Returns one question's result from the (weight, heads) each option got, and the
    weight and heads of everyone who answered any question (Russia's meeting)."""
    options = [
        Counted(o["code"], OptionKind(o["kind"]), *sums.get(o["code"], (0, 0)))
        for o in question.options
    ]
    result = decide(Threshold(question.threshold), totals, options, meeting)
    return {"position": question.position, "matter": question.matter, **result.as_dict()}


async def count_ballot(*, db_session: AsyncSession, ballot: Ballot) -> Count:
    """Returns the tally of an opened ballot from its vote rows (one aggregate query)."""
    if ballot.total_weight is None or ballot.total_heads is None:
        raise ValueError("the ballot has not opened: it has no electorate yet")
    totals = Totals(ballot.total_weight, ballot.total_heads)
    counted = counted_votes(ballot, db_session.get_bind().dialect.name)
    rows = await db_session.execute(
        select(
            counted.c.question_id,
            counted.c.option,
            func.sum(BallotVoter.weight),
            func.sum(BallotVoter.heads),
        )
        .join(
            BallotVoter,
            (BallotVoter.id == counted.c.voter_id) & (BallotVoter.ballot_id == ballot.id),
        )
        .group_by(counted.c.question_id, counted.c.option)
    )
    sums: dict[int, dict[str, tuple[int, int]]] = {}
    for question_id, option, weight, heads in rows:
        sums.setdefault(question_id, {})[option] = (int(weight or 0), int(heads or 0))
    participants = select(BallotVote.voter_id).where(BallotVote.ballot_id == ballot.id).distinct()
    voted, meeting_weight, meeting_heads = (
        await db_session.execute(
            select(
                func.count(BallotVoter.id),
                func.coalesce(func.sum(BallotVoter.weight), 0),
                func.coalesce(func.sum(BallotVoter.heads), 0),
            ).where(BallotVoter.ballot_id == ballot.id, BallotVoter.id.in_(participants))
        )
    ).one()
    meeting = (int(meeting_weight), int(meeting_heads))
    questions = await db_session.scalars(
        select(BallotQuestion)
        .where(BallotQuestion.ballot_id == ballot.id)
        .order_by(BallotQuestion.position)
    )
    return Count(
        totals=totals,
        voters=ballot.voter_count or 0,
        voted=int(voted or 0),
        questions=[decide_question(q, totals, sums.get(q.id, {}), meeting) for q in questions],
    )


@dataclass(frozen=True)
class AuditRow:
    """One voter's counted answer to one question (empty when they did not answer)."""

    question: int
    voter: str
    owners: str
    units: str
    weight: int
    heads: int
    option: str
    cast_at: datetime | None
    channel: str
    message_ref: str
    address: str | None
    # How many vote rows this voter has on the question (a change makes two).
    rows: int


async def audit_rows(
    *, db_session: AsyncSession, ballot: Ballot, batch: int = 2_000
) -> AsyncIterator[AuditRow]:
    """Yields the per-owner audit list, every voter for every question, streamed."""
    counted = counted_votes(ballot, db_session.get_bind().dialect.name)
    attempts = (
        select(
            BallotVote.question_id,
            BallotVote.voter_id,
            func.count(BallotVote.id).label("n"),
        )
        .where(BallotVote.ballot_id == ballot.id)
        .group_by(BallotVote.question_id, BallotVote.voter_id)
        .subquery()
    )
    questions = list(
        await db_session.execute(
            select(BallotQuestion.id, BallotQuestion.position)
            .where(BallotQuestion.ballot_id == ballot.id)
            .order_by(BallotQuestion.position)
        )
    )
    for question_id, position in questions:
        query = (
            select(
                BallotVoter.key,
                BallotVoter.owners,
                BallotVoter.units,
                BallotVoter.weight,
                BallotVoter.heads,
                BallotVote.option,
                BallotVote.cast_at,
                BallotVote.channel,
                BallotVote.message_ref,
                BallotVote.address,
                attempts.c.n,
            )
            .outerjoin(
                counted,
                (counted.c.voter_id == BallotVoter.id) & (counted.c.question_id == question_id),
            )
            .outerjoin(BallotVote, BallotVote.id == counted.c.id)
            .outerjoin(
                attempts,
                (attempts.c.voter_id == BallotVoter.id) & (attempts.c.question_id == question_id),
            )
            .where(BallotVoter.ballot_id == ballot.id)
            .order_by(BallotVoter.id)
            .execution_options(yield_per=batch)
        )
        async for row in await db_session.stream(query):
            key, owners, units, weight, heads, option, cast_at, channel, ref, address, n = row
            yield AuditRow(
                question=position,
                voter=key,
                owners=owners,
                units=units,
                weight=int(weight),
                heads=int(heads),
                option=option or "",
                cast_at=cast_at,
                channel=channel or "",
                message_ref=ref or "",
                address=address,
                rows=int(n or 0),
            )


async def current_results(*, db_session: AsyncSession, ballot: Ballot) -> dict[str, Any] | None:
    """Returns the tally as frozen at closing, or as it stands while voting is open; None
    before the ballot opens (it has no electorate yet)."""
    if ballot.results is not None:
        return dict(ballot.results)
    if ballot.total_weight is None:
        return None
    return (await count_ballot(db_session=db_session, ballot=ballot)).as_dict()
