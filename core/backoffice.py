"""The contract between intake and the back offices, and the registry of installed ones.

Each back office package exports one ``SPEC`` (a ``BackOfficeSpec``): its name, the ticket
kinds it takes, the readers that claim messages for it, its handler and continuation, and
what it adds to the web app, the worker, the demo city and the importers. The installed
specs are listed once, in ``core/installed.py``, and handed to the hub by whoever builds it;
nothing registers itself by being imported.

This module sits beside ``core.intake`` rather than inside it so that a back office can
import the contract without importing the pipeline that calls it (no cycle between them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from channels.contract import Choice, Expect, InboundMessage, Structure
from core.config import Settings
from core.importing.service import Finisher, Importers, RowImporter
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
class Claim:
    """A back office recognising a message as its own, with what it already read from it.

    ``payload`` is the reader's parse (a billing command, the ballots a phone stands on),
    handed to the handler so nothing is parsed twice.
    """

    back_office: str
    kind: str
    payload: Any = None


@dataclass(frozen=True)
class Answer:
    """A resident's pick among the choices a back office offered, handed back to it as
    its claim's payload with what it kept to act on it (the original command)."""

    choice: Choice
    context: dict[str, Any]


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
    # The claim that brought the message here, when a reader claimed it.
    claim: Claim | None = None

    @property
    def actor(self) -> str:
        """Who filed it, for the ticket's history: the resident, or whoever took it."""
        return self.message.taken_by or "resident"


def notice(
    name: str,
    *,
    choices: Sequence[Choice] = (),
    expects: Expect | None = None,
    handoff: bool = False,
    **values: Any,
) -> Structure:
    """Returns a structured reply: a notice name, its values, and what may follow."""
    return Structure(
        notice=name, values=values, choices=tuple(choices), expects=expects, handoff=handoff
    )


# A reply as a back office gives it: a plain ``(notice, values)`` pair, or a structure.
Reply = Structure | tuple[str, dict[str, Any]]


@dataclass
class Outcome:
    """What a back office did: the ticket it touched and the replies to send back.

    Replies may be given as ``(notice, values)`` pairs (a plain answer) or as ``Structure``
    (with choices, what is expected next, a hand-off); both end as structures.
    """

    ticket: Ticket | None
    notices: list[Reply] = field(default_factory=list)
    # When the last reply offers choices: what answering them means (a back office's
    # name, or intake's own "split" / "status") and what acting on the answer needs.
    purpose: str | None = None
    context: dict[str, Any] = field(default_factory=dict)

    def replies(self) -> list[Structure]:
        """Returns the replies as structures."""
        return [
            item if isinstance(item, Structure) else Structure(notice=item[0], values=item[1])
            for item in self.notices
        ]


# Called as ``await handler(db_session=..., request=RoutedRequest)`` inside intake's
# transaction, which runs with autoflush off: flush() before querying rows you just added.
Handler = Callable[..., Awaitable[Outcome]]

# Reads a message's text; returns a Claim when the text is a command of that back office.
CommandReader = Callable[[str], Claim | None]

# Called as ``await reader(db_session=..., contact=Contact, message=InboundMessage,
# awaiting_answer=bool, now=datetime)``: reads a message against what the sender is in
# the middle of with that back office (an open ballot for their phone), before it is
# taken as a follow-up or a new request. ``awaiting_answer``: a ticket waits for this
# contact's answer. Must not write.
ConversationReader = Callable[..., Awaitable[Claim | None]]

# Called as ``await follow(db_session=..., ticket=..., message=InboundMessage,
# routing=RoutingTable, settings=Settings, now=datetime)`` when a resident writes again
# on a ticket of that back office (a reply to "is it solved?"); intake then adds the
# message to the ticket. Returns the Outcome, None for the ordinary "added to your
# request" answer, or raises NotAFollowUp.
Continuation = Callable[..., Awaitable[Outcome | None]]

# Called as ``await awaits(db_session=..., ticket=Ticket)``: whether the back office has
# asked the resident something on this ticket that the next message may answer.
AwaitsAnswer = Callable[..., Awaitable[bool]]


# Called as ``await card(db_session=..., resident_id=int, language=str, settings=Settings)``:
# the lines a back office adds to a resident's card in the console (a balance, an open
# ballot), each already in words; read-only.
CardReader = Callable[..., Awaitable[list[str]]]


@dataclass(frozen=True)
class DemoContext:
    """What the demo city's loaders may need besides the session."""

    with_staff: bool
    # The key account PINs are hashed with; without it billing's demo is left out (tests
    # and benchmarks set billing up their own way).
    billing_secret: str | None
    today: date


# Loads the back office's part of the demo city, after the city itself:
# ``await load(db_session=..., demo=DemoContext)``.
DemoLoader = Callable[..., Awaitable[None]]


class NotAFollowUp(Exception):  # noqa: N818 (a signal, not an error)
    """Raised by a continuation, before it writes anything: the message is a new request."""


