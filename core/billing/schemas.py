"""Request and response bodies of the billing API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from core.billing.commands import PIN_PATTERN
from core.billing.service import parse_period


def _plausible_period(period: str) -> str:
    parse_period(period)  # its ValueError names what is wrong, for the 422
    return period


# The one spelling of a period in the API, for bodies and query parameters alike.
Period = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$"),
    AfterValidator(_plausible_period),
]
Money = Annotated[Decimal, Field(gt=0, lt=Decimal(10) ** 9, decimal_places=2)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=32)]


def period_start(period: str) -> date:
    """Returns the first day of a ``YYYY-MM`` period (already validated)."""
    return parse_period(period)


class ChargeRunIn(BaseModel):
    period: Period


class ChargeRunOut(BaseModel):
    period: date
    charges: int
    total: Decimal
    by_basis: dict[str, int]
    missing_tariffs: list[str]


class PaymentIn(BaseModel):
    paid_on: date
    amount: Money
    # The payer's own split by service code; without it the payment goes pro rata.
    allocation: dict[Code, Money] | None = None
    external_id: str | None = Field(default=None, max_length=64)


class PaymentOut(BaseModel):
    id: int
    amount: Decimal
    allocated: dict[str, Decimal]
    advance: Decimal


class PinIn(BaseModel):
    pin: str = Field(pattern=PIN_PATTERN.pattern)


class AbsenceIn(BaseModel):
    service: Code
    period: Period
    days: int = Field(ge=0, le=31)


class QualityActIn(BaseModel):
    building: Code
    service: Code
    period: Period
    hours: Decimal = Field(ge=0, le=744)


class BuildingReadingIn(BaseModel):
    serial: Code
    service: Code
    period: Period
    value: Decimal = Field(ge=0, lt=Decimal(10) ** 10)


class ReviewIn(BaseModel):
    accept: bool


class ReadingOut(BaseModel):
    id: int
    account: str
    serial: str
    service: str
    period: date
    value: Decimal
    status: str
    reason: str | None
    channel: str


class AccountSummary(BaseModel):
    balance: dict[str, Any]
    bill: dict[str, Any]
    payments: dict[str, Any]
    readings: dict[str, Any]


class StatementOut(BaseModel):
    recorded: int
    duplicates: int
