"""Dispatch tables: category details, time limits, responsibilities, cases and their parts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.dispatch.enums import (
    ExtensionStatus,
    Family,
    PhotoStatus,
    Stage,
    SuggestionStatus,
    Urgency,
)
from core.territory.models import Names


class CaseCategory(Base):
    """The dispatch side of a category: its class codes, conditions and Open311 form."""

    __tablename__ = "dispatch_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), unique=True)
    family: Mapped[Family] = mapped_column(String(16))
    major_code: Mapped[str] = mapped_column(String(8))
    minor_code: Mapped[str] = mapped_column(String(8))
    # The major class's name per language (Open311 "group").
    group_names: Mapped[Names] = mapped_column(JSON, default=dict)
    # What the verifier checks before registering, per language ("more than 1 m²").
    conditions: Mapped[Names] = mapped_column(JSON, default=dict)
    # Open311 service-definition attributes: [{code, datatype, required, names, values}].
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class TimeLimit(Base):
    """How long a department has, per category and urgency (DOMAIN §1)."""

    __tablename__ = "dispatch_time_limits"
    __table_args__ = (UniqueConstraint("category_id", "urgency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    urgency: Mapped[Urgency] = mapped_column(String(16))
    limit: Mapped[int]
    # working_hours | working_days | calendar_hours (core.sla.calendar.LimitUnit)
    unit: Mapped[str] = mapped_column(String(16))


class Responsibility(Base):
    """A department answers for a category (or any) in an area (or anywhere).

    The most specific row wins: a named category over any category, then a grid cell over
    a community over a district over the whole city.
    """

    __tablename__ = "dispatch_responsibilities"
    __table_args__ = (
        UniqueConstraint("category_id", "district_id", "community_id", "grid_cell_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    grid_cell_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"))


class Case(Base):
    """The dispatch state of a city-case ticket (one row per ticket)."""

    __tablename__ = "dispatch_cases"
    __table_args__ = (Index("ix_dispatch_cases_stage_due", "stage", "handle_due_at"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    stage: Mapped[Stage] = mapped_column(String(16))
    urgency: Mapped[Urgency] = mapped_column(String(16), default=Urgency.NORMAL)
    # A component's 16-digit id (county 6 + major 2 + minor 2 + serial 6), when known.
    component_code: Mapped[str | None] = mapped_column(String(16))
    # Open311 attribute answers and the like: {code: value}.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handle_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Whether the last report back came before the due time (set at each report).
    handled_on_time: Mapped[bool | None]
    # Parking stops the department's clock; the working time left is kept to restart it.
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    park_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remaining_seconds: Mapped[int | None]
    extensions: Mapped[int] = mapped_column(default=0)
    reworks: Mapped[int] = mapped_column(default=0)
    returns: Mapped[int] = mapped_column(default=0)
    # What the department reports it did; the outcome the reporter hears.
    result_note: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("dispatch_cases.ticket_id"))
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("dispatch_evaluations.id"))


class Extension(Base):
    """A department's request for more time and its approval (DOMAIN §1: 延期)."""

    __tablename__ = "dispatch_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("dispatch_cases.ticket_id"), index=True)
    # 1 for the first extension of the case, 2 for the second…: it decides who approves.
    level: Mapped[int]
    amount: Mapped[int]
    unit: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExtensionStatus] = mapped_column(String(16), default=ExtensionStatus.PENDING)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)


class DuplicateSuggestion(Base):
    """A new report that looks like an open case nearby: the dispatcher merges or dismisses."""

    __tablename__ = "dispatch_duplicate_suggestions"
    __table_args__ = (UniqueConstraint("ticket_id", "candidate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("dispatch_cases.ticket_id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("dispatch_cases.ticket_id"))
    distance_m: Mapped[float] = mapped_column(Float)
    status: Mapped[SuggestionStatus] = mapped_column(String(16), default=SuggestionStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CasePhoto(Base):
    """A photo of a case, kept in the media storage under a content-addressed key."""

    __tablename__ = "dispatch_case_photos"
    __table_args__ = (UniqueConstraint("ticket_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    status: Mapped[PhotoStatus] = mapped_column(String(16))
    # upload | open311 | sms | telegram | staff
    source: Mapped[str] = mapped_column(String(16))
    source_url: Mapped[str | None] = mapped_column(String(2000))
    storage_key: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IndicatorWeight(Base):
    """The weight of one evaluation indicator (DOMAIN §1); "bad" rates score (1 − rate)."""

    __tablename__ = "dispatch_indicator_weights"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    bad: Mapped[bool] = mapped_column(default=False)


class Evaluation(Base):
    """A published evaluation of every department for a period: the figures, frozen."""

    __tablename__ = "dispatch_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    weights: Mapped[dict[str, Any]] = mapped_column(JSON)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
