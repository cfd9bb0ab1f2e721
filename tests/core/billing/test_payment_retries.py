"""A cashier's client retrying a payment (a timeout, a double click) records it once."""

import httpx
from sqlalchemy import func, select

from core.auth.enums import Role
from core.billing.models import Payment, PaymentAllocation
from core.runtime import Hub
from tests.core.billing.factories import setup_billing
from tests.factories import api_key

URL = "/api/v1/billing/accounts/{}/payments"
BODY = {"paid_on": "2026-02-01", "amount": "100.00"}


async def payments_recorded(hub: Hub) -> tuple[int, int]:
    async with hub.session_factory() as session:
        payments = await session.scalar(select(func.count()).select_from(Payment))
        parts = await session.scalar(select(func.count()).select_from(PaymentAllocation))
    return int(payments or 0), int(parts or 0)


async def test_a_retry_with_the_same_key_returns_the_first_payment(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await setup_billing(hub)
    cashier = {**await api_key(hub, Role.AGENT), "Idempotency-Key": "till-3-0001"}
    first = await client.post(URL.format("7700001"), json=BODY, headers=cashier)
    assert first.status_code == 201, first.text
    recorded = await payments_recorded(hub)
    again = await client.post(URL.format("7700001"), json=BODY, headers=cashier)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert await payments_recorded(hub) == recorded == (1, 1)

    # Another key is another payment; so is the same key from another client.
    other_key = {**cashier, "Idempotency-Key": "till-3-0002"}
    assert (await client.post(URL.format("7700001"), json=BODY, headers=other_key)).is_success
    other_client = {**await api_key(hub, Role.AGENT), "Idempotency-Key": "till-3-0001"}
    theirs = await client.post(URL.format("7700001"), json=BODY, headers=other_client)
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    assert (await payments_recorded(hub))[0] == 3


async def test_the_same_key_for_a_different_payment_is_refused(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await setup_billing(hub)
    cashier = {**await api_key(hub, Role.AGENT), "Idempotency-Key": "till-3-0001"}
    first = await client.post(URL.format("7700001"), json=BODY, headers=cashier)
    assert first.status_code == 201
    for url, body in (
        (URL.format("7700001"), {**BODY, "amount": "1000.00"}),
        (URL.format("7700001"), {**BODY, "paid_on": "2026-02-02"}),
        (URL.format("7700002"), BODY),
    ):
        refused = await client.post(url, json=body, headers=cashier)
        assert refused.status_code == 422, refused.text
        assert "Idempotency-Key" in refused.json()["detail"]
    assert await payments_recorded(hub) == (1, 1)


async def test_an_unusable_key_is_refused(client: httpx.AsyncClient, hub: Hub) -> None:
    await setup_billing(hub)
    agent = await api_key(hub, Role.AGENT)
    for key in ("", "x" * 101):
        refused = await client.post(
            URL.format("7700001"), json=BODY, headers={**agent, "Idempotency-Key": key}
        )
        assert refused.status_code == 422, refused.text
    assert await payments_recorded(hub) == (0, 0)
