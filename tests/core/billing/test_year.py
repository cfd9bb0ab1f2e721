"""One account's year reproduced to the kopeck: readings, a missed month, a tariff change,
an outage act and partial payments, through the same service functions the hub uses.

The expected figures were worked by hand (see each comment), not produced by the code.
"""

from datetime import date
from decimal import Decimal as D

from sqlalchemy import select

from core.billing import inquiries
from core.billing.enums import ReadingStatus
from core.billing.models import Charge, Meter, Tariff
from core.billing.payments import allocations, outstanding, record_payment
from core.billing.readings import submit_reading
from core.billing.recalculations import record_quality_act
from core.billing.reports import supplier_report
from core.billing.service import run_charges
from core.db import transaction, utcnow
from core.runtime import Hub
from core.territory.models import Account, Premises
from tests.core.billing.factories import setup_billing

READINGS = {
    1: "100", 2: "104", 3: "109", 4: "115",  # May missed
    6: "120.5", 7: "125.5", 8: "130", 9: "134", 10: "139", 11: "143.5", 12: "148",
}  # fmt: skip
PAYMENTS = {2: "1000", 4: "1500", 7: "2000", 10: "3000", 12: "2500"}
WATER = [
    ("initial", "4.7450", "200.71"),  # first reading: the norm 4.745 × 42.30
    ("metered", "4.0000", "169.20"),
    ("metered", "5.0000", "211.50"),
    ("metered", "6.0000", "253.80"),
    ("average", "5.0000", "211.50"),  # no reading: the average of Feb–Apr
    ("metered", "0.5000", "21.15"),  # 120.5 − 115 less the 5 m³ estimated in May
    ("metered", "5.0000", "225.50"),  # the tariff is 45.10 from July
    ("metered", "4.5000", "202.95"),
    ("metered", "4.0000", "180.40"),
    ("metered", "5.0000", "225.50"),
    ("metered", "4.5000", "202.95"),
    ("metered", "4.5000", "202.95"),
]
# Each partial payment split pro rata to what water and maintenance owed at the time.
SPLITS = {
    2: {"cold_water": "137.75", "maintenance": "862.25"},  # owed 369.91 / 2315.40
    4: {"cold_water": "234.26", "maintenance": "1265.74"},
    7: {"cold_water": "267.16", "maintenance": "1732.84"},
    10: {"cold_water": "421.46", "maintenance": "2578.54"},
    12: {"cold_water": "358.00", "maintenance": "2142.00"},
}


async def test_a_year_of_one_account_to_the_kopeck(hub: Hub) -> None:
    ids = await setup_billing(hub)
    async with transaction(hub.session_factory) as session:
        session.add(Tariff(service_id=ids["water"], valid_from=date(2026, 7, 1), price=D("45.10")))
        building_id = await session.scalar(
            select(Premises.building_id)
            .join(Account, Account.premises_id == Premises.id)
            .where(Account.id == ids["first"])
        )
    assert building_id is not None
    splits = {}
    for month in range(1, 13):
        period = date(2026, month, 1)
        async with transaction(hub.session_factory) as session:
            if month in READINGS:
                meter = await session.get(Meter, ids["meter"])
                assert meter is not None
                outcome = await submit_reading(
                    db_session=session,
                    meter=meter,
                    value=D(READINGS[month]),
                    period=period,
                    band=D(3),
                    channel="sms",
                    inbound_id=None,
                    now=utcnow(),
                )
                assert outcome.status is ReadingStatus.ACCEPTED
            await run_charges(db_session=session, period=period)
            if month == 8:
                # 30 h without cold water, 24 h allowed: 6 h × 0.15 % of 202.95 = 1.83 off.
                changed = await record_quality_act(
                    db_session=session,
                    building_id=building_id,
                    service_code="cold_water",
                    period=period,
                    hours=D(30),
                )
                assert changed == 2  # both demo accounts in the building
            if month in PAYMENTS:
                payment = await record_payment(
                    db_session=session,
                    account_number="7700001",
                    paid_on=date(2026, month, 20),
                    amount=D(PAYMENTS[month]),
                    source="manual",
                )
                assert payment is not None
                parts = await allocations(db_session=session, payment_id=payment.id)
                splits[month] = {code: str(amount) for code, amount in parts.items()}

    async with hub.session_factory() as session:
        water = (
            await session.execute(
                select(Charge.basis, Charge.quantity, Charge.amount)
                .where(Charge.account_id == ids["first"], Charge.service_id == ids["water"])
                .order_by(Charge.period)
            )
        ).all()
        assert [(b, str(q), str(a)) for b, q, a in water] == WATER
        assert splits == SPLITS
        owed = await outstanding(db_session=session, account_id=ids["first"])
        # Water: 2308.11 billed − 1.83 act − 1418.63 paid; maintenance: 12 × 1157.70 − 8581.37.
        assert owed == {ids["water"]: D("887.65"), ids["upkeep"]: D("5311.03")}
        account = await session.get(Account, ids["first"])
        assert account is not None
        answer = await inquiries.balance(db_session=session, account=account)
        assert answer["due"] == "6198.68" and answer["period"] == "2026-12"
        assert (await inquiries.why_changed(db_session=session, account=account))["changes"] == []
        august = await supplier_report(db_session=session, period=date(2026, 8, 1))
        # Both accounts' act reductions: 1.83 here, and 0.9 % of 7700002's 428.00
        # (9.49 m³ × 45.10), which is 3.85.
        assert august[0].recalculated == D("-5.68")
