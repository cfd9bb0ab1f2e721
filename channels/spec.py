"""What a channel is, declared once: the one record the hub reads about a channel.

A channel's package (sms/, later bot/ and ivr/) exports one ``ChannelSpec``; one tuple in
channels/installed.py lists the installed ones. Nothing else in the hub says which
channels exist, so adding one is its package plus one line there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from fastapi import APIRouter

from channels.contract import Sender, Structure
from core.config import Settings
from core.residents.enums import ContactKind


class Delivery(StrEnum):
    """How a channel's answer reaches the resident."""

    # The answer goes back within the same request or call (a phone call, a kiosk, a web
    # page): nobody is there to receive it later, so it is never queued or re-sent.
    INLINE = "inline"
    # A provider carries it (Twilio, the Telegram Bot API): queued, retried, reported on.
    PROVIDER = "provider"
    # Nothing is sent: the client polls for what it wants (Open311).
    NONE = "none"


class Compose(StrEnum):
    """What a resident sends on the channel, for the simulator to offer the right field."""

    TEXT = "text"
    KEYS = "keys"


@dataclass(frozen=True)
class Capabilities:
    """What a channel can carry, for back offices deciding what to ask for."""

    photo: bool = False
    location: bool = False
    voice: bool = False
    buttons: bool = False
    # Characters in one message; None when the channel sets no limit of its own.
    max_length: int | None = None
    # Whether a message is billed in SMS parts (the outbox counts them when it is written).
    segmented: bool = False


SenderFactory = Callable[[Settings], Sender]
Renderer = Callable[["ChannelSpec", Structure, str], str]


@dataclass(frozen=True)
class ChannelSpec:
    """One channel: how residents are addressed on it, how its messages are sent and worded."""

    name: str
    address_kind: ContactKind
    # Builds the channel's sender from the settings (a provider's, or the console one).
    sender: SenderFactory
    # Words a structured reply for this channel (channels/render.py has the usual ones).
    renderer: Renderer
    delivery: Delivery
    capabilities: Capabilities = field(default_factory=Capabilities)
    # Which per-notice template module words its notices (channels/templates/<style>.py).
    text_style: str = "web"
    # Where later notices about a ticket go when this channel cannot carry them: a caller
    # has hung up and a kiosk user has walked away, so they hear about their ticket by SMS.
    notify_via: str | None = None
    # What a resident sends on it; None: not something a person can play in the simulator.
    compose: Compose | None = None
    # The channel's own top-level menu, answering no earlier reply (the IVR's first menu,
    # the kiosk's tiles): the key pressed or tile touched → a category code.
    menu: Mapping[str, str] = field(default_factory=dict)
    # The channel's own web routes (a provider's webhooks), mounted by the web app.
    routers: tuple[APIRouter, ...] = ()

    def render(self, structure: Structure, language: str) -> str:
        """Returns ``structure`` worded for this channel in ``language``."""
        return self.renderer(self, structure, language)
