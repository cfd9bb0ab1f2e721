"""What every channel adapter hands to the core, and what every sender must do.

Adapters know providers; the core knows only these types.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Channel(StrEnum):
    SMS = "sms"
    TELEGRAM = "telegram"
    VOICE = "voice"
    WEB = "web"
    KIOSK = "kiosk"
    OPEN311 = "open311"
    API = "api"


class Location(BaseModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Attachment(BaseModel):
    url: str = Field(max_length=2000)
    content_type: str | None = Field(default=None, max_length=100)


class InboundMessage(BaseModel):
    """One message from a resident, normalised by its channel adapter."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
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
    # A category picked explicitly (a kiosk tile, an agent's form, an Open311 service code).
    category_code: str | None = Field(default=None, max_length=32)
    language: str | None = Field(default=None, max_length=8)
    display_name: str | None = Field(default=None, max_length=200)
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

    channel: Channel
    address: str
    text: str
    language: str
    # Part of a notice to many: senders let replies to residents go first.
    bulk: bool = False
    # The hub's own id for the message, for providers that echo it in status reports.
    reference: str | None = None


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

    channel: Channel

    async def send(self, reply: Reply, *, idempotency_key: str) -> SendResult: ...
