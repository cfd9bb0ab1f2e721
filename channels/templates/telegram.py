"""Telegram wording: a chat, so a little more detail and a line break are fine."""

from core.i18n import gettext


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
        status=gettext(language, f"status:{status}"),
    )


def help(language: str, **_values: object) -> str:  # noqa: A001
    return (
        gettext(language, "Describe your problem in one message, and add the address.")
        + "\n"
        + gettext(language, "To check a request, send: STATUS and its number.")
    )


def status_unknown(language: str, *, number: str, **_values: object) -> str:
    return gettext(language, "We found no request {number} from you.", number=number)


def opted_out(language: str, **_values: object) -> str:
    return gettext(language, "You will get no more notices. Reply START to get them again.")


def opted_in(language: str, **_values: object) -> str:
    return gettext(language, "Notices are on again. Reply STOP to turn them off.")


def subscribed(language: str, *, topic: str, **_values: object) -> str:
    return gettext(language, "Subscribed: {topic}.", topic=gettext(language, f"topic:{topic}"))


def unsubscribed(language: str, *, topic: str, **_values: object) -> str:
    return gettext(language, "Unsubscribed: {topic}.", topic=gettext(language, f"topic:{topic}"))


def otp_code(language: str, *, code: str, **_values: object) -> str:
    return gettext(
        language,
        "Your code: {code}. It is valid for 10 minutes. Do not tell it to anyone.",
        code=code,
    )
