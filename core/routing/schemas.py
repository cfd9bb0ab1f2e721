"""Pydantic shapes of routing data for the REST API and the CSV import."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from core.sla.calendar import LimitUnit
from core.tickets.enums import Priority, TicketKind


class RoutingRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position: int = Field(ge=0, le=1_000_000)
    name: str = Field(min_length=1, max_length=100)
    match_kind: TicketKind | None = None
    match_category_code: str | None = Field(default=None, max_length=32)
    match_district_code: str | None = Field(default=None, max_length=32)
    match_community_code: str | None = Field(default=None, max_length=32)
    back_office: str = Field(min_length=1, max_length=32)
    department_code: str | None = Field(default=None, max_length=32)
    sla_policy_code: str | None = Field(default=None, max_length=32)
    priority: Priority | None = None
    active: bool = True


class RoutingRuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    position: int
    name: str
    match_kind: str | None
    match_category_id: int | None
    match_district_id: int | None
    match_community_id: int | None
    back_office: str
    department_id: int | None
    sla_policy_id: int | None
    priority: str | None
    active: bool


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    kind: str
    names: dict[str, str]
    default_priority: str
    active: bool


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    names: dict[str, str]
    active: bool


class SlaPolicyIn(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    resolution_limit: int = Field(ge=0, le=100_000)
    unit: str = Field(pattern="|".join(LimitUnit.ALL))
    calendar_code: str
