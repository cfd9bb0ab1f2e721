"""Wording that is the same on every channel: short confirmations and one-time codes."""

from core.i18n import gettext


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
