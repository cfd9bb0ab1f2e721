"""Billing tables: suppliers, services, tariffs, meters, readings, charges."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.billing.enums import ChargeBasis, ReadingStatus
from core.db import Base, UTCDateTime, utcnow
from core.territory.models import Names


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    names: Mapped[Names] = mapped_column(JSON)


class BillingService(Base):
    """One utility as billed: cold water, heating, maintenance…, with its supplier and norms."""

    __tablename__ = "billing_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    names: Mapped[Names] = mapped_column(JSON)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    unit: Mapped[str] = mapped_column(String(8))
    basis: Mapped[ChargeBasis] = mapped_column(String(16))
    # Per resident (per_resident) or per m² (area) a month; the fallback for metered ones.
    normative: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    # Interruptions allowed a month before the fee is reduced (hot water 8 h, heating 24 h).
    allowed_interruption_hours: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=0)
    # The words a resident may put before a reading for this service's meter: "хв 123".
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)


class Tariff(Base):
    __tablename__ = "tariffs"
    __table_args__ = (UniqueConstraint("service_id", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("billing_services.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 4))


class AccountService(Base):
    """A service billed on an account."""

    __tablename__ = "account_services"
    __table_args__ = (UniqueConstraint("account_id", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("billing_services.id"))


class Meter(Base):
    __tablename__ = "meters"
    __table_args__ = (UniqueConstraint("service_id", "serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("billing_services.id"))
    serial: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)


class MeterReading(Base):
    __tablename__ = "meter_readings"

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), index=True)
    # The billing period the reading is for: the first day of its month.
    period: Mapped[date] = mapped_column(Date, index=True)
    value: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    status: Mapped[ReadingStatus] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A reading held for review is decided by a person, whose name stays with it.
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Charge(Base):
    __tablename__ = "charges"
    # A charge run for a period replaces that period's rows: one per account and service.
    __table_args__ = (UniqueConstraint("account_id", "service_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("billing_services.id"))
    period: Mapped[date] = mapped_column(Date, index=True)
    # metered | average | normative | area (core.billing.calc.Basis)
    basis: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    tariff: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # bank (statement import) | manual (a cashier)
    source: Mapped[str] = mapped_column(String(16))
    # The bank's own id for the payment: importing a statement twice adds nothing.
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A cashier's client's Idempotency-Key, prefixed with who sent it so two tills cannot
    # collide: a retry finds this payment instead of recording a second one. The hash is of
    # the request the key was first used for; a reused key must repeat that request.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentAllocation(Base):
    """The part of a payment that went to one service; no service means an advance."""

    __tablename__ = "payment_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("billing_services.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))


class Recalculation(Base):
    """A change to a period's charge after the fact: a quality act or a temporary absence.

    The amount is signed: a reduction is negative.
    """

    __tablename__ = "recalculations"
    __table_args__ = (UniqueConstraint("account_id", "service_id", "period", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("billing_services.id"))
    period: Mapped[date] = mapped_column(Date)
    # quality (interruptions beyond the allowed hours) | absence (days away)
    kind: Mapped[str] = mapped_column(String(16))
    hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    days: Mapped[int | None]
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BuildingMeter(Base):
    """A common meter at a building's inlet: what the supplier delivered to the building."""

    __tablename__ = "building_meters"
    __table_args__ = (UniqueConstraint("service_id", "serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("billing_services.id"))
    serial: Mapped[str] = mapped_column(String(32))


class BuildingMeterReading(Base):
    __tablename__ = "building_meter_readings"
    __table_args__ = (UniqueConstraint("meter_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("building_meters.id"), index=True)
    period: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 3))


class PinFailure(Base):
    """One wrong account PIN: counted per contact and per account to stop guessing."""

    __tablename__ = "pin_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
