"""What intake itself answers: requests registered and followed up, their status, the
commands (HELP, STATUS, SUBSCRIBE, STOP, START) and one-time codes.

Command words are written in each language's own words in the catalog (СТАТУС, 状态), and
tests/core/test_wording.py reads every word a HELP advertises back through the command
readers, so a reply never tells a resident to send a word the hub does not understand.
"""

from __future__ import annotations

from typing import Any

from channels.templates.say import Say, Style
from core.tickets.enums import TicketStatus
from core.tickets.wording import status_word

# How many requests a list names in an SMS; the rest are counted, not listed.
SMS_LIST_LIMIT = 3


def ticket_created(say: Say, *, number: str, category: str = "", **_: object) -> str:
    if say.style is Style.SHORT:
        return say("Request {number} registered. Reply STATUS {number} to check it.", number=number)
    if say.spoken:
        return say(
            "Your request is registered. Its number is {number}. I repeat: {number}.",
            number=say.ticket(number),
        )
    return say.join(
        say("Your request is registered under number {number}.", number=number),
        say("Topic: {category}.", category=category) if category else "",
        say("Keep the number to check the request later."),
    )


def ticket_continued(say: Say, *, number: str, **_: object) -> str:
    if say.short:
        return say("Added to request {number}.", number=number)
    return say("Your message was added to request {number}.", number=say.ticket(number))


def ticket_joined(say: Say, *, number: str, **_: object) -> str:
    """A message joined to a recent request where it may be a new one: how to split it."""
    return say.join(
        ticket_continued(say, number=number),
        say("If this is a different problem, make it a separate request."),
    )


def _next_step(say: Say, status: str) -> str:
    """Returns what the resident can expect or do, whatever the request's state."""
    if status == TicketStatus.ON_HOLD:
        return say("We are waiting for your answer: reply to this message.")
    if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.REJECTED):
        return say("If the problem is still there, write to us again.")
    return say("We will let you know when it changes.")


def ticket_status(say: Say, *, number: str, status: str, **_: object) -> str:
    word = status_word(say.language, status)
    if say.short:
        head = say("Request {number}: {status}.", number=number, status=word)
    else:
        head = say("Request {number} is now: {status}.", number=say.ticket(number), status=word)
    return say.join(head, _next_step(say, status))


def ticket_list(
    say: Say, *, count: int, items: list[dict[str, Any]], listed: bool = False, **_: object
) -> str:
    """The resident's open requests, answering a bare STATUS.

    ``listed``: the latest requests come as the reply's choices (each channel lists them
    its own way, answered by number), so the text only says how many there are.
    """
    if not count:
        return say("You have no open requests. To report a problem, just describe it.")
    if listed and count > len(items):
        return say.plural(
            "You have {count} open request; the latest {shown}:",
            "You have {count} open requests; the latest {shown}:",
            count,
            shown=len(items),
        )
    head = say.plural("You have {count} open request:", "You have {count} open requests:", count)
    if listed:
        return head
    shown = items[:SMS_LIST_LIMIT] if say.short else items
    lines = [
        say(
            "{number}: {status}",
            number=say.ticket(item["number"]),
            status=status_word(say.language, str(item["status"])),
        )
        for item in shown
    ]
    if len(items) > len(shown):
        lines.append(say.plural("and {count} more", "and {count} more", len(items) - len(shown)))
    return say.lines(head, lines, say("For details, write STATUS and the number."))


def help(say: Say, **_: object) -> str:  # noqa: A001 (the notice is called help)
    if say.short:
        return say(
            "Write your problem and we'll register it. Or: STATUS <number>, BALANCE, "
            "READING cw 120 (cw/hw/el: cold/hot water, electricity), SUBSCRIBE <topic>, STOP"
        )
    if say.spoken:
        return say(
            "After the tone, press the key for your topic, or stay on the line for an operator."
        )
    return "\n".join(
        (
            say("Describe your problem in one message, and add the address."),
            say("To check a request, send: STATUS and its number."),
            say(
                "Bills: BALANCE, DETAILS, PAYMENTS, WHY. Meter readings: READING cw 120 hw 45 "
                "el 3000 (cw cold water, hw hot water, el electricity)."
            ),
            say(
                "Notices: SUBSCRIBE and a topic (OUTAGES, STATUS, VOTES, BILLING); STOP ends "
                "them all, START turns them on again."
            ),
        )
    )


def command_usage(say: Say, *, command: str, **_: object) -> str:
    """How to use a command sent without what it needs ("subscribe" alone)."""
    if command == "subscribe":
        return say(
            "To subscribe, write SUBSCRIBE and a topic: OUTAGES, STATUS, VOTES or BILLING. "
            "E.g. SUBSCRIBE OUTAGES."
        )
    if command == "unsubscribe":
        return say(
            "To stop one topic, write UNSUBSCRIBE and the topic, e.g. UNSUBSCRIBE VOTES. "
            "STOP ends all notices."
        )
    if command == "status":
        return say("To check a request, write STATUS and its number, e.g. STATUS 0000018.")
    return help(say)


def choice_again(say: Say, **_: object) -> str:
    """A digit or button that matches none of the choices offered: they follow again."""
    return say("That is not one of the choices. Please choose again.")


def choice_stale(say: Say, **_: object) -> str:
    """An answer to choices that have expired or changed: nothing was done with it."""
    return say("Those choices are no longer open, so nothing was changed. Please write again.")


def status_unknown(say: Say, *, number: str, **_: object) -> str:
    return say.join(
        say("We found no request {number} from this number.", number=say.ticket(number)),
        say("Write STATUS alone to see your requests."),
    )


def opted_out(say: Say, **_: object) -> str:
    return say("You will get no more notices. Reply START to get them again.")


def opted_in(say: Say, **_: object) -> str:
    return say("Notices are on again. Reply STOP to turn them off.")


def subscribed(say: Say, *, topic: str, **_: object) -> str:
    return say("Subscribed: {topic}.", topic=say(f"topic:{topic}"))


def unsubscribed(say: Say, *, topic: str, **_: object) -> str:
    return say("Unsubscribed: {topic}.", topic=say(f"topic:{topic}"))


def otp_code(say: Say, *, code: str, **_: object) -> str:
    return say(
        "Your code: {code}. It is valid for 10 minutes. Do not tell it to anyone.",
        code=say.ticket(code),
    )


TEMPLATES = {
    "ticket_created": ticket_created,
    "ticket_continued": ticket_continued,
    "ticket_joined": ticket_joined,
    "ticket_status": ticket_status,
    "ticket_list": ticket_list,
    "help": help,
    "command_usage": command_usage,
    "choice_again": choice_again,
    "choice_stale": choice_stale,
    "status_unknown": status_unknown,
    "opted_out": opted_out,
    "opted_in": opted_in,
    "subscribed": subscribed,
    "unsubscribed": unsubscribed,
    "otp_code": otp_code,
}
