"""Pydantic shapes of tickets for the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from channels.contract import Channel, Location
from core.tickets.enums import ActorKind, TicketStatus


class TicketCreate(BaseModel):
    """A request taken by staff or a trusted system on a resident's behalf."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel = Channel.API
    sender_address: str = Field(
        min_length=1, max_length=200, description="The resident's phone, chat id or other address"
    )
    text: str = Field(min_length=1, max_length=4000)
    category_code: str | None = Field(default=None, max_length=32)
    language: str | None = Field(default=None, pattern="^(en|ru|zh)$")
    address: str | None = Field(default=None, max_length=500)
    location: Location | None = None
    display_name: str | None = Field(default=None, max_length=200)


class TicketCreated(BaseModel):
    number: str
    duplicate: bool
    replies: list[str]


class TicketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: str = Field(validation_alias=AliasChoices("public_number", "number"))
    channel: str
    kind: str
    category_id: int | None
    status: TicketStatus
    priority: str
    summary: str
    language: str
    back_office: str
    department_id: int | None
    district_id: int | None
    community_id: int | None
    address: str | None
    latitude: float | None
    longitude: float | None
    due_at: datetime | None
    overdue: bool
    escalation_level: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    # What people read beside the codes above, in the caller's language.
    status_name: str = ""
    back_office_name: str = ""


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    direction: str
    channel: str
    text: str
    created_at: datetime
    delivery_status: str | None = None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    # "system", "resident", "staff:<id>" or "apikey:<id>": for programs, not people.
    actor: str
    # The same actor typed: its kind, and the staff member's or API key's id.
    actor_kind: ActorKind | None = None
    actor_id: int | None = None
    data: dict[str, Any]
    created_at: datetime
    # Who acted (a name and a role) and what changed, in the caller's language.
    actor_name: str = ""
    description: str = ""


class TicketDetail(TicketOut):
    department_name: str | None = None
    messages: list[MessageOut]
    events: list[EventOut]


class TicketPage(BaseModel):
    items: list[TicketOut]
    total: int
    limit: int
    offset: int


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TicketStatus
    reason: str | None = Field(default=None, max_length=500)
    notify_resident: bool = True
