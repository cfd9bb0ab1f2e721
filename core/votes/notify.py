"""What owners read about a ballot, and the blasts that send it: the announcement on the
notice date, the ballot itself when voting opens, the results when it closes.

A blast is a Notice (topic "votes", through the notices service) plus one outbox row per
phone (through the outbox service), on the channel that carries notices to phones; the
bulk queue drains them at the provider's rate limit, behind replies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.registry import of_session
from core.i18n import format_moment, gettext, pick_name
from core.notices import service as notices_service
from core.notices.enums import Audience, Topic
from core.notices.models import Subscription
from core.outbox import service as outbox_service
from core.outbox.service import NoticeRow
from core.residents.enums import ContactKind
from core.residents.models import Contact, Resident
from core.territory.models import Building, Estate, Premises, PremisesOwner
from core.votes.electorate import buildings_in_scope
from core.votes.enums import PhoneStatus
from core.votes.models import Ballot, BallotQuestion, BallotVoterMember, Owner, OwnerPhone

LANGUAGES = ("en", "ru", "zh")


def when(moment: datetime, language: str, timezone: str) -> str:
    """Returns a time as the owner's city writes it, in their language, naming the zone."""
    return format_moment(language, moment, timezone)


def text_in(texts: dict[str, str], language: str, fallback: str) -> str:
    """Returns the text in ``language``, else in the ballot's own language."""
    return texts.get(language) or texts.get(fallback) or pick_name(texts, language)


def option_list(question: BallotQuestion, language: str, fallback: str) -> str:
    """Returns "1 agree, 2 disagree, 3 abstain" in the owner's language."""
    return ", ".join(
        f"{o['code']} {text_in(o['labels'], language, fallback)}" for o in question.options
    )


async def place_names(*, db_session: AsyncSession, ballot: Ballot) -> dict[str, str]:
    """Returns the building's address or the estate's name, per language."""
    if ballot.building_id is not None:
        addresses = await db_session.scalar(
            select(Building.addresses).where(Building.id == ballot.building_id)
        )
        return dict(addresses or {})
    names = await db_session.scalar(select(Estate.names).where(Estate.id == ballot.estate_id))
    return dict(names or {})


def reply_help(questions: list[BallotQuestion], language: str, fallback: str) -> str:
    """Returns how to answer: the choices of one question, or the two-digit codes."""
    if len(questions) == 1:
        return gettext(
            language,
            "Reply with the number of your choice: {options}.",
            options=option_list(questions[0], language, fallback),
        )
    return gettext(
        language,
        "Reply with the question number and your choice together, e.g. 11 21 means "
        "question 1 choice 1, question 2 choice 1.",
    )


def invitation(
    ballot: Ballot,
    questions: list[BallotQuestion],
    language: str,
    place: str,
    timezone: str,
) -> str:
    """Returns the SMS ballot in ``language``."""
    fallback = ballot.language
    header = gettext(
        language,
        "Owners' vote #{number}, {place}, until {closes}.",
        number=ballot.id,
        place=place,
        closes=when(ballot.closes_at, language, timezone),
    )
    if len(questions) == 1:
        question = questions[0]
        body = gettext(
            language,
            "{question} Reply {options}.",
            question=text_in(question.texts, language, fallback),
            options=option_list(question, language, fallback),
        )
    else:
        lists = {option_list(q, language, fallback) for q in questions}
        # The same choices for every question (agree/disagree/abstain) are listed once.
        shared = lists.pop() if len(lists) == 1 else None
        body = _glue(language).join(
            gettext(
                language,
                "Q{position}. {question}",
                position=q.position,
                question=text_in(q.texts, language, fallback),
            )
            + ("" if shared else f" ({option_list(q, language, fallback)})")
            for q in questions
        )
        if shared:
            body += _glue(language) + gettext(language, "Choices: {options}.", options=shared)
        body += _glue(language) + gettext(
            language, "Reply question and choice numbers, e.g. 11 22."
        )
    details = gettext(language, "Reply 0 for details.")
    return _glue(language).join((header, body, details))


def _glue(language: str) -> str:
    """Returns what goes between two sentences: Chinese puts no space after its 。"""
    return "" if language == "zh" else " "


def announcement(ballot: Ballot, language: str, place: str, timezone: str) -> str:
    """Returns the notice that a vote is coming, sent on the notice date."""
    return gettext(
        language,
        "Owners' vote #{number}, {place}: {title}. Voting from {opens} to {closes}; the "
        "questions will come by SMS when it opens, and you answer by replying.",
        number=ballot.id,
        place=place,
        title=text_in(ballot.titles, language, ballot.language),
        opens=when(ballot.opens_at, language, timezone),
        closes=when(ballot.closes_at, language, timezone),
    )


