"""The votes back office's side of intake: an owner's SMS reply to a ballot.

A message is looked at as a vote only when it is shaped like one ("1", "да", "11 22") and
the sender's phone is on a ballot (or, for digits, when any ballot is open: a stranger
replying to a forwarded ballot is told why it does not count). Yes/no *words* from someone
a ticket is waiting on go to that ticket: the ballot asks for digits, a complaint for words.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import InboundMessage
from core.backoffice import Claim, Outcome, Reply, RoutedRequest
from core.i18n import gettext
from core.residents.enums import ContactKind
from core.residents.models import Contact
from core.routing.enums import BackOffice
from core.tickets.enums import TicketKind
from core.votes import notify
from core.votes.enums import PhoneStatus
from core.votes.models import Ballot, BallotQuestion, OwnerPhone
from core.votes.register import confirm_phone, confirmed_by_pin
from core.votes.replies import (
    Choices,
    Details,
    is_word_reply,
    looks_like_vote,
    normalise,
    read_reply,
    split_prefix,
)
from core.votes.service import (
    BallotRefused,
    CastResult,
    Standing,
    any_sms_ballot_open,
    cast,
    questions_of,
    reading_shape,
    scheduled_for_phone,
    standings_for_phone,
    taking_votes,
)

# The reader has no settings: it looks as far back as the setting may reach, and the
# handler tells a reply after the configured days that the vote is closed all the same.
LATE_DAYS_CEILING = 365


async def read_ballot_reply(
    *,
    db_session: AsyncSession,
    contact: Contact,
    message: InboundMessage,
    awaiting_answer: bool,
    now: datetime,
) -> Claim | None:
    """Claims a ballot answer from a phone (see the module docstring)."""
    text = message.text
    if contact.kind != ContactKind.PHONE or not looks_like_vote(text):
        return None
    if awaiting_answer and is_word_reply(text):
        return None
    on_register = await db_session.scalar(
        select(OwnerPhone.id).where(OwnerPhone.phone == contact.value).limit(1)
    )
    # The standings travel with the claim, so the handler does not look them up again.
    standings: list[Standing] = []
    if on_register is not None:
        standings = await standings_for_phone(
            db_session=db_session, phone=contact.value, now=now, late_days=LATE_DAYS_CEILING
        )
        if standings or await scheduled_for_phone(db_session=db_session, phone=contact.value):
            return Claim(BackOffice.VOTES, TicketKind.VOTE, payload=standings)
    if not is_word_reply(text) and await any_sms_ballot_open(db_session=db_session):
        return Claim(BackOffice.VOTES, TicketKind.VOTE, payload=standings)
    return None


async def _standings(db_session: AsyncSession, request: RoutedRequest) -> list[Standing]:
    """Returns the claim's standings, cut to the configured days for late replies."""
    claimed = request.claim.payload if request.claim is not None else None
    now, late_days = request.now, request.settings.votes_late_reply_days
    if not isinstance(claimed, list):  # a claim made without the reader (a test, a menu)
        return await standings_for_phone(
            db_session=db_session, phone=request.contact.value, now=now, late_days=late_days
        )
    since = now - timedelta(days=late_days)
    return [s for s in claimed if s.ballot.closed_at is None or s.ballot.closed_at >= since]


def _separator(language: str) -> str:
    return "；" if language == "zh" else "; "


def _title(ballot: Ballot, language: str) -> str:
    return notify.text_in(ballot.titles, language, ballot.language)


async def take_reply(*, db_session: AsyncSession, request: RoutedRequest) -> Outcome:
    """Answers an owner's ballot reply: records the vote, or says why not."""
    contact, language = request.contact, request.language
    number, rest = split_prefix(normalise(request.message.text))
    picked = await _pick_standing(db_session, request, number)
    if isinstance(picked, Outcome):
        return picked
    standing, ballot = picked, picked.ballot
    values: dict[str, Any] = {"number": ballot.id, "title": _title(ballot, language)}
    # The ballot says which channels take votes: this message's own must be one.
    if str(request.message.channel) not in ballot.channels:
        return Outcome(None, [("vote_channel_closed", values)])
    if not standing.voter_ids:
        if not await _confirm_pending(db_session, standing, contact, request.now):
            return Outcome(None, [("vote_phone_pending", values)])
        # Just confirmed by the bill's PIN: the number now speaks for its voters.
        again = await standings_for_phone(
            db_session=db_session, phone=contact.value, now=request.now, late_days=0
        )
        standing = next(s for s in again if s.ballot.id == ballot.id)
    questions = await questions_of(db_session=db_session, ballot_id=ballot.id)
    reading = read_reply(rest, reading_shape(questions))
    if isinstance(reading, Details):
        details = notify.details_text(ballot, questions, language)
        return Outcome(None, [("vote_details", {**values, "details": details})])
    unclear = Outcome(
        None,
        [
            (
                "vote_unclear",
                {**values, "how": notify.reply_help(questions, language, ballot.language)},
            )
        ],
    )
    if not isinstance(reading, Choices):
        return unclear
    try:
        result = await cast(
            db_session=db_session,
            ballot=ballot,
            voter_ids=standing.voter_ids,
            picked=reading.picked,
            channel=str(request.message.channel),
            now=request.now,
            idempotency_key=f"inbound:{request.inbound_id}",
            recorded_by="resident",
            resident_id=contact.resident_id,
            address=contact.value,
            inbound_id=request.inbound_id,
            message_ref=request.message.provider_message_id,
        )
    except BallotRefused:
        return unclear
    return Outcome(None, _receipts(request, ballot, questions, result, values))


