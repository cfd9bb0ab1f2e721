"""Spoken wording for the IVR: numbers are read digit by digit so they can be written down."""

from channels.templates.common import opted_in, opted_out, subscribed, unsubscribed
from core.i18n import gettext
from core.tickets.wording import status_word


def _spoken(number: str) -> str:
    return " ".join(number)


def ticket_created(language: str, *, number: str, **_values: object) -> str:
    return gettext(
        language,
        "Your request is registered. Its number is {number}. I repeat: {number}.",
        number=_spoken(number),
    )


def ticket_continued(language: str, *, number: str, **_values: object) -> str:
    return gettext(language, "Your message was added to request {number}.", number=_spoken(number))


def ticket_status(language: str, *, number: str, status: str, **_values: object) -> str:
    return gettext(
        language,
        "Request {number} is now: {status}.",
        number=_spoken(number),
        status=status_word(language, status),
    )


def help(language: str, **_values: object) -> str:  # noqa: A001
    return gettext(
        language,
        "After the tone, press the key for your topic, or stay on the line for an operator.",
    )


def status_unknown(language: str, *, number: str, **_values: object) -> str:
    return gettext(
        language, "We found no request {number} from this number.", number=_spoken(number)
    )


def otp_code(language: str, *, code: str, **_values: object) -> str:
    return gettext(
        language,
        "Your code: {code}. It is valid for 10 minutes. Do not tell it to anyone.",
        code=_spoken(code),
    )


__all__ = ["opted_in", "opted_out", "subscribed", "unsubscribed"]
