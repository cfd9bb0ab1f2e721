"""What an owner reads in answer to a ballot reply: the receipt, or why it was not counted.
The ballot itself, its announcement and its results are bulk notices written by
core/votes/notify.py."""

from __future__ import annotations

from core.i18n import gettext

TEMPLATES = (
    "vote_recorded",
    "vote_recorded_final",
    "vote_changed",
    "vote_kept",
    "vote_unclear",
    "vote_details",
    "vote_not_registered",
    "vote_none_open",
    "vote_closed",
    "vote_not_open",
    "vote_which",
    "vote_phone_pending",
    "vote_channel_closed",
)


def _for_others(language: str, voters: object) -> str:
    # A number registered for several owners (a couple sharing a landline) votes for each.
    if isinstance(voters, int) and voters > 1:
        return " " + gettext(language, "Counted for {count} owners of this number.", count=voters)
    return ""


def _still_open(language: str, missing: object) -> str:
    if missing:
        return " " + gettext(language, "Not yet answered: question {missing}.", missing=missing)
    return ""


def vote_recorded(
    channel: str,
    language: str,
    *,
    number: object,
    choices: object,
    closes: object,
    voters: object = 1,
    missing: object = "",
    **_: object,
) -> str:
    text = gettext(
        language,
        "Vote #{number}: your answer is recorded ({choices}). You can change it by replying "
        "again until {closes}.",
        number=number,
        choices=choices,
        closes=closes,
    )
    return text + _still_open(language, missing) + _for_others(language, voters)


def vote_recorded_final(
    channel: str,
    language: str,
    *,
    number: object,
    choices: object,
    voters: object = 1,
    missing: object = "",
    **_: object,
) -> str:
    text = gettext(
        language,
        "Vote #{number}: your answer is recorded ({choices}). Under this vote's rules the "
        "first answer counts and cannot be changed.",
        number=number,
        choices=choices,
    )
    return text + _still_open(language, missing) + _for_others(language, voters)


def vote_changed(
    channel: str,
    language: str,
    *,
    number: object,
    choices: object,
    closes: object,
    voters: object = 1,
    missing: object = "",
    **_: object,
) -> str:
    text = gettext(
        language,
        "Vote #{number}: your answer is changed to {choices}; the earlier one no longer "
        "counts. You can change it until {closes}.",
        number=number,
        choices=choices,
        closes=closes,
    )
    return text + _still_open(language, missing) + _for_others(language, voters)


def vote_kept(channel: str, language: str, *, number: object, choices: object, **_: object) -> str:
    return gettext(
        language,
        "Vote #{number}: your first answer stands ({choices}); under this vote's rules it "
        "cannot be changed.",
        number=number,
        choices=choices,
    )


def vote_unclear(channel: str, language: str, *, number: object, how: object, **_: object) -> str:
    return gettext(
        language,
        "Vote #{number}: we could not read your answer, so nothing was recorded. {how}",
        number=number,
        how=how,
    )


def vote_details(
    channel: str, language: str, *, number: object, details: object, **_: object
) -> str:
    return gettext(language, "Vote #{number}: {details}", number=number, details=details)


def vote_not_registered(channel: str, language: str, **_: object) -> str:
    return gettext(
        language,
        "This number is not in the owners' register for an open vote, so your reply was not "
        "counted. If you own a flat here, ask your owners' committee or the service hall to "
        "add your number.",
    )


def vote_none_open(channel: str, language: str, **_: object) -> str:
    return gettext(language, "There is no open vote for this number at the moment.")


def vote_closed(
    channel: str, language: str, *, number: object, title: object, closed: object, **_: object
) -> str:
    return gettext(
        language,
        "Vote #{number} ({title}) closed on {closed}; your reply was not counted.",
        number=number,
        title=title,
        closed=closed,
    )


def vote_not_open(
    channel: str, language: str, *, number: object, title: object, opens: object, **_: object
) -> str:
    return gettext(
        language,
        "Vote #{number} ({title}) opens on {opens}; the questions will come by SMS then.",
        number=number,
        title=title,
        opens=opens,
    )


def vote_which(
    channel: str, language: str, *, ballots: object, example: object, **_: object
) -> str:
    return gettext(
        language,
        "You have several open votes: {ballots}. Start your reply with the vote's number, "
        "e.g. #{example} 1.",
        ballots=ballots,
        example=example,
    )


def vote_phone_pending(channel: str, language: str, *, number: object, **_: object) -> str:
    return gettext(
        language,
        "Vote #{number}: this number was changed in the owners' register and must be "
        "confirmed before it can vote. Text ACCOUNT, your account number and the PIN from "
        "your bill, then reply again; or confirm it at the service hall.",
        number=number,
    )


def vote_channel_closed(channel: str, language: str, *, number: object, **_: object) -> str:
    return gettext(
        language,
        "Vote #{number} does not take SMS replies; the notice says how to vote.",
        number=number,
    )


def render(channel: str, notice: str, language: str, **values: object) -> str:
    """Returns a votes notice's text for ``channel``."""
    template = globals()[notice] if notice in TEMPLATES else None
    if template is None:
        raise KeyError(notice)
    return str(template(channel, language, **values))
