"""What an owner reads in answer to a ballot reply: the receipt, or why it was not counted.
The ballot itself, its announcement and its results are bulk notices written by
core/votes/notify.py. Times come as the votes back office wrote them, or as ISO times,
which are written out in the city's zone."""

from __future__ import annotations

from channels.templates.say import Say


def _for_others(say: Say, voters: object) -> str:
    # A number registered for several owners (a couple sharing a landline) votes for each.
    if isinstance(voters, int) and voters > 1:
        return say.plural(
            "Counted for {count} owner of this number.",
            "Counted for {count} owners of this number.",
            voters,
        )
    return ""


def _still_open(say: Say, missing: object) -> str:
    if missing:
        return say("Not yet answered: question {missing}.", missing=missing)
    return ""


def vote_recorded(
    say: Say,
    *,
    number: object,
    choices: object,
    closes: object,
    voters: object = 1,
    missing: object = "",
    **_: object,
) -> str:
    text = say(
        "Vote #{number}: your answer is recorded ({choices}). You can change it by replying "
        "again until {closes}.",
        number=number,
        choices=choices,
        closes=say.moment(closes),
    )
    return say.join(text, _still_open(say, missing), _for_others(say, voters))


def vote_recorded_final(
    say: Say,
    *,
    number: object,
    choices: object,
    voters: object = 1,
    missing: object = "",
    **_: object,
) -> str:
    text = say(
        "Vote #{number}: your answer is recorded ({choices}). Under this vote's rules the "
        "first answer counts and cannot be changed.",
        number=number,
        choices=choices,
    )
    return say.join(text, _still_open(say, missing), _for_others(say, voters))


def vote_changed(
    say: Say,
    *,
    number: object,
    choices: object,
    closes: object,
    voters: object = 1,
    missing: object = "",
    **_: object,
) -> str:
    text = say(
        "Vote #{number}: your answer is changed to {choices}; the earlier one no longer "
        "counts. You can change it until {closes}.",
        number=number,
        choices=choices,
        closes=say.moment(closes),
    )
    return say.join(text, _still_open(say, missing), _for_others(say, voters))


def vote_kept(say: Say, *, number: object, choices: object, **_: object) -> str:
    return say(
        "Vote #{number}: your first answer stands ({choices}); under this vote's rules it "
        "cannot be changed.",
        number=number,
        choices=choices,
    )


def vote_unclear(say: Say, *, number: object, how: object, **_: object) -> str:
    return say(
        "Vote #{number}: we could not read your answer, so nothing was recorded. {how}",
        number=number,
        how=how,
    )


def vote_details(say: Say, *, number: object, details: object, **_: object) -> str:
    return say("Vote #{number}: {details}", number=number, details=details)


def vote_not_registered(say: Say, **_: object) -> str:
    return say(
        "This number is not in the owners' register for an open vote, so your reply was not "
        "counted. If you own a flat here, ask your owners' committee or the service hall to "
        "add your number."
    )


def vote_none_open(say: Say, **_: object) -> str:
    return say("There is no open vote for this number at the moment.")


def vote_closed(say: Say, *, number: object, title: object, closed: object, **_: object) -> str:
    return say(
        "Vote #{number} ({title}) closed on {closed}; your reply was not counted.",
        number=number,
        title=title,
        closed=say.moment(closed),
    )


def vote_not_open(say: Say, *, number: object, title: object, opens: object, **_: object) -> str:
    return say(
        "Vote #{number} ({title}) opens on {opens}; the questions will come by SMS then.",
        number=number,
        title=title,
        opens=say.moment(opens),
    )


def vote_which(say: Say, *, ballots: object, example: object, **_: object) -> str:
    return say(
        "You have several open votes: {ballots}. Start your reply with the vote's number, "
        "e.g. #{example} 1.",
        ballots=ballots,
        example=example,
    )


def vote_phone_pending(say: Say, *, number: object, **_: object) -> str:
    return say(
        "Vote #{number}: this number was changed in the owners' register and must be "
        "confirmed before it can vote. Text ACCOUNT, your account number and the PIN from "
        "your bill, then reply again; or confirm it at the service hall.",
        number=number,
    )


def vote_channel_closed(say: Say, *, number: object, **_: object) -> str:
    return say(
        "Vote #{number} does not take SMS replies; the notice says how to vote.",
        number=number,
    )


TEMPLATES = {
    "vote_recorded": vote_recorded,
    "vote_recorded_final": vote_recorded_final,
    "vote_changed": vote_changed,
    "vote_kept": vote_kept,
    "vote_unclear": vote_unclear,
    "vote_details": vote_details,
    "vote_not_registered": vote_not_registered,
    "vote_none_open": vote_none_open,
    "vote_closed": vote_closed,
    "vote_not_open": vote_not_open,
    "vote_which": vote_which,
    "vote_phone_pending": vote_phone_pending,
    "vote_channel_closed": vote_channel_closed,
}
