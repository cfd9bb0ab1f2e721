"""Imports every model so metadata is complete for Alembic and tests."""

from core.auth.models import ApiKey, StaffUser
from core.billing.models import (
    AccountContact,
    AccountService,
    BillingService,
    BuildingMeter,
    BuildingMeterReading,
    Charge,
    Meter,
    MeterReading,
    Payment,
    PaymentAllocation,
    PinFailure,
    Recalculation,
    Supplier,
    Tariff,
)
from core.intake.models import InboundRecord
from core.notices.models import Notice, Subscription
from core.outbox.models import OutboxMessage
from core.residents.models import Contact, Resident
from core.routing.models import Category, Department, RoutingRule, SlaPolicy
from core.sla.models import CalendarDay, WorkCalendar
from core.territory.models import (
    Account,
    Building,
    City,
    Community,
    District,
    GridCell,
    Premises,
    PremisesOwner,
)
from core.tickets.models import Ticket, TicketEvent, TicketMessage

__all__ = [
    "AccountContact",
    "AccountService",
    "BillingService",
    "BuildingMeter",
    "BuildingMeterReading",
    "Charge",
    "Meter",
    "MeterReading",
    "Payment",
    "PaymentAllocation",
    "PinFailure",
    "Recalculation",
    "Supplier",
    "Tariff",
    "Account",
    "ApiKey",
    "Building",
    "CalendarDay",
    "Category",
    "City",
    "Community",
    "Contact",
    "Department",
    "District",
    "GridCell",
    "InboundRecord",
    "Notice",
    "OutboxMessage",
    "Premises",
    "PremisesOwner",
    "Resident",
    "RoutingRule",
    "SlaPolicy",
    "StaffUser",
    "Subscription",
    "Ticket",
    "TicketEvent",
    "TicketMessage",
    "WorkCalendar",
]
