"""The monthly charge run over several months of one account, reproduced to the kopeck."""

from datetime import date
from decimal import Decimal as D

from sqlalchemy import select

from core.billing.models import (
    Charge,
    Tariff,
)
from core.billing.service import ChargeRules, run_charges
from core.config import Settings
from core.db import transaction
from core.runtime import Hub
from tests.core.billing.factories import read, setup_billing


async def water_charges(hub: Hub, account_id: int, service_id: int) -> list[tuple[str, D, D]]:
    async with hub.session_factory() as session:
        rows = await session.execute(
            select(Charge.basis, Charge.quantity, Charge.amount)
            .where(Charge.account_id == account_id, Charge.service_id == service_id)
            .order_by(Charge.period)
        )
        return [(basis, quantity, amount) for basis, quantity, amount in rows.all()]


async def test_seven_months_with_missed_readings_and_the_reconciliation(hub: Hub) -> None:
    ids = await setup_billing(hub)
    readings = {1: "100.000", 2: "104.250", 3: "110.000", 4: "116.000", 7: "130.000"}
    for month in range(1, 8):
        if month in readings:
            await read(hub, ids["meter"], month, readings[month])
        async with transaction(hub.session_factory) as session:
            await run_charges(db_session=session, period=date(2026, month, 1))

    assert await water_charges(hub, ids["first"], ids["water"]) == [
        ("initial", D("4.7450"), D("200.71")),  # the meter's first reading: the norm
        ("metered", D("4.2500"), D("179.78")),
        ("metered", D("5.7500"), D("243.23")),
        ("metered", D("6.0000"), D("253.80")),
        ("average", D("5.3333"), D("225.60")),  # no reading: average of Feb–Apr
        ("average", D("5.3333"), D("225.60")),
        # July's reading: 14 m³ since April, less the 10.6666 m³ estimated in May and June.
        ("metered", D("3.3334"), D("141.00")),
    ]
    # The account without a meter (7700002, two registered residents) pays the norm.
    assert {row for row in await water_charges(hub, ids["second"], ids["water"])} == {
        ("normative", D("9.4900"), D("401.43"))
    }


async def test_running_a_period_again_replaces_it(hub: Hub) -> None:
    ids = await setup_billing(hub)
    await read(hub, ids["meter"], 1, "100.000")
    reports = []
    for _ in range(2):
        async with transaction(hub.session_factory) as session:
            reports.append(await run_charges(db_session=session, period=date(2026, 1, 15)))
    assert reports[0].charges == reports[1].charges == 4
    assert reports[0].total == reports[1].total
    async with hub.session_factory() as session:
        rows = list(await session.scalars(select(Charge)))
    assert len(rows) == 4 and {r.period for r in rows} == {date(2026, 1, 1)}
    # Maintenance by area: 45.40 m² × 25.50 = 1,157.70.
    assert D("1157.70") in {r.amount for r in rows}


async def test_the_charge_run_rounds_as_the_settings_say(hub: Hub) -> None:
    ids = await setup_billing(hub)
    async with transaction(hub.session_factory) as session:
        # The norm 4.745 m³ × 1.00 = 4.745: a tie at half a kopeck.
        session.add(Tariff(service_id=ids["water"], valid_from=date(2026, 1, 1), price=D("1.00")))
    amounts = []
    for rounding in ("half_up", "half_even"):
        rules = ChargeRules.from_settings(Settings(billing_rounding=rounding))
        async with transaction(hub.session_factory) as session:
            await run_charges(db_session=session, period=date(2026, 1, 1), rules=rules)
        amounts.append((await water_charges(hub, ids["first"], ids["water"]))[0][2])
    assert amounts == [D("4.75"), D("4.74")]
