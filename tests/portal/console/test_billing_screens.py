"""Billing operator screens: an account at a glance, a cashier payment with a receipt, and
a held reading reviewed; another department's staff reach no account."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from core.auth.enums import Role
from core.billing.models import Payment
from core.runtime import Hub
from tests.core.billing.factories import setup_billing
from tests.core.billing.test_views import charged_months
from tests.factories import api_key
from tests.portal.console.helpers import console_login


async def test_the_operator_reads_an_account_and_takes_a_payment(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await setup_billing(hub)
    await charged_months(client, await api_key(hub, Role.ADMIN), "2026-01")
    token = await console_login(client, "billing")
    home = await client.get("/console/billing")
    assert home.status_code == 200 and "Readings to review" in home.text
    found = await client.post("/console/billing/account", data={"csrf": token, "number": "7700001"})
    assert found.status_code == 200 and "1,358.41" in found.text
    missing = await client.post("/console/billing/account", data={"csrf": token, "number": "123"})
    assert missing.status_code == 404
    paid = await client.post(
        "/console/billing/payment",
        data={"csrf": token, "number": "7700001", "amount": "500,00", "reference": "T-1"},
    )
    assert paid.status_code == 200 and "Payment received" in paid.text
    again = await client.post(
        "/console/billing/payment",
        data={"csrf": token, "number": "7700001", "amount": "500,00", "reference": "T-1"},
    )
    assert again.status_code == 409
    bad = await client.post(
        "/console/billing/payment", data={"csrf": token, "number": "7700001", "amount": "-5"}
    )
    assert bad.status_code == 422
    async with hub.session_factory() as session:
        amounts = list(await session.scalars(select(Payment.amount)))
    assert [str(a) for a in amounts] == ["500.00"]


async def test_another_department_reaches_no_account(client: httpx.AsyncClient, hub: Hub) -> None:
    await setup_billing(hub)
    token = await console_login(client, "sanitation")
    found = await client.post("/console/billing/account", data={"csrf": token, "number": "7700001"})
    assert found.status_code == 404
