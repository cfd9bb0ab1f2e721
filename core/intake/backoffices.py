"""The hand-off from intake to a back office, and the registry of back offices."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channels.contract import InboundMessage
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