@dataclass(frozen=True)
class BackOfficeSpec:
    """One back office, declared once."""

    name: str
    kinds: tuple[str, ...]
    handler: Handler
    # Pure readers of a message's text (commands such as "баланс").
    command_reader: CommandReader | None = None
    # Readers that look at what the sender is in the middle of (an open ballot).
    conversation_reader: ConversationReader | None = None
    continuation: Continuation | None = None
    awaits_answer: AwaitsAnswer | None = None
    # FastAPI routers mounted under /api/v1.
    routers: tuple[Any, ...] = ()
    # SAQ job functions and CronJobs the worker runs for this back office.
    jobs: tuple[Callable[..., Awaitable[Any]], ...] = ()
    cron_jobs: tuple[Any, ...] = ()
    # The demo city's part for this back office, and the back offices whose parts must
    # be loaded first (it builds on their rows, or keeps the ids the demo always had).
    demo: DemoLoader | None = None
    demo_after: tuple[str, ...] = ()
    # Import kinds (``hub import <kind> FILE``): row importer and required columns, and
    # the whole-file steps some of them finish with.
    importers: Importers = field(default_factory=dict)
    finishers: Mapping[str, Finisher] = field(default_factory=dict)
    # Its lines on a resident's card in the console (see ``CardReader``).
    card: CardReader | None = None


class BackOffices:
    """The installed back offices, looked up by name; built from one tuple of specs."""

    def __init__(self, specs: Sequence[BackOfficeSpec]) -> None:
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"a back office is installed twice: {names}")
        if BackOffice.GENERAL not in names:
            raise ValueError("the general triage back office must be installed")
        self.specs: tuple[BackOfficeSpec, ...] = tuple(specs)
        self._by_name = {spec.name: spec for spec in specs}

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> BackOfficeSpec | None:
        return self._by_name.get(name)

    def handler_for(self, back_office: str) -> tuple[str, Handler]:
        """Returns the back office that will actually take a request, and its handler.

        A rule may name a back office this installation does not run (yet); the request
        then waits in general triage rather than being lost.
        """
        spec = self._by_name.get(back_office) or self._by_name[BackOffice.GENERAL]
        return spec.name, spec.handler

    def continuation_for(self, back_office: str) -> Continuation | None:
        spec = self._by_name.get(back_office)
        return spec.continuation if spec else None

    def claim(self, text: str) -> Claim | None:
        """Returns the first back office's claim on a command text, or None."""
        for spec in self.specs:
            if spec.command_reader is not None:
                found = spec.command_reader(text)
                if found is not None:
                    return found
        return None

    async def claim_in_conversation(self, **context: Any) -> Claim | None:
        """Returns the first back office's claim on a message in its conversation."""
        for spec in self.specs:
            if spec.conversation_reader is not None:
                found = await spec.conversation_reader(**context)
                if found is not None:
                    return found
        return None

    async def awaits_answer(self, *, db_session: Any, ticket: Ticket) -> bool:
        """Returns whether the ticket's back office asked the resident something."""
        spec = self._by_name.get(ticket.back_office)
        if spec is None or spec.awaits_answer is None:
            return False
        return await spec.awaits_answer(db_session=db_session, ticket=ticket)

    async def card_lines(self, **context: Any) -> dict[str, list[str]]:
        """Returns each back office's lines on a resident's card, by back office."""
        lines = {}
        for spec in self.specs:
            if spec.card is not None:
                found = await spec.card(**context)
                if found:
                    lines[spec.name] = found
        return lines

    def routers(self) -> list[Any]:
        return [router for spec in self.specs for router in spec.routers]

    def jobs(self) -> list[Callable[..., Awaitable[Any]]]:
        return [job for spec in self.specs for job in spec.jobs]

    def cron_jobs(self) -> list[Any]:
        return [job for spec in self.specs for job in spec.cron_jobs]

    def demo_loaders(self) -> list[DemoLoader]:
        """Returns the demo loaders, each after the ones it names (else in INSTALLED order)."""
        ordered: list[BackOfficeSpec] = []
        waiting = [spec for spec in self.specs if spec.demo is not None]
        while waiting:
            done = {spec.name for spec in ordered}
            ready = next(
                (s for s in waiting if all(n in done or n not in self for n in s.demo_after)),
                None,
            )
            if ready is None:
                raise ValueError(f"demo loaders wait on each other: {[s.name for s in waiting]}")
            ordered.append(ready)
            waiting.remove(ready)
        return [spec.demo for spec in ordered if spec.demo is not None]

    def importers(self) -> dict[str, tuple[RowImporter, tuple[str, ...]]]:
        return {kind: entry for spec in self.specs for kind, entry in spec.importers.items()}

    def finishers(self) -> dict[str, Finisher]:
        return {kind: step for spec in self.specs for kind, step in spec.finishers.items()}
