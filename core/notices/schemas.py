"""Pydantic shapes of notices and subscriptions for the REST API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.notices.enums import Audience, NoticeStatus, Topic


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Topic
    audience: Audience = Audience.RESIDENTS
    scope: str = Field(pattern="^(city|district|building)$")
    scope_code: str | None = Field(default=None, max_length=32)
    texts: dict[str, str] = Field(description="Text per language; 'en' is required")
    send_at: datetime | None = None
    confirm_long: bool = False

    @field_validator("texts")
    @classmethod
    def _languages(cls, texts: dict[str, str]) -> dict[str, str]:
        unknown = set(texts) - {"en", "ru", "zh"}
        if unknown:
            raise ValueError(f"unknown languages: {', '.join(sorted(unknown))}")
        if any(not text.strip() or len(text) > 1600 for text in texts.values()):
            raise ValueError("each text must have 1 to 1600 characters")
        return texts

    @field_validator("send_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("send_at must carry a timezone")
        return value


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    topic: str
    audience: str
    scope_kind: str
    scope_id: int | None
    texts: dict[str, str]
    send_at: datetime
    status: NoticeStatus
    max_parts: int
    too_long: bool
    recipients: int
    delivery: dict[str, int] = {}


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(max_length=40)
    topic: Topic
    active: bool
