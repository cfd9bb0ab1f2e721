"""Pydantic shapes of residents for the REST API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    value: str
    verified: bool
    language: str | None


class TicketBrief(BaseModel):
    number: str
    status: str
    summary: str
    created_at: datetime


class ResidentOut(BaseModel):
    id: int
    display_name: str | None
    language: str | None
    created_at: datetime
    contacts: list[ContactOut]
    tickets: list[TicketBrief]


class ResidentSearch(BaseModel):
    """Looked up by body, not by URL: phone numbers must not land in access logs."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(default=None, max_length=40)
    telegram_id: str | None = Field(default=None, max_length=40)
