"""What a reporter hears about their city case: closed with its outcome, cancelled with the
reason, joined to a case someone else reported. SMS cuts the department's note so the
message stays within two segments; other channels carry it whole."""

from __future__ import annotations

from core.i18n import gettext

TEMPLATES = ("case_closed", "case_cancelled", "case_merged")
# An SMS carries the department's outcome note up to this many characters.
SMS_NOTE_LIMIT = 120


def _note(channel: str, note: object) -> str:
    text = " ".join(str(note or "").split())
    if channel == "sms" and len(text) > SMS_NOTE_LIMIT:
        return text[: SMS_NOTE_LIMIT - 1].rstrip() + "…"
    return text


def case_closed(
    channel: str, language: str, *, number: str, outcome: object = "", **_: object
) -> str:
    text = _note(channel, outcome)
    if text:
        return gettext(language, "Request {number} is done: {outcome}", number=number, outcome=text)
    return gettext(language, "Request {number} is done.", number=number)


def case_cancelled(
    channel: str, language: str, *, number: str, why_cancelled: object = "", **_: object
) -> str:
    return gettext(
        language,
        "Request {number} was not registered: {why}",
        number=number,
        why=_note(channel, why_cancelled),
    )


def case_merged(channel: str, language: str, *, number: str, into: str, **_: object) -> str:
    return gettext(
        language,
        "Request {number} is already being handled as {into}. We will tell you when it is done.",
        number=number,
        into=into,
    )


def render(channel: str, notice: str, language: str, **values: object) -> str:
    """Returns a dispatch notice's text for ``channel``."""
    template = {
        "case_closed": case_closed,
        "case_cancelled": case_cancelled,
        "case_merged": case_merged,
    }[notice]
    return template(channel, language, **values)  # type: ignore[arg-type]
