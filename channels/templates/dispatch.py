"""What a reporter hears about their city case: closed with its outcome, cancelled with the
reason, joined to a case someone else reported. An SMS cuts the department's note so the
message stays within two parts; other channels carry it whole."""

from __future__ import annotations

from channels.templates.say import Say

# An SMS carries the department's outcome note up to this many characters.
SMS_NOTE_LIMIT = 120


def case_closed(say: Say, *, number: str, outcome: object = "", **_: object) -> str:
    text = say.note(outcome, SMS_NOTE_LIMIT)
    if text:
        return say("Request {number} is done: {outcome}", number=say.ticket(number), outcome=text)
    return say("Request {number} is done.", number=say.ticket(number))


def case_cancelled(say: Say, *, number: str, why_cancelled: object = "", **_: object) -> str:
    return say(
        "Request {number} was not registered: {why}",
        number=say.ticket(number),
        why=say.note(why_cancelled, SMS_NOTE_LIMIT),
    )


def case_merged(say: Say, *, number: str, into: str, **_: object) -> str:
    return say(
        "Request {number} is already being handled as {into}. We will tell you when it is done.",
        number=say.ticket(number),
        into=say.ticket(into),
    )


TEMPLATES = {
    "case_closed": case_closed,
    "case_cancelled": case_cancelled,
    "case_merged": case_merged,
}
