"""SMS wording: short, one segment where possible, no links the resident must tap."""

from channels.templates.common import (
    opted_in,
    opted_out,
    otp_code,
    subscribed,
    unsubscribed,
)
from core.i18n import gettext
from core.tickets.wording import status_word


def ticket_created(language: str, *, number: str, **_values: object) -> str:
    return gettext(
        language, "Request {number} registered. Reply STATUS {number} to check it.", number=number
    )


def ticket_continued(language: str, *, number: str, **_values: object) -> str:
    return gettext(language, "Added to request {number}.", number=number)


def ticket_status(language: str, *, number: str, status: str, **_values: object) -> str:
    return gettext(
        language,
        "Request {number}: {status}.",
        number=number,
        status=status_word(language, status),
    )


def help(language: str, **_values: object) -> str:  # noqa: A001 (the notice is called help)
    return gettext(
        language, "Write your problem and we will register it. STATUS <number> - check a request."
    )


def status_unknown(language: str, *, number: str, **_values: object) -> str:
    return gettext(language, "We found no request {number} from this number.", number=number)


__all__ = ["opted_in", "opted_out", "otp_code", "subscribed", "unsubscribed"]
