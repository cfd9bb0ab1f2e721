"""Complaints tables: the registers (companies, managers, estates, contracts, committees),
complaints and their inspections and orders, and the integrity score's rules and events."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.complaints.enums import (
    Frequency,
    InspectionStatus,
    OrderStatus,
    ScoreKind,
    ScoreStatus,
    Section,
    Stage,
    Verdict,
)
from core.db import Base, UTCDateTime, utcnow
from core.territory.models import Names


class PropertyCompany(Base):
    __tablename__ = "property_companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    names: Mapped[Names] = mapped_column(JSON)
    # The state registration number (ИНН / 统一社会信用代码): one company, one number.
    registration_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    qualification: Mapped[str | None] = mapped_column(String(16))
    qualification_valid_until: Mapped[date | None]
    # Where the company hears of new complaints and pre-deduction notices (SMS).
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="ru")
    active: Mapped[bool] = mapped_column(default=True)
    blacklisted: Mapped[bool] = mapped_column(default=False)
    blacklist_reason: Mapped[str | None] = mapped_column(String(500))


class Manager(Base):
    """A person appointed manager of a company, with their certificate.

    The certificate number identifies the person across companies: one certificate in two
    companies' current appointments is the conflict the register flags.
    """

    __tablename__ = "property_managers"
    __table_args__ = (UniqueConstraint("company_id", "certificate_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("property_companies.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    certificate_number: Mapped[str] = mapped_column(String(64), index=True)
    certificate_valid_until: Mapped[date | None]
    appointed_on: Mapped[date]
    left_on: Mapped[date | None]


class ServiceContract(Base):
    """A company serving an estate from one date to another (None: open-ended)."""

    __tablename__ = "service_contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("property_companies.id"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]


class Complaint(Base):
    """The complaints side of a ticket: estate, company, stage and the resident's verdict."""

    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_stage_respond_by", "stage", "respond_by"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    stage: Mapped[Stage] = mapped_column(String(16), index=True)
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("estates.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("property_companies.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("service_contracts.id"))
    triage_reason: Mapped[str | None] = mapped_column(String(16))
    respond_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verdict: Mapped[Verdict | None] = mapped_column(String(16))
    verdict_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the authority stepped in: disputed or overdue.
    escalation: Mapped[str | None] = mapped_column(String(16))
    upheld: Mapped[bool | None]


class Indicator(Base):
    """A standard the authority checks on every estate, how often and how it is scored."""

    __tablename__ = "complaint_indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    names: Mapped[Names] = mapped_column(JSON)
    frequency: Mapped[Frequency] = mapped_column(String(16))
    max_score: Mapped[int]
    pass_score: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)


class Campaign(Base):
    """An inspection campaign: some indicators checked on some companies' estates."""

    __tablename__ = "inspection_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    names: Mapped[Names] = mapped_column(JSON)
    indicator_ids: Mapped[list[int]] = mapped_column(JSON)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Inspection(Base):
    """One check of one estate: by a campaign, or because a complaint was escalated."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection_campaigns.id"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("property_companies.id"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    status: Mapped[InspectionStatus] = mapped_column(String(16))
    due_on: Mapped[date | None]
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inspector: Mapped[str | None] = mapped_column(String(64))
    passed: Mapped[bool | None]
    note: Mapped[str | None] = mapped_column(Text)


class InspectionResult(Base):
    __tablename__ = "inspection_results"
    __table_args__ = (UniqueConstraint("inspection_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("complaint_indicators.id"), index=True)
    score: Mapped[int]
    passed: Mapped[bool]
    note: Mapped[str | None] = mapped_column(String(1000))


class RectificationOrder(Base):
    """What the company must put right, by when; tracked until the authority sees it done."""

    __tablename__ = "rectification_orders"
    __table_args__ = (Index("ix_rectification_orders_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("property_companies.id"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[OrderStatus] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    overdue: Mapped[bool] = mapped_column(default=False)
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    report: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_by: Mapped[str | None] = mapped_column(String(64))


class ScoreRule(Base):
    """Points for one kind of integrity event, or for one basic-information item."""

    __tablename__ = "score_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    section: Mapped[Section] = mapped_column(String(8))
    points: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    names: Mapped[Names] = mapped_column(JSON)


class ScoreWeight(Base):
    """A factor on deductions: per estate kind, or per managed area from a threshold."""

    __tablename__ = "score_weights"
    __table_args__ = (UniqueConstraint("dimension", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(32))
    factor: Mapped[Decimal] = mapped_column(Numeric(6, 3))


class ScoreEvent(Base):
    """One thing that adds or deducts points; only a confirmed event counts."""

    __tablename__ = "score_events"
    __table_args__ = (
        # One event per source: a sweep or a retried request never deducts twice.
        UniqueConstraint("source", name="uq_score_events_source"),
        Index("ix_score_events_status_appeal_by", "status", "appeal_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("property_companies.id"), index=True)
    kind: Mapped[ScoreKind] = mapped_column(String(32))
    rule_code: Mapped[str] = mapped_column(String(32))
    section: Mapped[Section] = mapped_column(String(8))
    # Rule points × weight factor: positive for good conduct, a positive deduction for bad.
    base_points: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    factor: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    points: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    status: Mapped[ScoreStatus] = mapped_column(String(16))
    # "complaint:<ticket id>", "order:<id>", or a staff-given key for sanctions and awards.
    source: Mapped[str] = mapped_column(String(64))
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("estates.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_orders.id"))
    note: Mapped[str | None] = mapped_column(String(1000))
    created_by: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    appeal_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appeal_text: Mapped[str | None] = mapped_column(Text)
    appeal_evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_reason: Mapped[str | None] = mapped_column(String(1000))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
