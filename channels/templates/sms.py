"""SMS wording: short, one segment where possible, no links the resident must tap."""

from core.i18n import gettext


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
        status=gettext(language, f"status:{status}"),
    )


def help(language: str, **_values: object) -> str:  # noqa: A001 (the notice is called help)
    return gettext(
        language, "Write your problem and we will register it. STATUS <number> - check a request."
    )


def status_unknown(language: str, *, number: str, **_values: object) -> str:
    return gettext(language, "We found no request {number} from this number.", number=number)


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
