"""Payments: pro-rata allocation to the kopeck, advances, bank statements imported once."""

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from core.billing.enums import ChargeBasis
from core.billing.models import BillingService, Charge, Payment, PaymentAllocation, Supplier
from core.billing.payments import (
    PaymentRejected,
    StatementRejected,
    import_statement,
    outstanding,
    record_payment,
)
from core.db import transaction
from core.runtime import Hub
from core.territory.models import Account


async def bill(hub: Hub) -> tuple[int, dict[str, int]]:
    """DOMAIN §4: one bill of 3,000 — water 1,000 / heating 1,500 / maintenance 500."""
    async with transaction(hub.session_factory) as session:
        supplier = Supplier(code="rc", names={"en": "Settlement centre"})
        session.add(supplier)
        await session.flush()
        services = {}
        for code, amount in (("water", "1000"), ("heating", "1500"), ("maintenance", "500")):
            service = BillingService(
                code=code,
                names={"en": code},
                supplier_id=supplier.id,
                unit="x",
                basis=ChargeBasis.AREA,
                normative=D("1"),
                allowed_interruption_hours=D("0"),
            )
            session.add(service)
            await session.flush()
            services[code] = service.id
            account_id = await session.scalar(select(Account.id).where(Account.number == "7700001"))
            assert account_id is not None
            session.add(
                Charge(
                    account_id=account_id,
                    service_id=service.id,
                    period=date(2026, 10, 1),
                    basis="area",
                    quantity=D("1"),
                    tariff=D(amount),
                    amount=D(amount),
                )
            )
    return account_id, services


async def allocations(hub: Hub, payment_id: int) -> dict[int | None, D]:
    async with hub.session_factory() as session:
        rows = await session.execute(
            select(PaymentAllocation.service_id, PaymentAllocation.amount).where(
                PaymentAllocation.payment_id == payment_id
            )
        )
        return dict(rows.all())


async def test_a_partial_payment_is_split_pro_rata(hub: Hub) -> None:
    account_id, services = await bill(hub)
    async with transaction(hub.session_factory) as session:
        payment = await record_payment(
            db_session=session,
            account_number="7700001",
            paid_on=date(2026, 11, 5),
            amount=D("1500"),
            source="manual",
        )
    assert payment is not None
    assert await allocations(hub, payment.id) == {
        services["water"]: D("500.00"),
        services["heating"]: D("750.00"),
        services["maintenance"]: D("250.00"),
    }
    async with hub.session_factory() as session:
        owed = await outstanding(db_session=session, account_id=account_id)
    assert owed == {
        services["water"]: D("500.00"),
        services["heating"]: D("750.00"),
        services["maintenance"]: D("250.00"),
    }


async def test_overpaying_leaves_an_advance(hub: Hub) -> None:
    _, services = await bill(hub)
    async with transaction(hub.session_factory) as session:
        payment = await record_payment(
            db_session=session,
            account_number="7700001",
            paid_on=date(2026, 11, 5),
            amount=D("3100.50"),
            source="manual",
        )
    assert payment is not None
    split = await allocations(hub, payment.id)
    assert split[None] == D("100.50") and sum(split.values()) == D("3100.50")


async def test_a_statement_imports_once_and_bad_rows_stop_the_file(hub: Hub) -> None:
    await bill(hub)
    statement = (
        "external_id,account,paid_on,amount\n"
        'B-1,7700001,2026-11-05,"1 000,00"\n'
        "B-2,7700001,2026-11-06,500.00\n"
    )
    for expected in ((2, 0), (0, 2)):
        async with transaction(hub.session_factory) as session:
            report = await import_statement(db_session=session, text=statement)
        assert (report.recorded, report.already_recorded) == expected
    bad = (
        "external_id,account,paid_on,amount\n"
        "B-3,7700001,2026-11-07,10.00\n"
        "B-4,9999999,2026-11-07,10.00\n"
        "B-5,7700001,07.11.2026,10.00\n"
        "B-6,7700001,2026-11-07,-5\n"
        "B-6,7700001,2026-11-07,5\n"
    )
    with pytest.raises(StatementRejected) as caught:
        async with transaction(hub.session_factory) as session:
            await import_statement(db_session=session, text=bad)
    reasons = dict(caught.value.report.rejected)
    assert set(reasons) == {3, 4, 5, 6}
    assert "unknown account" in reasons[3] and "YYYY-MM-DD" in reasons[4]
    assert "positive" in reasons[5] and "twice in the file" in reasons[6]
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 2


async def test_unknown_accounts_and_bad_choices_are_refused(hub: Hub) -> None:
    _, services = await bill(hub)
    with pytest.raises(PaymentRejected, match="unknown account"):
        async with transaction(hub.session_factory) as session:
            await record_payment(
                db_session=session,
                account_number="nope",
                paid_on=date(2026, 11, 5),
                amount=D("10"),
                source="manual",
            )
    with pytest.raises(PaymentRejected, match="within"):
        async with transaction(hub.session_factory) as session:
            await record_payment(
                db_session=session,
                account_number="7700001",
                paid_on=date(2026, 11, 5),
                amount=D("10"),
                source="manual",
                chosen={services["water"]: D("20")},
            )
