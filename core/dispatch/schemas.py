"""Request and response bodies of the dispatch API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.dispatch.enums import Action, Stage, Urgency


class ActionIn(BaseModel):
    """One workflow action, with what it needs (a reason, a department, corrections…)."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    reason: str | None = Field(default=None, max_length=2000)
    # dispatch: a department code overrides the automatic choice.
    department: str | None = Field(default=None, max_length=32)
    # register: the verifier's corrections.
    category: str | None = Field(default=None, max_length=32)
    urgency: Urgency | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=500)
    # request_extension
    amount: int | None = Field(default=None, ge=1, le=10_000)
    unit: str | None = Field(default=None, max_length=16)
    # park
    park_until: datetime | None = None

    @field_validator("park_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("park_until must carry a timezone")
        return value

    @model_validator(mode="after")
    def _point(self) -> ActionIn:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give latitude and longitude together")
        return self


class ExtensionDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    note: str | None = Field(default=None, max_length=2000)


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: str = Field(min_length=1, max_length=20)


class EvaluationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date
    end: date

    @model_validator(mode="after")
    def _order(self) -> EvaluationIn:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.end - self.start).days > 366:
            raise ValueError("a period is at most a year")
        return self


class CaseOut(BaseModel):
    number: str
    stage: Stage
    status: str
    category: str | None
    # Beside each code, what a person reads, in the caller's language.
    stage_name: str = ""
    category_name: str | None = None
    department_name: str | None = None
    district_name: str | None = None
    urgency: Urgency
    summary: str
    channel: str
    address: str | None
    latitude: float | None
    longitude: float | None
    grid_cell: str | None
    district: str | None
    department: str | None
    due_at: datetime | None
    overdue: bool
    created_at: datetime
    registered_at: datetime | None
    dispatched_at: datetime | None
    reported_at: datetime | None
    closed_at: datetime | None
    handled_on_time: bool | None
    park_due_at: datetime | None
    extensions: int
    reworks: int
    returns: int
    result_note: str | None
    merged_into: str | None
    attributes: dict[str, Any]
    # What the caller may do next (the console shows these as buttons).
    actions: list[str]


class EventOut(BaseModel):
    kind: str
    actor: str
    data: dict[str, Any]
    created_at: datetime
    # Who acted and what changed, in words; ``actor`` and ``data`` stay for programs.
    actor_name: str = ""
    description: str = ""


class ExtensionOut(BaseModel):
    id: int
    level: int
    amount: int
    unit: str
    reason: str
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None


class SuggestionOut(BaseModel):
    id: int
    candidate: str
    distance_m: float


class PhotoOut(BaseModel):
    id: int
    status: str
    source: str
    content_type: str | None
    size: int | None
    width: int | None
    height: int | None
    error: str | None
    url: str | None


class CaseDetail(CaseOut):
    events: list[EventOut]
    extension_requests: list[ExtensionOut]
    suggestions: list[SuggestionOut]
    photos: list[PhotoOut]
    conditions: dict[str, str]


class CasePage(BaseModel):
    items: list[CaseOut]
    total: int


class CellOut(BaseModel):
    code: str
    community_id: int | None
    district_id: int | None


class CategoryOut(BaseModel):
    code: str
    names: dict[str, str]
    family: str | None
    major: str | None
    minor: str | None
    group: dict[str, str]
    conditions: dict[str, str]
    limits: dict[str, list[Any]]
    attributes: list[dict[str, Any]]
