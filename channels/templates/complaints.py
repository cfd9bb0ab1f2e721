"""What residents hear about their complaint, and what companies hear from the authority.

An SMS cuts the company's answer and the authority's finding so the message stays within
two parts (a short answer fits one); other channels carry them whole. Companies are
written to by SMS only. Days are ISO dates in the values and written out here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from channels.templates.say import Say

SMS_NOTE_LIMIT = 80


def complaint_received(say: Say, *, number: str, company: str, respond_by: str, **_: object) -> str:
    return say(
        "Complaint {number} is registered and passed to {company}, who must answer by "
        "{respond_by}.",
        number=say.ticket(number),
        company=company,
        respond_by=say.day(respond_by),
    )


def complaint_answered(say: Say, *, number: str, company: str, answer: object, **_: object) -> str:
    return say(
        "{company} answered complaint {number}: {answer} Solved? Reply YES, or NO and what "
        "is still wrong.",
        number=say.ticket(number),
        company=company,
        answer=say.note(answer, SMS_NOTE_LIMIT),
    )


def complaint_verdict_help(say: Say, *, number: str, **_: object) -> str:
    return say(
        "Is complaint {number} solved? Reply YES, or NO and what is still wrong.",
        number=say.ticket(number),
    )


def complaint_resolved(say: Say, *, number: str, **_: object) -> str:
    return say("Complaint {number} is closed. Thank you.", number=say.ticket(number))


def complaint_escalated(say: Say, *, number: str, **_: object) -> str:
    return say(
        "The housing authority will inspect complaint {number} and tell you what it finds.",
        number=say.ticket(number),
    )


def complaint_dismissed(say: Say, *, number: str, finding: object, **_: object) -> str:
    return say(
        "The housing authority inspected complaint {number} and did not uphold it: {finding}",
        number=say.ticket(number),
        finding=say.note(finding, SMS_NOTE_LIMIT),
    )


def complaint_upheld(say: Say, *, number: str, due: str, **_: object) -> str:
    return say(
        "The housing authority upheld complaint {number} and ordered the company to put it "
        "right by {due}.",
        number=say.ticket(number),
        due=say.day(due),
    )


def complaint_rectified(say: Say, *, number: str, **_: object) -> str:
    return say(
        "The problem in complaint {number} has been put right and checked by the housing "
        "authority.",
        number=say.ticket(number),
    )


def complaint_for_company(
    say: Say, *, number: str, estate: str, respond_by: str, **_: object
) -> str:
    return say(
        "New complaint {number} about {estate}. Answer by {respond_by}.",
        number=number,
        estate=estate,
        respond_by=say.day(respond_by),
    )


def order_for_company(say: Say, *, order: str, due: str, **_: object) -> str:
    return say(
        "Rectification order {order} issued: put it right by {due}.",
        order=order,
        due=say.day(due),
    )


def _plural_count(points: object) -> int:
    """Returns the count that picks the plural form for an amount of points.

    A fraction takes the form a language uses for "a few" (Russian "2,5 балла"), which is
    the form ngettext picks for 2; a whole number picks its own.
    """
    try:
        value = abs(Decimal(str(points)))
    except InvalidOperation:
        return 2
    return int(value) if value == value.to_integral_value() else 2


def _points(say: Say, points: object) -> str:
    return say.plural(
        "{points} point", "{points} points", _plural_count(points), points=say.number(points)
    )


def score_pre_deduction(say: Say, *, points: str, rule: str, appeal_by: str, **_: object) -> str:
    return say(
        "Pre-deduction notice: {points} for {rule}. You may appeal with evidence by {appeal_by}.",
        points=_points(say, points),
        rule=rule,
        appeal_by=say.day(appeal_by),
    )


def score_appeal_decided(say: Say, *, points: str, decision: str, **_: object) -> str:
    return say(
        "Your appeal against the deduction of {points}: {decision}.",
        points=_points(say, points),
        decision=say(f"appeal:{decision}"),
    )


TEMPLATES = {
    "complaint_received": complaint_received,
    "complaint_answered": complaint_answered,
    "complaint_verdict_help": complaint_verdict_help,
    "complaint_resolved": complaint_resolved,
    "complaint_escalated": complaint_escalated,
    "complaint_dismissed": complaint_dismissed,
    "complaint_upheld": complaint_upheld,
    "complaint_rectified": complaint_rectified,
    "complaint_for_company": complaint_for_company,
    "order_for_company": order_for_company,
    "score_pre_deduction": score_pre_deduction,
    "score_appeal_decided": score_appeal_decided,
}
