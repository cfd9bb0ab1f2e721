"""The owners' votes part of a resident's card in the console: ballots open to them now."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from core.i18n import format_day, gettext, pick_name
from core.votes.enums import BallotStatus
from core.votes.models import Ballot, BallotVoterMember


async def card_lines(
    *, db_session: AsyncSession, resident_id: int, language: str, settings: Settings
) -> list[str]:
    """Returns one line per ballot the resident may vote in now or soon, with its end."""
    # Ids first: a resident may be a member twice (two flats), and DISTINCT over the
    # ballot's JSON columns is not possible on PostgreSQL.
    theirs = select(BallotVoterMember.ballot_id).where(BallotVoterMember.resident_id == resident_id)
    ballots = await db_session.scalars(
        select(Ballot)
        .where(
            Ballot.id.in_(theirs),
            Ballot.status.in_([BallotStatus.OPEN, BallotStatus.SCHEDULED]),
        )
        .order_by(Ballot.closes_at)
        .limit(10)
    )
    return [
        gettext(
            language,
            "Ballot “{title}”: open until {day}",
            title=pick_name(ballot.titles, language),
            day=format_day(language, ballot.closes_at),
        )
        for ballot in ballots
    ]
