"""Request and response bodies of the complaints API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.complaints.enums import AppealDecision, ScoreKind, Verdict

Text = Field(min_length=1, max_length=4000)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RouteIn(_In):
    """The authority's triage: the estate, and the company if the register is wrong."""

    estate: str = Field(min_length=1, max_length=32)
    company: str | None = Field(default=None, max_length=32)


class AnswerIn(_In):
    text: str = Text


class VerdictIn(_In):
    verdict: Verdict
    reason: str | None = Field(default=None, max_length=4000)


class FindingIn(_In):
    upheld: bool
    note: str = Text
    # With an upheld finding: what the company must put right, in how many working days.
    order: str | None = Field(default=None, max_length=4000)
    order_days: int | None = Field(default=None, ge=1, le=365)

    @model_validator(mode="after")
    def _order_only_when_upheld(self) -> FindingIn:
        if not self.upheld and (self.order or self.order_days):
            raise ValueError("an order goes only with an upheld finding")
        return self


class OrderIn(_In):
    company: str = Field(min_length=1, max_length=32)
    estate: str = Field(min_length=1, max_length=32)
    text: str = Text
    days: int | None = Field(default=None, ge=1, le=365)


class OrderReportIn(_In):
    text: str = Text


class OrderCheckIn(_In):
    accepted: bool
    note: str | None = Field(default=None, max_length=4000)


class CampaignIn(_In):
    code: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,32}$")
    names: dict[Literal["en", "ru", "zh"], str] = Field(min_length=1)
    indicators: list[str] = Field(min_length=1, max_length=200)
    # None: every active company with a current contract.
    companies: list[str] | None = Field(default=None, max_length=10_000)
    starts_on: date
    ends_on: date

    @model_validator(mode="after")
    def _english_name(self) -> CampaignIn:
        if not (self.names.get("en") or "").strip():
            raise ValueError("names needs an English name")
        if any(len(name) > 200 for name in self.names.values()):
            raise ValueError("a name is up to 200 characters")
        return self


class ResultItemIn(_In):
    indicator: str = Field(min_length=1, max_length=32)
    score: int = Field(ge=0, le=1000)
    note: str | None = Field(default=None, max_length=1000)


class ResultsIn(_In):
    results: list[ResultItemIn] = Field(min_length=1, max_length=200)
    order_days: int | None = Field(default=None, ge=1, le=365)


class ScoreEventIn(_In):
    """A sanction or award given by the authority.

    ``key`` identifies it (a decision number): sending it again changes nothing.
    """

    company: str = Field(min_length=1, max_length=32)
    kind: Literal[ScoreKind.SANCTION, ScoreKind.AWARD]
    key: str = Field(pattern=r"^[A-Za-z0-9_.\-/]{1,48}$")
    rule: str | None = Field(default=None, max_length=32)
    estate: str | None = Field(default=None, max_length=32)
    note: str = Field(min_length=1, max_length=1000)


class AppealIn(_In):
    text: str = Text
    # References to the evidence: document numbers, links to photos or acts.
    evidence: list[str] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _short_references(self) -> AppealIn:
        if any(not item.strip() or len(item) > 500 for item in self.evidence):
            raise ValueError("each evidence reference is 1 to 500 characters")
        return self


class DecisionIn(_In):
    decision: AppealDecision
    reason: str = Field(min_length=1, max_length=1000)


class BlacklistIn(_In):
    blacklisted: bool
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _reason(self) -> BlacklistIn:
        if self.blacklisted and not (self.reason or "").strip():
            raise ValueError("give the reason for blacklisting")
        return self


class MessageOut(BaseModel):
    direction: str
    channel: str
    text: str
    at: datetime


class OrderOut(BaseModel):
    id: int
    company: str
    estate: str
    complaint: str | None
    text: str
    status: str
    due_at: datetime
    overdue: bool
    report: str | None
    reported_at: datetime | None
    done_at: datetime | None


class ComplaintOut(BaseModel):
    number: str
    stage: str
    status: str
    summary: str
    category: str | None
    estate: str | None
    company: str | None
    triage_reason: str | None
    respond_by: datetime | None
    due_at: datetime | None
    overdue: bool
    created_at: datetime
    # What the codes above stand for, in the caller's language (English for API keys).
    stage_name: str = ""
    category_name: str | None = None
    estate_name: str | None = None
    company_name: str | None = None


class ComplaintDetail(ComplaintOut):
    answer: str | None
    answered_at: datetime | None
    verdict: str | None
    escalation: str | None
    upheld: bool | None
    messages: list[MessageOut]
    orders: list[OrderOut]


class ComplaintPage(BaseModel):
    total: int
    items: list[ComplaintOut]


class CompanyOut(BaseModel):
    code: str
    names: dict[str, str]
    registration_number: str | None
    qualification: str | None
    qualification_valid_until: date | None
    active: bool
    blacklisted: bool
    blacklist_reason: str | None


class EstateOut(BaseModel):
    code: str
    names: dict[str, str]
    addresses: dict[str, str]
    kind: str
    area: Decimal
    building_count: int
    facilities: list[str]
    company: str | None
    contract: str | None


class ContractOut(BaseModel):
    number: str
    company: str
    estate: str
    starts_on: date
    ends_on: date | None


class CommitteeOut(BaseModel):
    code: str
    estate: str
    names: dict[str, str]
    elected_on: date
    term_ends_on: date | None


class ConflictOut(BaseModel):
    certificate_number: str
    full_name: str
    companies: list[str]


class IndicatorOut(BaseModel):
    code: str
    names: dict[str, str]
    frequency: str
    max_score: int
    pass_score: int
    active: bool


class CampaignOut(BaseModel):
    code: str
    inspections: int


class InspectionOut(BaseModel):
    id: int
    campaign: str | None
    complaint: str | None
    company: str
    estate: str
    status: str
    due_on: date | None
    done_at: datetime | None
    passed: bool | None


class DueCheckOut(BaseModel):
    estate: str
    company: str
    indicator: str
    last_checked: date | None
    due_since: date


class ScoreEventOut(BaseModel):
    id: int
    company: str
    kind: str
    rule: str
    section: str
    base_points: Decimal
    factor: Decimal
    points: Decimal
    status: str
    complaint: str | None
    order: int | None
    note: str | None
    occurred_at: datetime
    appeal_by: datetime | None
    appeal_text: str | None
    evidence: list[str]
    decision: str | None
    decision_reason: str | None


class ScoreOut(BaseModel):
    rank: int
    company: str
    name: str
    score: Decimal
    band: str
    basic: Decimal
    good: Decimal
    bad: Decimal
    upheld_complaints: int


class ScoreDetail(ScoreOut):
    basic_items: list[str]
    pending: int


class ReportRowOut(BaseModel):
    code: str | None
    name: str
    total: int
    open: int
    disputed: int
    overdue: int
    upheld: int
    dismissed: int


class RepeatOut(BaseModel):
    estate: str
    estate_name: str
    category: str
    category_name: str
    count: int
    last_at: datetime
