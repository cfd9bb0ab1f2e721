"""The installed channels: their specs, their senders, and how each words a reply.

The registry is built once per process by the composition root (channels/installed.py)
and handed to the hub; the core reads channels only through it, so it imports no channel
package and needs no edit when a channel is added.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.contract import CHANNEL_NAME_PATTERN, Sender, Structure
from channels.spec import ChannelSpec, Delivery
from core.config import Settings

# Where a hub's sessions carry its registry (see ``bind``).
SESSION_KEY = "hub.channels"


class UnknownChannel(LookupError):
    """No installed channel has this name."""


class ChannelRegistry:
    def __init__(
        self,
        specs: Iterable[ChannelSpec],
        *,
        settings: Settings,
        senders: Mapping[str, Sender] | None = None,
    ) -> None:
        self._specs: dict[str, ChannelSpec] = {}
        for spec in specs:
            if not re.fullmatch(CHANNEL_NAME_PATTERN, spec.name):
                raise ValueError(f"channel name {spec.name!r} must match {CHANNEL_NAME_PATTERN}")
            if spec.name in self._specs:
                raise ValueError(f"channel {spec.name!r} is declared twice")
            self._specs[str(spec.name)] = spec
        for spec in self._specs.values():
            if spec.notify_via is not None and spec.notify_via not in self._specs:
                raise ValueError(f"{spec.name} notifies via {spec.notify_via!r}, not installed")
        self._settings = settings
        # Senders are built on first use: a process that never sends SMS (a test, the CLI)
        # never needs the provider's settings to be complete.
        self._senders: dict[str, Sender] = {}
        for name, sender in (senders or {}).items():
            self.spec(name)
            self._senders[name] = sender

    def names(self) -> tuple[str, ...]:
        """Returns the installed channels' names, in the order they were listed."""
        return tuple(self._specs)

    def spec(self, name: str) -> ChannelSpec:
        """Returns the spec of channel ``name``, or raises UnknownChannel."""
        try:
            return self._specs[str(name)]
        except KeyError:
            raise UnknownChannel(f"unknown channel {str(name)!r}") from None

    def sender(self, name: str) -> Sender:
        """Returns the sender that delivers channel ``name``'s messages."""
        spec = self.spec(name)
        if spec.name not in self._senders:
            self._senders[spec.name] = spec.sender(self._settings)
        return self._senders[spec.name]

    def render(self, name: str, structure: Structure, language: str) -> str:
        """Returns ``structure`` worded for channel ``name`` in ``language``."""
        return self.spec(name).render(structure, language)

    def address_kind(self, name: str) -> str:
        """Returns the kind of address residents have on channel ``name`` (phone, …)."""
        return str(self.spec(name).address_kind)

    def is_inline(self, name: str) -> bool:
        """Whether channel ``name`` answers within the resident's own request or call."""
        return self.spec(name).delivery is Delivery.INLINE

    def notify_channel(self, name: str) -> str | None:
        """Returns where later notices about a ticket raised on ``name`` go; None if nowhere.

        An inline channel without a ``notify_via`` (the web page) keeps them for the
        resident to read when they come back; a channel nobody is told on (Open311, whose
        clients poll) has none.
        """
        spec = self.spec(name)
        if spec.notify_via is not None:
            return spec.notify_via
        return None if spec.delivery is Delivery.NONE else spec.name

    def notices_channel(self, address_kind: str) -> str | None:
        """Returns the channel that carries notices to an address of ``address_kind``.

        Notices to a list of phones (a ballot, a company) go on the first installed
        provider channel for phones: SMS today, whatever replaces it tomorrow.
        """
        for spec in self._specs.values():
            if spec.address_kind == address_kind and spec.delivery is Delivery.PROVIDER:
                return spec.name
        return None


def bind(session_factory: async_sessionmaker[AsyncSession], registry: ChannelRegistry) -> None:
    """Makes every session of ``session_factory`` carry ``registry`` (see ``of_session``).

    Core services take a session, not the hub; those that must know a channel (a ticket's
    notice going by SMS after a call, a ballot going to phones) find the registry of the
    hub that opened the session here, instead of every back office passing it down.
    """
    info: dict[str, Any] = dict(session_factory.kw.get("info") or {})
    info[SESSION_KEY] = registry
    session_factory.configure(info=info)


def of_session(db_session: AsyncSession) -> ChannelRegistry:
    """Returns the channel registry of the hub that opened ``db_session``."""
    registry = db_session.info.get(SESSION_KEY)
    if not isinstance(registry, ChannelRegistry):
        raise RuntimeError("this session was not opened by a hub with channels (bind())")
    return registry
