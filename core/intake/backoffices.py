"""The hand-off from intake to a back office, and the registry of back offices."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channels.contract import InboundMessage
from core.config import Settings
from core.residents.models import Contact
from core.routing.enums import BackOffice
from core.routing.models import Category
from core.routing.service import Route, RoutingTable
from core.tickets.models import Ticket


@dataclass(frozen=True)
class Home:
    building_id: int
    community_id: int
    district_id: int


@dataclass(frozen=True)
class RoutedRequest:
    """Everything a back office needs about one inbound message, and nothing of providers."""

    inbound_id: int
    message: InboundMessage
    contact: Contact
    language: str
    category: Category | None
    kind: str
    route: Route
    home: Home | None
    routing: RoutingTable
    now: datetime
    settings: Settings


@dataclass
class Outcome:
    """What a back office did: the ticket it touched and the notices to send back."""

    ticket: Ticket | None
    # (notice name, template values), rendered for the resident's channel and language.
    notices: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


# Called as ``await handler(db_session=..., request=RoutedRequest)`` inside intake's
# transaction, which runs with autoflush off: flush() before querying rows you just added.
Handler = Callable[..., Awaitable[Outcome]]

_HANDLERS: dict[str, Handler] = {}


@dataclass(frozen=True)
class Claim:
    """A back office recognising a message as one of its own commands ("баланс")."""

    back_office: str
    kind: str


# Reads a message's text; returns a Claim when the text is a command of that back office.
CommandReader = Callable[[str], Claim | None]

_READERS: list[CommandReader] = []


def register(back_office: BackOffice | str, handler: Handler) -> None:
    """Makes ``handler`` receive the requests routed to ``back_office``."""
    _HANDLERS[str(back_office)] = handler


def handler_for(back_office: str) -> tuple[str, Handler]:
    """Returns the back office that will actually take a request, and its handler.

    A rule may name a back office this installation does not run (yet); the request then
    waits in general triage rather than being lost.
    """
    if back_office in _HANDLERS:
        return back_office, _HANDLERS[back_office]
    return BackOffice.GENERAL, _HANDLERS[BackOffice.GENERAL]


class NotAFollowUp(Exception):  # noqa: N818 (a signal, not an error)
    """Raised by a continuation, before it writes anything: the message is a new request."""


# Called as ``await follow(db_session=..., ticket=..., message=InboundMessage,
# routing=RoutingTable, settings=Settings, now=datetime)`` when a resident writes again
# on a ticket of that back office (a reply to "is it solved?"); intake then adds the
# message to the ticket. Returns the Outcome, None for the ordinary "added to your
# request" answer, or raises NotAFollowUp.
Continuation = Callable[..., Awaitable[Outcome | None]]

_CONTINUATIONS: dict[str, Continuation] = {}


def register_continuation(back_office: BackOffice | str, follow: Continuation) -> None:
    """Lets a back office read the follow-up messages on its own tickets."""
    _CONTINUATIONS[str(back_office)] = follow


def continuation_for(back_office: str) -> Continuation | None:
    """Returns the back office's reader of follow-up messages, or None."""
    return _CONTINUATIONS.get(back_office)


# Called as ``await reader(db_session=..., contact=Contact, message=InboundMessage,
# awaiting_answer=bool, now=datetime)``: reads a message against what the sender is in
# the middle of with that back office (an open ballot for their phone), before it is
# taken as a follow-up or a new request. ``awaiting_answer``: a ticket waits for this
# contact's answer. Must not write.
ConversationReader = Callable[..., Awaitable[Claim | None]]

_CONVERSATIONS: list[ConversationReader] = []


def register_conversation(reader: ConversationReader) -> None:
    """Lets a back office claim messages that answer something it asked the sender."""
    if reader not in _CONVERSATIONS:
        _CONVERSATIONS.append(reader)


async def claim_in_conversation(**context: Any) -> Claim | None:
    """Returns the first back office's claim on a message in its conversation, or None."""
    for reader in _CONVERSATIONS:
        found = await reader(**context)
        if found is not None and found.back_office in _HANDLERS:
            return found
    return None


def register_reader(reader: CommandReader) -> None:
    """Lets a back office claim command texts before they are classified as requests."""
    if reader not in _READERS:
        _READERS.append(reader)


def claim(text: str) -> Claim | None:
    """Returns the first back office claim on ``text``, or None."""
    for reader in _READERS:
        found = reader(text)
        if found is not None and found.back_office in _HANDLERS:
            return found
    return None
