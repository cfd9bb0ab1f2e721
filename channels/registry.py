"""Which sender delivers each channel's messages."""

from __future__ import annotations

from channels.console import ConsoleSender
from channels.contract import Channel, Sender


class UnknownChannel(LookupError):
    """No sender is configured for a channel."""


class SenderRegistry:
    def __init__(self, senders: dict[Channel, Sender] | None = None) -> None:
        self._senders: dict[Channel, Sender] = dict(senders or {})

    def register(self, sender: Sender) -> None:
        """Makes ``sender`` the one that delivers its channel."""
        self._senders[sender.channel] = sender

    def get(self, channel: Channel | str) -> Sender:
        """Returns the sender for ``channel``."""
        try:
            return self._senders[Channel(channel)]
        except (KeyError, ValueError) as exc:
            raise UnknownChannel(str(channel)) from exc


def console_registry() -> SenderRegistry:
    """Returns a registry with the console sender on every channel (the embedded default)."""
    return SenderRegistry({channel: ConsoleSender(channel) for channel in Channel})
