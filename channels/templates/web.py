"""Web, kiosk and API wording: the resident is looking at a screen."""

from channels.templates.common import (
    opted_in,
    opted_out,
    otp_code,
    subscribed,
    unsubscribed,
)
from core.i18n import gettext
from core.tickets.wording import status_word


def ticket_created(language: str, *, number: str, category: str = "", **_values: object) -> str:
    text = gettext(language, "Your request is registered under number {number}.", number=number)
    if category:
        text += " " + gettext(language, "Topic: {category}.", category=category)
    return text + " " + gettext(language, "Keep the number to check the request later.")


def ticket_continued(language: str, *, number: str, **_values: object) -> str:
    return gettext(language, "Your message was added to request {number}.", number=number)


def ticket_status(language: str, *, number: str, status: str, **_values: object) -> str:
    return gettext(
        language,
        "Request {number} is now: {status}.",
        number=number,
        status=status_word(language, status),
    )


def help(language: str, **_values: object) -> str:  # noqa: A001
    return gettext(language, "Describe your problem in one message, and add the address.")


def status_unknown(language: str, *, number: str, **_values: object) -> str:
    return gettext(language, "We found no request {number} from you.", number=number)


__all__ = ["opted_in", "opted_out", "otp_code", "subscribed", "unsubscribed"]