def outcome_line(
    result: dict[str, Any], question: BallotQuestion, language: str, fallback: str
) -> str:
    """Returns one question's outcome in a few words."""
    position = result["position"]
    if result["outcome"] == "no_quorum":
        share = result["participation"][0]["share_percent"]
        return gettext(
            language,
            "Q{position}: not decided, too few took part ({share}%).",
            position=position,
            share=share,
        )
    if result["outcome"] == "adopted":
        option = next(o for o in question.options if o["code"] == result["adopted"])
        return gettext(
            language,
            "Q{position}: adopted, {choice}.",
            position=position,
            choice=text_in(option["labels"], language, fallback),
        )
    return gettext(language, "Q{position}: not adopted.", position=position)


def results_text(
    ballot: Ballot,
    questions: list[BallotQuestion],
    results: dict[str, Any],
    language: str,
    place: str,
) -> str:
    """Returns the results notice for owners."""
    lines = _glue(language).join(
        outcome_line(result, question, language, ballot.language)
        for result, question in zip(results["questions"], questions, strict=True)
    )
    return gettext(
        language,
        "Owners' vote #{number}, {place}, is closed: {lines} {voted} of {voters} owners "
        "voted. The protocol is with your owners' committee.",
        number=ballot.id,
        place=place,
        lines=lines,
        voted=results["voted"],
        voters=results["voters"],
    )


def details_text(ballot: Ballot, questions: list[BallotQuestion], language: str) -> str:
    """Returns the full text of a ballot, sent to whoever replies 0."""
    fallback = ballot.language
    parts = [text_in(ballot.titles, language, fallback)]
    if ballot.details:
        parts.append(text_in(ballot.details, language, fallback))
    for q in questions:
        parts.append(
            f"{q.position}. {text_in(q.texts, language, fallback)} "
            f"({option_list(q, language, fallback)})"
        )
    # Not sentences but a title and numbered items: a space keeps them apart in every
    # language.
    return " ".join(parts)


def _recipients(residents: Any) -> Any:
    """Returns (phone, contact language, resident language, resident id) of verified phones
    of ``residents``, leaving out those who sent STOP or turned votes off."""
    return (
        select(OwnerPhone.phone, Contact.language, Resident.language, Resident.id)
        .join(Owner, Owner.id == OwnerPhone.owner_id)
        .join(Resident, Resident.id == Owner.resident_id)
        .outerjoin(
            Contact, and_(Contact.kind == ContactKind.PHONE, Contact.value == OwnerPhone.phone)
        )
        .where(
            Owner.resident_id.in_(residents),
            OwnerPhone.status == PhoneStatus.VERIFIED,
            Contact.opted_out_at.is_(None),
            ~exists().where(
                Subscription.contact_id == Contact.id,
                Subscription.topic == Topic.VOTES,
                Subscription.active.is_(False),
            ),
        )
        .order_by(OwnerPhone.phone)
    )


def frozen_residents(ballot: Ballot) -> Any:
    """Returns the residents who vote in an opened ballot."""
    return select(BallotVoterMember.resident_id).where(BallotVoterMember.ballot_id == ballot.id)


def register_residents(ballot: Ballot) -> Any:
    """Returns the residents the owner register lists in the ballot's scope today."""
    return (
        select(PremisesOwner.resident_id)
        .join(Premises, Premises.id == PremisesOwner.premises_id)
        .where(Premises.building_id.in_(buildings_in_scope(ballot)))
    )


async def blast(
    *,
    db_session: AsyncSession,
    ballot: Ballot,
    residents: Any,
    texts: dict[str, str],
    now: datetime,
    created_by: str,
) -> list[int]:
    """Writes one outbox row per phone of ``residents`` (each once, in its language), on the
    channel the installed channels name for notices to phones."""
    channel = of_session(db_session).notices_channel(ContactKind.PHONE)
    if channel is None:
        raise LookupError("no installed channel carries notices to phones")
    notice = await notices_service.start_blast(
        db_session=db_session,
        topic=Topic.VOTES,
        audience=Audience.RESIDENTS,
        scope_kind="ballot",
        scope_id=ballot.id,
        texts=texts,
        channel=channel,
        created_by=created_by,
        now=now,
    )
    seen: set[str] = set()
    rows: list[NoticeRow] = []
    for phone, contact_language, resident_language, resident_id in await db_session.execute(
        _recipients(residents)
    ):
        if phone in seen:
            continue
        seen.add(phone)
        language = reader_language(contact_language, resident_language, ballot, texts)
        rows.append(NoticeRow(phone, language, texts[language], resident_id))
    ids = await outbox_service.create_notices(
        db_session=db_session, channel=channel, notice_id=notice.id, rows=rows, now=now
    )
    notices_service.finish_blast(notice, recipients=len(ids))
    return ids


def reader_language(
    contact_language: str | None,
    resident_language: str | None,
    ballot: Ballot,
    texts: dict[str, str],
) -> str:
    """Returns the language an owner reads the ballot in.

    The language the owner last wrote in (kept on their phone's contact) comes first: an
    owner who answers in English reads English, whatever the register said; then the
    register's; then the ballot's own.
    """
    for language in (contact_language, resident_language):
        if language in texts:
            return language
    return ballot.language


def texts_for(build: Any) -> dict[str, str]:
    """Returns ``build(language)`` for every language."""
    return {language: build(language) for language in LANGUAGES}
