"""Which sender delivers each channel's messages."""

from __future__ import annotations

from channels.console import ConsoleSender
from channels.contract import Channel, Sender
from core.config import Settings


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


def build_registry(settings: Settings) -> SenderRegistry:
    """Returns the senders the settings ask for: Twilio for SMS when configured, else console."""
    registry = console_registry()
    if settings.twilio_account_sid:
        from sms.ratelimit import SendingRate
        from sms.sender import TwilioSender

        rate = SendingRate(
            per_second=settings.sms_rate_per_second,
            reply_reserve=settings.sms_reply_reserve,
            redis_url=settings.redis_url,
        )
        registry.register(TwilioSender(settings, rate=rate))
    return registry


def console_registry() -> SenderRegistry:
    """Returns a registry with the console sender on every channel (the embedded default)."""
    return SenderRegistry({channel: ConsoleSender(channel) for channel in Channel})
