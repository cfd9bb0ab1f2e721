"""What every channel adapter hands to the core, and what every sender must do.

Adapters know providers; the core knows only these types.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Channel(StrEnum):
    """Names of channels that code and tests refer to by name, spelled once.

    Not the list of channels: which exist is said by the registry alone
    (channels/installed.py). A message or reply carries any installed channel's name
    (``ChannelName``), so a new channel needs no member here.
    """

    SMS = "sms"
    TELEGRAM = "telegram"
    VOICE = "voice"
    WEB = "web"
    KIOSK = "kiosk"
    OPEN311 = "open311"
    API = "api"


# A channel's name as messages and replies carry it; the registry says whether it exists.
CHANNEL_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,15}$"
ChannelName = Annotated[str, Field(pattern=CHANNEL_NAME_PATTERN)]


class Expect(StrEnum):
    """What the hub expects as the next message of a conversation."""

    TEXT = "text"
    NUMBER = "number"
    YES_NO = "yes_no"
    CHOICE = "choice"
    LOCATION = "location"
    PHOTO = "photo"
    RECORDING = "recording"


class Choice(BaseModel):
    """One answer a reply offers: a stable id and its label in each language."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    labels: dict[str, str] = Field(default_factory=dict)

    def label(self, language: str) -> str:
        """Returns the label in ``language``, else English, else the id."""
        return self.labels.get(language) or self.labels.get("en") or self.id


class Structure(BaseModel):
    """What a reply means, before any channel words it: a notice, its values, the choices
    offered, what the hub expects next, and whether a person takes over.

    Every channel renders the same structure its own way (a numbered SMS list, an inline
    keyboard, a DTMF map, buttons); the outbox keeps it beside the rendered text.
    """

    model_config = ConfigDict(frozen=True)

    notice: str = Field(min_length=1, max_length=64)
    values: dict[str, Any] = Field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    expects: Expect | None = None
    handoff: bool = False


class Location(BaseModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Attachment(BaseModel):
    url: str = Field(max_length=2000)
    content_type: str | None = Field(default=None, max_length=100)


# A form answer: text, a number, a yes/no, or the keys picked from a list.
FieldValue = str | bool | int | float | list[str]


class InboundMessage(BaseModel):
    """One message from a resident, normalised by its channel adapter."""

    model_config = ConfigDict(frozen=True)

    channel: ChannelName
    sender_address: str = Field(min_length=1, max_length=200)
    text: str = Field(default="", max_length=4000)
    provider_message_id: str = Field(min_length=1, max_length=200)
    received_at: datetime
    attachments: list[Attachment] = Field(default_factory=list, max_length=10)
    location: Location | None = None
    address_text: str | None = Field(default=None, max_length=500)
    # A menu choice already made by the channel (IVR key presses, a kiosk button):
    # it decides the intent without reading the text.
    menu_choice: str | None = Field(default=None, max_length=20)
    # A button the resident pressed: the id of a choice a reply offered (channels with
    # buttons send it; a digit typed on SMS is matched to it by intake).
    choice_id: str | None = Field(default=None, max_length=64)
    # Typed fields a channel collected in a form (Open311 attributes, an estate picked):
    # back offices read these, never the provider's raw payload.
    # Values keep their type (a number, a list of keys) so nothing is parsed twice.
    fields: dict[str, FieldValue] = Field(default_factory=dict, max_length=50)
    # A category picked explicitly (a kiosk tile, an agent's form, an Open311 service code).
    category_code: str | None = Field(default=None, max_length=32)
    language: str | None = Field(default=None, max_length=8)
    display_name: str | None = Field(default=None, max_length=200)
    # Who took the message on the resident's behalf ("staff:8", "apikey:3"): set by the
    # hub's own ticket API, never read from a provider's payload. None: the resident.
    taken_by: str | None = Field(default=None, max_length=64, pattern=r"^[a-z_]+(:[0-9]+)?$")
    # Whether a message may join the sender's ticket opened a few minutes ago.
    continue_recent: bool = True
    raw: dict[str, Any] = Field(default_factory=dict)

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("received_at must carry a timezone")
        return value

    @field_validator("text")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.replace("\x00", "").strip()

    @field_validator("sender_address", "address_text", "display_name", "provider_message_id")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        # PostgreSQL text cannot hold NUL; a stray one would fail the raw record itself.
        return value.replace("\x00", "") if value is not None else None


class Reply(BaseModel):
    """A message the core wants delivered to one address on one channel."""

    channel: ChannelName
    address: str
    text: str
    language: str
    # Part of a notice to many: senders let replies to residents go first.
    bulk: bool = False
    # The hub's own id for the message, for providers that echo it in status reports.
    reference: str | None = None
    # What the text says, for channels that render it natively (buttons, a keyboard).
    structure: Structure | None = None


class SendResult(BaseModel):
    provider_message_id: str
    status: str = "sent"


class SendError(Exception):
    """A delivery failure; ``retryable`` says whether trying again can help."""

    def __init__(self, message: str, *, retryable: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


@runtime_checkable
class Sender(Protocol):
    """Delivers one outbound message through a provider, or raises ``SendError``."""

    channel: str

    async def send(self, reply: Reply, *, idempotency_key: str) -> SendResult: ...
