"""Telegram wording: a chat, so a little more detail and a line break are fine."""

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
    head = gettext(language, "Your request is registered under number {number}.", number=number)
    if category:
        head += "\n" + gettext(language, "Topic: {category}.", category=category)
    return head + "\n" + gettext(language, "We will reply in this chat.")


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
    return (
        gettext(language, "Describe your problem in one message, and add the address.")
        + "\n"
        + gettext(language, "To check a request, send: STATUS and its number.")
    )


def status_unknown(language: str, *, number: str, **_values: object) -> str:
    return gettext(language, "We found no request {number} from you.", number=number)


__all__ = ["opted_in", "opted_out", "otp_code", "subscribed", "unsubscribed"]