async def _pick_standing(
    db_session: AsyncSession, request: RoutedRequest, number: int | None
) -> Standing | Outcome:
    """Returns the one open ballot the reply is for, or the answer when there is not one."""
    language, now = request.language, request.now
    standings = await _standings(db_session, request)
    if number is not None:
        standings = [s for s in standings if s.ballot.id == number]
    open_ones = [s for s in standings if taking_votes(s.ballot, now)]
    if not open_ones:
        timezone = request.settings.timezone
        phone = request.contact.value
        return await _not_open(db_session, phone, standings, number, language, timezone)
    if len(open_ones) > 1:
        # Russian numbers a vote with №, Chinese separates with its own semicolon.
        mark = "№" if language == "ru" else "#"
        listing = _separator(language).join(
            f"{mark}{s.ballot.id} {_title(s.ballot, language)}" for s in open_ones
        )
        return Outcome(
            None,
            [("vote_which", {"ballots": listing, "example": open_ones[0].ballot.id})],
        )
    return open_ones[0]


def _receipts(
    request: RoutedRequest,
    ballot: Ballot,
    questions: list[BallotQuestion],
    result: CastResult,
    values: dict[str, Any],
) -> list[Reply]:
    """Returns the receipts for a counted reply: what was taken, and what was kept."""
    language = request.language
    by_position = {q.position: q for q in questions}

    def described(choices: dict[int, str]) -> str:
        labels = {
            position: _label(by_position[position], code, language, ballot.language)
            for position, code in sorted(choices.items())
        }
        if len(by_position) == 1:
            return next(iter(labels.values()))
        return _separator(language).join(
            gettext(language, "Q{position}. {question}", position=position, question=label)
            for position, label in labels.items()
        )

    values["closes"] = notify.when(ballot.closes_at, language, request.settings.timezone)
    values["voters"] = result.voters
    values["missing"] = ", ".join(map(str, sorted(set(by_position) - result.answered)))
    notices: list[Reply] = []
    # Under first-counts a reply may both add new answers and repeat answered questions:
    # the owner hears about each.
    taken = {p: c for p, c in result.counted.items() if p not in result.kept}
    if taken:
        notice = "vote_changed" if result.replaced else "vote_recorded"
        if ballot.count_policy == "first":
            notice = "vote_recorded_final"
        notices.append((notice, {**values, "choices": described(taken)}))
    if result.kept:
        notices.append(("vote_kept", {**values, "choices": described(result.kept)}))
    return notices


def _label(question: Any, code: str, language: str, fallback: str) -> str:
    option = next(o for o in question.options if o["code"] == code)
    return str(notify.text_in(option["labels"], language, fallback))


async def _confirm_pending(
    db_session: AsyncSession, standing: Standing, contact: Contact, now: datetime
) -> bool:
    """Confirms a pending number that proved a bill's PIN since; returns whether it did."""
    confirmed = False
    for phone, owner in standing.pending:
        if phone.status == PhoneStatus.PENDING and await confirmed_by_pin(
            db_session=db_session, phone=phone, owner=owner, contact_id=contact.id
        ):
            confirm_phone(phone, by="account_pin", reference=None, now=now)
            confirmed = True
    if confirmed:
        await db_session.flush()
    return confirmed


async def _not_open(
    db_session: AsyncSession,
    phone: str,
    standings: list[Standing],
    number: int | None,
    language: str,
    timezone: str,
) -> Outcome:
    """Explains why a reply is not counted: closed, not open yet, or not on the register."""
    closed = [s.ballot for s in standings if s.ballot.closed_at is not None]
    if closed:
        ballot = max(closed, key=lambda b: b.closed_at or b.closes_at)
        return Outcome(
            None,
            [
                (
                    "vote_closed",
                    {
                        "number": ballot.id,
                        "title": _title(ballot, language),
                        "closed": notify.when(
                            ballot.closed_at or ballot.closes_at, language, timezone
                        ),
                    },
                )
            ],
        )
    past_time = [s.ballot for s in standings]
    if past_time:  # open, its closing time passed, the closing job not yet run
        ballot = past_time[0]
        return Outcome(
            None,
            [
                (
                    "vote_closed",
                    {
                        "number": ballot.id,
                        "title": _title(ballot, language),
                        "closed": notify.when(ballot.closes_at, language, timezone),
                    },
                )
            ],
        )
    coming = await scheduled_for_phone(db_session=db_session, phone=phone)
    if coming is not None and (number is None or coming.id == number):
        return Outcome(
            None,
            [
                (
                    "vote_not_open",
                    {
                        "number": coming.id,
                        "title": _title(coming, language),
                        "opens": notify.when(coming.opens_at, language, timezone),
                    },
                )
            ],
        )
    on_register = await db_session.scalar(
        select(OwnerPhone.id).where(OwnerPhone.phone == phone).limit(1)
    )
    if on_register is not None:
        return Outcome(None, [("vote_none_open", {"number": number or ""})])
    return Outcome(None, [("vote_not_registered", {})])
