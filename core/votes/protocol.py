"""What a ballot leaves behind: the per-owner audit list (CSV), the full vote log, the
protocol (CSV and printable HTML) in the ballot's language, and the proof that the
decision follows from the audit list alone (``tally_from_audit``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.exports import csv_line
from core.i18n import gettext
from core.residents.service import mask_address
from core.territory.models import Committee
from core.votes.counting import AuditRow, audit_rows
from core.votes.enums import OptionKind, Threshold
from core.votes.models import Ballot, BallotQuestion, BallotVote, BallotVoter
from core.votes.notify import place_names, text_in, when
from core.votes.rules import get_rule_set
from core.votes.tally import Counted, Totals, area_text, decide, exact_area_text, weight_of

AUDIT_COLUMNS = (
    "ballot",
    "question",
    "threshold",
    "voter",
    "owners",
    "units",
    "area",
    "heads",
    "choice",
    "choice_kind",
    "cast_at",
    "channel",
    "message_id",
    "phone",
    "vote_rows",
)


def _line(values: Iterable[object]) -> str:
    return csv_line(values)


async def audit_csv(
    *, db_session: AsyncSession, ballot: Ballot, questions: list[BallotQuestion]
) -> AsyncIterator[str]:
    """Yields the audit list as CSV lines: every voter for every question, the counted
    answer (empty if none), when, on which channel, with which message id. Phones are
    masked; a unit nobody is registered for is a row with no owners."""
    kinds = {q.position: {o["code"]: o["kind"] for o in q.options} for q in questions}
    thresholds = {q.position: q.threshold for q in questions}
    yield _line(AUDIT_COLUMNS)
    async for row in audit_rows(db_session=db_session, ballot=ballot):
        yield _line(
            (
                ballot.id,
                row.question,
                thresholds[row.question],
                row.voter,
                row.owners,
                row.units,
                exact_area_text(row.weight),
                row.heads,
                row.option,
                kinds[row.question].get(row.option, "") if row.option else "",
                row.cast_at.isoformat() if row.cast_at else "",
                row.channel,
                row.message_ref,
                mask_address(row.address) if row.address else "",
                row.rows,
            )
        )


async def vote_log_csv(*, db_session: AsyncSession, ballot: Ballot) -> AsyncIterator[str]:
    """Yields every vote row as it was cast, changed votes included, oldest first."""
    yield _line(
        (
            "id",
            "question",
            "voter",
            "choice",
            "cast_at",
            "channel",
            "message_id",
            "recorded_by",
            "phone",
        )
    )
    positions: dict[int, int] = {
        question_id: position
        for question_id, position in await db_session.execute(
            select(BallotQuestion.id, BallotQuestion.position).where(
                BallotQuestion.ballot_id == ballot.id
            )
        )
    }
    query = (
        select(BallotVote, BallotVoter.key)
        .join(BallotVoter, BallotVoter.id == BallotVote.voter_id)
        .where(BallotVote.ballot_id == ballot.id)
        .order_by(BallotVote.id)
        .execution_options(yield_per=2_000)
    )
    async for vote, key in await db_session.stream(query):
        yield _line(
            (
                vote.id,
                positions[vote.question_id],
                key,
                vote.option,
                vote.cast_at.isoformat(),
                vote.channel,
                vote.message_ref,
                vote.recorded_by,
                mask_address(vote.address) if vote.address else "",
            )
        )


@dataclass
class _Sums:
    weight: int = 0
    heads: int = 0


def tally_from_audit(lines: Iterable[dict[str, str]]) -> dict[int, dict[str, Any]]:
    """Recomputes every question's result from audit list rows alone.

    The totals are the sums over all rows of a question (every voter, and every unit
    nobody is registered for, is listed), the counts the sums per chosen option.
    """
    totals: dict[int, _Sums] = {}
    chosen: dict[int, dict[tuple[str, str], _Sums]] = {}
    thresholds: dict[int, str] = {}
    # Russia's meeting: every voter who answered any question, counted once.
    participants: dict[str, tuple[int, int]] = {}
    for line in lines:
        position = int(line["question"])
        weight = weight_of(Decimal(line["area"]))
        heads = int(line["heads"])
        thresholds[position] = line["threshold"]
        if line["choice"]:
            participants[line["voter"]] = (weight, heads)
        total = totals.setdefault(position, _Sums())
        total.weight += weight
        total.heads += heads
        if line["choice"]:
            sums = chosen.setdefault(position, {}).setdefault(
                (line["choice"], line["choice_kind"]), _Sums()
            )
            sums.weight += weight
            sums.heads += heads
    meeting = (
        sum(w for w, _h in participants.values()),
        sum(h for _w, h in participants.values()),
    )
    results = {}
    for position, total in totals.items():
        options = [
            Counted(code, OptionKind(kind), sums.weight, sums.heads)
            for (code, kind), sums in sorted(chosen.get(position, {}).items())
        ]
        result = decide(
            Threshold(thresholds[position]), Totals(total.weight, total.heads), options, meeting
        )
        results[position] = result.as_dict()
    return results


def protocol_rows(
    ballot: Ballot, questions: list[BallotQuestion], results: dict[str, Any]
) -> list[list[str]]:
    """Returns the protocol as table rows in the ballot's language (CSV and HTML share it)."""
    lang = ballot.language
    rows = [
        [
            gettext(lang, "Question"),
            gettext(lang, "Text"),
            gettext(lang, "Choice"),
            gettext(lang, "Area, m²"),
            gettext(lang, "Share of area, %"),
            gettext(lang, "Owners"),
            gettext(lang, "Outcome"),
        ]
    ]
    total_weight = int(results["total_weight"])
    for question, result in zip(questions, results["questions"], strict=True):
        counted = {o["code"]: o for o in result["options"]}
        for option in question.options:
            got = counted.get(option["code"], {"area": "0.00", "weight": 0, "heads": 0})
            share = (
                Decimal(got["weight"]) * 100 / Decimal(total_weight) if total_weight else Decimal(0)
            )
            rows.append(
                [
                    str(question.position),
                    text_in(question.texts, lang, lang),
                    f"{option['code']} {text_in(option['labels'], lang, lang)}",
                    str(got["area"]),
                    str(share.quantize(Decimal("0.01"))),
                    str(got["heads"]),
                    outcome_text(result, question, lang) if option is question.options[0] else "",
                ]
            )
    return rows


