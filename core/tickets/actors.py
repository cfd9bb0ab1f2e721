"""Who acted on a ticket: a typed value stored as two columns (kind, id) of ``ticket_events``.

Code written before the typed actor passes strings ("system", "resident", "staff:8",
"apikey:3"); ``Actor.parse`` reads them, so callers move over one at a time. The same
strings stay the actor's ``token`` in the staff API, which has always shown them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.tickets.enums import ActorKind

# The legacy prefix of each kind that carries an id ("apikey:3", not "api_key:3").
_PREFIX = {ActorKind.STAFF: "staff", ActorKind.API_KEY: "apikey", ActorKind.PROVIDER: "provider"}
_KIND_OF_PREFIX = {prefix: kind for kind, prefix in _PREFIX.items()}
_WITH_ID = frozenset({ActorKind.STAFF, ActorKind.API_KEY})


class UnknownActor(ValueError):
    """A string that names no actor the audit trail knows."""


@dataclass(frozen=True)
class Actor:
    """A kind of actor and, for staff members and API keys, which one."""

    kind: ActorKind
    id: int | None = None

    SYSTEM: ClassVar[Actor]
    RESIDENT: ClassVar[Actor]
    PROVIDER: ClassVar[Actor]

    def __post_init__(self) -> None:
        # A staff action without the staff member is not an audit trail; an id on the
        # hub's own actions would be a number nobody can look up.
        if (self.kind in _WITH_ID) != (self.id is not None):
            raise UnknownActor(f"{self.kind} actor {'needs' if self.id is None else 'has'} an id")

    @classmethod
    def staff(cls, staff_id: int) -> Actor:
        """Returns the actor for a staff member."""
        return cls(ActorKind.STAFF, staff_id)

    @classmethod
    def api_key(cls, key_id: int) -> Actor:
        """Returns the actor for a partner system's API key."""
        return cls(ActorKind.API_KEY, key_id)

    @classmethod
    def parse(cls, value: Actor | str) -> Actor:
        """Returns the actor a legacy string names ("staff:8"); raises UnknownActor."""
        if isinstance(value, Actor):
            return value
        prefix, colon, number = value.partition(":")
        if not colon:
            try:
                return cls(ActorKind(prefix))
            except ValueError as exc:
                raise UnknownActor(f"no actor {value!r}") from exc
        kind = _KIND_OF_PREFIX.get(prefix)
        if kind is None or not number.isdigit() or len(number) > 10:
            raise UnknownActor(f"no actor {value!r}")
        return cls(kind, int(number))

    @property
    def token(self) -> str:
        """Returns the actor as the API has always written it: "staff:8", "resident"."""
        if self.id is None:
            return str(self.kind)
        return f"{_PREFIX[self.kind]}:{self.id}"

    def __str__(self) -> str:
        return self.token


Actor.SYSTEM = Actor(ActorKind.SYSTEM)
Actor.RESIDENT = Actor(ActorKind.RESIDENT)
Actor.PROVIDER = Actor(ActorKind.PROVIDER)
