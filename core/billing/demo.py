"""Billing for the demo city: the sample CSV files, every demo flat billed for three months.

So that on a first ``hub serve`` a demo phone (+79001000001 holds account 7700001) can text
"баланс" or "показания хв 123" in the simulator and get real figures back.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.backoffice import DemoContext
from core.billing.enums import ReadingStatus
from core.billing.imports import IMPORTERS
from core.billing.models import (
    AccountService,
    BillingService,
    Meter,
    MeterReading,
    Supplier,
)
from core.billing.payments import record_payment
from core.billing.service import month_start, months_before, run_charges
from core.importing.service import ImportOptions, run_import
from core.territory.models import Account

SAMPLES = Path(__file__).parent / "demo_data"
FILES = ("suppliers", "services", "tariffs", "accounts", "meters", "building_meters", "balances")
FLAT_SERVICES = ("cold_water", "hot_water", "electricity", "heating", "maintenance", "waste")
METERED = {"cold_water": Decimal("4.2"), "hot_water": Decimal("2.9"), "electricity": Decimal(140)}


async def load_billing_demo(*, db_session: AsyncSession, demo: DemoContext) -> None:
    """Bills the demo flats when the hub has the key account PINs are hashed with."""
    if demo.billing_secret is not None:
        await _load_billing(db_session=db_session, secret=demo.billing_secret, today=demo.today)


async def _load_billing(*, db_session: AsyncSession, secret: str, today: date) -> bool:
    """Loads the demo billing data unless already there; returns whether it loaded."""
    if await db_session.scalar(select(Supplier.id).where(Supplier.code == "vodokanal")):
        return False
    options = ImportOptions(secret=secret)
    for what in FILES:
        text = (SAMPLES / f"{what}.csv").read_text(encoding="utf-8")
        await run_import(
            db_session=db_session, importers=IMPORTERS, what=what, text=text, options=options
        )
    services = {
        s.code: s
        for s in await db_session.scalars(
            select(BillingService).where(BillingService.code.in_(FLAT_SERVICES))
        )
    }
    accounts = list(
        await db_session.scalars(
            select(Account).where(Account.number.like("77%")).order_by(Account.id)
        )
    )
    meters: list[tuple[Meter, Decimal]] = []
    for index, account in enumerate(accounts):
        db_session.add_all(
            AccountService(account_id=account.id, service_id=s.id) for s in services.values()
        )
        for code, monthly in METERED.items():
            meter = Meter(
                account_id=account.id, service_id=services[code].id, serial=f"D{code[:2]}-{index}"
            )
            db_session.add(meter)
            meters.append((meter, monthly * (1 + Decimal(index % 5) / 10)))
    await db_session.flush()

    current = month_start(today)
    periods = [months_before(current, back) for back in (4, 3, 2, 1)]
    for step, period in enumerate(periods):
        for meter, monthly in meters:
            db_session.add(
                MeterReading(
                    meter_id=meter.id,
                    period=period,
                    value=Decimal(100) + monthly * step,
                    status=ReadingStatus.ACCEPTED,
                    channel="import",
                )
            )
        await db_session.flush()
        await run_charges(db_session=db_session, period=period)
    # Every other flat paid something last month: some owe, some are in credit.
    for account in accounts[::2]:
        await record_payment(
            db_session=db_session,
            account_number=account.number,
            paid_on=months_before(current, 1).replace(day=12),
            amount=Decimal(3000),
            source="manual",
            external_id=f"demo-{account.number}",
        )
    return True
