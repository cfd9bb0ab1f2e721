"""Billing test data on top of the demo city."""

from datetime import date
from decimal import Decimal as D

from sqlalchemy import select

from core.billing.enums import ChargeBasis, ReadingStatus
from core.billing.identity import hash_pin
from core.billing.models import (
    AccountService,
    BillingService,
    Meter,
    MeterReading,
    Supplier,
    Tariff,
)
from core.db import transaction
from core.runtime import Hub
from core.territory.models import Account

PIN = "1234"


async def setup_billing(hub: Hub) -> dict[str, int]:
    """Cold water by meter (42.30 ₽/m³, norm 4.745 m³ a person) and maintenance by area
    (25.50 ₽/m²) on demo accounts 7700001 (1 resident, 45.40 m², a meter, PIN 1234) and
    7700002 (no meter)."""
    async with transaction(hub.session_factory) as session:
        supplier = Supplier(code="vodokanal", names={"en": "Water company"})
        session.add(supplier)
        await session.flush()
        water = BillingService(
            code="cold_water",
            names={"en": "Cold water"},
            supplier_id=supplier.id,
            unit="m3",
            basis=ChargeBasis.METERED,
            normative=D("4.745"),
            allowed_interruption_hours=D("24"),
            aliases=["cw", "хв", "冷水"],
        )
        upkeep = BillingService(
            code="maintenance",
            names={"en": "Maintenance"},
            supplier_id=supplier.id,
            unit="m2",
            basis=ChargeBasis.AREA,
            normative=D("1"),
            allowed_interruption_hours=D("0"),
        )
        session.add_all([water, upkeep])
        await session.flush()
        session.add_all(
            [
                Tariff(service_id=water.id, valid_from=date(2025, 7, 1), price=D("42.30")),
                Tariff(service_id=upkeep.id, valid_from=date(2025, 7, 1), price=D("25.50")),
            ]
        )
        first = await session.scalar(select(Account).where(Account.number == "7700001"))
        second = await session.scalar(select(Account).where(Account.number == "7700002"))
        assert first is not None and second is not None
        for account in (first, second):
            session.add_all(
                [
                    AccountService(account_id=account.id, service_id=water.id),
                    AccountService(account_id=account.id, service_id=upkeep.id),
                ]
            )
        first.pin_hash = hash_pin(
            secret=hub.settings.secret_key.get_secret_value(), account_number="7700001", pin=PIN
        )
        meter = Meter(account_id=first.id, service_id=water.id, serial="CW-0001")
        session.add(meter)
        await session.flush()
        return {
            "water": water.id,
            "upkeep": upkeep.id,
            "meter": meter.id,
            "first": first.id,
            "second": second.id,
        }


async def read(hub: Hub, meter_id: int, month: int, value: str) -> None:
    """Records an accepted reading for a month of 2026, as if checked and taken."""
    async with transaction(hub.session_factory) as session:
        session.add(
            MeterReading(
                meter_id=meter_id,
                period=date(2026, month, 1),
                value=D(value),
                status=ReadingStatus.ACCEPTED,
                channel="sms",
            )
        )
