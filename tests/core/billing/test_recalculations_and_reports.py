"""Quality acts, absences, and the supplier and debtor reports, with worked numbers."""

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from core.billing.models import Recalculation
from core.billing.payments import outstanding, record_payment
from core.billing.recalculations import (
    RecalculationRejected,
    record_absence,
    record_quality_act,
)
from core.billing.reports import DebtorLine, SupplierLine, debtors, supplier_report, to_csv
from core.billing.service import run_charges
from core.db import transaction
from core.runtime import Hub
from core.territory.models import Account, Building
from tests.core.billing.test_charge_run import read, setup_billing

OCTOBER = date(2026, 10, 1)


async def charged_october(hub: Hub) -> dict[str, int]:
    ids = await setup_billing(hub)
    await read(hub, ids["meter"], 9, "100.000")
    async with transaction(hub.session_factory) as session:
        await run_charges(db_session=session, period=date(2026, 9, 1))
    await read(hub, ids["meter"], 10, "110.000")  # 10 m³ in October: 423.00
    async with transaction(hub.session_factory) as session:
        await run_charges(db_session=session, period=OCTOBER)
    return ids


async def test_a_heating_style_act_reduces_every_flat_in_the_building(hub: Hub) -> None:
    ids = await charged_october(hub)
    async with transaction(hub.session_factory) as session:
        building = await session.scalar(select(Building.id).where(Building.code == "b001"))
        assert building is not None
        # 30 h without cold water against 24 h allowed: 6 h × 0.15 % = 0.9 % of the fee.
        changed = await record_quality_act(
            db_session=session,
            building_id=building,
            service_code="cold_water",
            period=OCTOBER,
            hours=D("30"),
        )
        again = await record_quality_act(
            db_session=session,
            building_id=building,
            service_code="cold_water",
            period=OCTOBER,
            hours=D("30"),
        )
    assert changed == again == 2  # accounts 7700001 and 7700002 live in b001
    async with hub.session_factory() as session:
        rows = {r.account_id: r.amount for r in await session.scalars(select(Recalculation))}
        owed = await outstanding(db_session=session, account_id=ids["first"])
    # 7700001: October 423.00 → −3.81; 7700002 (norm 9.49 m³ → 401.43) → −3.61.
    assert rows == {ids["first"]: D("-3.81"), ids["second"]: D("-3.61")}
    assert owed[ids["water"]] == D("200.71") + D("423.00") - D("3.81")


async def test_absence_is_recalculated_only_without_a_meter(hub: Hub) -> None:
    await charged_october(hub)
    async with transaction(hub.session_factory) as session:
        amount = await record_absence(
            db_session=session,
            account_number="7700002",
            service_code="cold_water",
            period=OCTOBER,
            days_absent=10,
        )
    assert amount == D("-129.49")  # 401.43 × 10 / 31
    with pytest.raises(RecalculationRejected, match="meter"):
        async with transaction(hub.session_factory) as session:
            await record_absence(
                db_session=session,
                account_number="7700001",
                service_code="cold_water",
                period=OCTOBER,
                days_absent=10,
            )
    with pytest.raises(RecalculationRejected, match="within the period"):
        async with transaction(hub.session_factory) as session:
            await record_absence(
                db_session=session,
                account_number="7700002",
                service_code="cold_water",
                period=OCTOBER,
                days_absent=40,
            )
    async with transaction(hub.session_factory) as session:
        short = await record_absence(
            db_session=session,
            account_number="7700002",
            service_code="cold_water",
            period=OCTOBER,
            days_absent=5,
        )
    assert short == D("0")  # five days or fewer change nothing


async def test_supplier_report_and_debtors(hub: Hub) -> None:
    await charged_october(hub)
    async with transaction(hub.session_factory) as session:
        await record_payment(
            db_session=session,
            account_number="7700001",
            paid_on=date(2026, 10, 20),
            amount=D("1000"),
            source="manual",
        )
    async with hub.session_factory() as session:
        [line] = await supplier_report(db_session=session, period=OCTOBER)
        owing = await debtors(db_session=session, min_owed=D("100"))
        accounts = {a.number for a in await session.scalars(select(Account))}
    # October billed: water 423.00 (7700001, metered) + 401.43 (7700002, norm for two);
    # maintenance 45.40 m² and 52.40 m² at 25.50 = 1,157.70 + 1,336.20 → 3,318.33.
    # September: 200.71 (the meter's first month, norm for one) + 401.43 + 1,157.70
    # + 1,336.20 = 3,096.04. Debt after the 1,000 payment: 5,414.37.
    assert line == SupplierLine(
        supplier="vodokanal",
        billed=D("3318.33"),
        recalculated=D("0.00"),
        paid=D("1000.00"),
        debt=D("5414.37"),
    )
    assert owing == [DebtorLine("7700002", D("3475.26")), DebtorLine("7700001", D("1939.11"))]
    assert set(accounts) >= {"7700001", "7700002"}
    csv_text = to_csv(owing, DebtorLine)
    assert csv_text.splitlines()[0] == "account,owed"
    assert to_csv([line], SupplierLine).splitlines()[0] == "supplier,billed,recalculated,paid,debt"