def outcome_text(result: dict[str, Any], question: BallotQuestion, lang: str) -> str:
    """Returns a question's outcome, with the quorum and the margin, in ``lang``."""
    participation = "; ".join(
        gettext(
            lang,
            "took part {value} of {base} {measure} ({share}%, needs {rule}: {met}, margin "
            "{margin})",
            value=c["value"],
            base=c["base"],
            measure=gettext(lang, f"measure:{c['measure']}"),
            share=c["share_percent"],
            rule=c["rule"],
            met=gettext(lang, "met") if c["met"] else gettext(lang, "not met"),
            margin=c["margin"],
        )
        for c in result["participation"]
    )
    if result["outcome"] == "adopted":
        option = next(o for o in question.options if o["code"] == result["adopted"])
        conditions = result["support"][result["adopted"]]
        margins = ", ".join(
            f"{gettext(lang, 'measure:' + c['measure'])} {c['value']} ({c['rule']}, "
            f"{gettext(lang, 'margin')} {c['margin']})"
            for c in conditions
        )
        head = gettext(
            lang,
            "Adopted: {choice} ({margins}).",
            choice=text_in(option["labels"], lang, lang),
            margins=margins,
        )
    elif result["outcome"] == "no_quorum":
        head = gettext(lang, "Not decided: not enough owners took part.")
    else:
        head = gettext(lang, "Not adopted.")
    return f"{head} {participation}"


def protocol_csv(ballot: Ballot, questions: list[BallotQuestion], results: dict[str, Any]) -> str:
    """Returns the protocol table as CSV."""
    return "".join(_line(row) for row in protocol_rows(ballot, questions, results))


# Above this many voters the printed protocol refers to the audit list CSV instead of
# listing every owner (100,000 rows do not print).
APPENDIX_LIMIT = 2_000


async def html_context(
    *,
    db_session: AsyncSession,
    ballot: Ballot,
    questions: list[BallotQuestion],
    timezone: str,
) -> dict[str, Any]:
    """Returns what the printable protocol shows."""
    lang = ballot.language
    results = ballot.results or {}
    places = await place_names(db_session=db_session, ballot=ballot)
    committee = (
        await db_session.scalar(select(Committee.names).where(Committee.id == ballot.committee_id))
        if ballot.committee_id
        else None
    )
    rule_set = get_rule_set(ballot.rule_set, ballot.edition)
    appendix: list[AuditRow] = []
    if (ballot.voter_count or 0) + (ballot.unowned_units or 0) <= APPENDIX_LIMIT:
        appendix = [row async for row in audit_rows(db_session=db_session, ballot=ballot)]
    return {
        "ballot": ballot,
        "title": text_in(ballot.titles, lang, lang),
        "details": text_in(ballot.details, lang, lang) if ballot.details else "",
        "place": text_in(places, lang, lang),
        "initiator": text_in(committee, lang, lang) if committee else None,
        "rule_set": rule_set,
        "rule_set_name": text_in(rule_set.names, lang, lang),
        "times": {
            name: when(moment, lang, timezone) if moment else ""
            for name, moment in (
                ("notice", ballot.notice_at),
                ("opens", ballot.opens_at),
                ("closes", ballot.closes_at),
                ("closed", ballot.closed_at),
            )
        },
        "total_area": area_text(int(results.get("total_weight", 0))),
        "results": results,
        "table": protocol_rows(ballot, questions, results),
        "questions": [
            {
                "position": q.position,
                "text": text_in(q.texts, lang, lang),
                "matter": text_in(rule_set.matter(q.matter).names, lang, lang),
                "article": rule_set.matter(q.matter).article,
                "outcome": outcome_text(result, q, lang),
            }
            for q, result in zip(questions, results.get("questions", []), strict=True)
        ],
        "appendix": appendix,
        "appendix_omitted": not appendix,
        "area_of": exact_area_text,
    }
