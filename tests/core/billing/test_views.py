"""The settlement centre's API: who may do what, and what bad input gets back."""

from datetime import date
from decimal import Decimal as D

import httpx
from sqlalchemy import func, select

from core.auth.enums import Role, ScopeKind
from core.billing.enums import ReadingStatus
from core.billing.models import Charge, MeterReading, Payment
from core.db import transaction
from core.intake.service import receive
from core.runtime import Hub
from tests.core.billing.factories import setup_billing
from tests.factories import api_key, inbound

STATEMENT = "external_id,account,paid_on,amount\nB-1,7700001,2026-02-05,500.00\n"


async def charged_months(client: httpx.AsyncClient, headers: dict[str, str], *months: str) -> None:
    for month in months:
        response = await client.post(
            "/api/v1/billing/charge-runs", json={"period": month}, headers=headers
        )
        assert response.status_code == 200, response.text


async def test_a_supervisor_runs_charges_and_an_agent_reads_the_account(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await setup_billing(hub)
    admin = await api_key(hub, Role.ADMIN)
    run = await client.post(
        "/api/v1/billing/charge-runs", json={"period": "2026-01"}, headers=admin
    )
    assert run.status_code == 200
    # Two accounts × (water + maintenance); 7700001 has a meter but no reading: the norm.
    assert run.json()["charges"] == 4 and run.json()["by_basis"] == {"normative": 2, "area": 2}

    agent = await api_key(hub, Role.AGENT)
    assert (
        await client.post("/api/v1/billing/charge-runs", json={"period": "2026-01"}, headers=agent)
    ).status_code == 403
    summary = await client.get("/api/v1/billing/accounts/7700001", headers=agent)
    assert summary.status_code == 200
    # 4.745 m³ × 42.30 = 200.71 and 45.40 m² × 25.50 = 1157.70
    assert summary.json()["balance"]["due"] == "1358.41"
    assert [line["amount"] for line in summary.json()["bill"]["lines"]] == ["200.71", "1157.70"]


async def test_territory_limits_account_access(client: httpx.AsyncClient, hub: Hub) -> None:
    await setup_billing(hub)
    # Demo accounts 7700001… lie in building b001 in the North district.
    north = await api_key(hub, Role.AGENT, ScopeKind.DISTRICT, "north")
    river = await api_key(hub, Role.AGENT, ScopeKind.DISTRICT, "river")
    assert (await client.get("/api/v1/billing/accounts/7700001", headers=north)).status_code == 200
    assert (await client.get("/api/v1/billing/accounts/7700001", headers=river)).status_code == 404
    payment = {"paid_on": "2026-02-01", "amount": "10.00"}
    refused = await client.post(
        "/api/v1/billing/accounts/7700001/payments", json=payment, headers=river
    )
    assert refused.status_code == 404
    assert (await client.get("/api/v1/billing/accounts/7700001")).status_code == 401


async def test_a_cashier_payment_splits_pro_rata_or_as_the_payer_chose(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await setup_billing(hub)
    admin = await api_key(hub, Role.ADMIN)
    await charged_months(client, admin, "2026-01")
    url = "/api/v1/billing/accounts/7700001/payments"
    split = await client.post(
        url, json={"paid_on": "2026-02-01", "amount": "679.21"}, headers=admin
    )
    assert split.status_code == 201
    # Half of 200.71 / 1157.70 (the remainder kopeck goes to the larger fraction).
    assert split.json()["allocated"] == {"cold_water": "100.36", "maintenance": "578.85"}
    chosen = await client.post(
        url,
        json={"paid_on": "2026-02-02", "amount": "150.00", "allocation": {"cold_water": "100.35"}},
        headers=admin,
    )
    assert chosen.status_code == 201
    assert chosen.json()["allocated"] == {"cold_water": "100.35"}
    assert chosen.json()["advance"] == "49.65"
    for bad, reason in (
        ({"paid_on": "2026-02-02", "amount": "-5"}, "greater than 0"),
        ({"paid_on": "2026-02-02", "amount": "1.001"}, "decimal place"),
        ({"paid_on": "yesterday", "amount": "5"}, "date"),
        ({"paid_on": "2026-02-02", "amount": "5", "allocation": {"sauna": "5"}}, "sauna"),
    ):
        response = await client.post(url, json=bad, headers=admin)
        assert response.status_code == 422 and reason in response.text, response.text
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 2


async def test_a_statement_imported_twice_adds_nothing(client: httpx.AsyncClient, hub: Hub) -> None:
    await setup_billing(hub)
    admin = await api_key(hub, Role.ADMIN)
    headers = {**admin, "Content-Type": "text/csv"}
    first = await client.post("/api/v1/billing/statements", content=STATEMENT, headers=headers)
    again = await client.post("/api/v1/billing/statements", content=STATEMENT, headers=headers)
    assert first.json() == {"recorded": 1, "duplicates": 0}
    assert again.json() == {"recorded": 0, "duplicates": 1}
    bad = await client.post(
        "/api/v1/billing/statements",
        content=STATEMENT.replace("7700001", "0000000").replace("B-1", "B-2"),
        headers=headers,
    )
    assert bad.status_code == 422 and "unknown account" in bad.json()["detail"][0]["reason"]


async def test_imports_over_the_api_report_rejected_rows(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    admin = {**await api_key(hub, Role.ADMIN), "Content-Type": "text/csv"}
    ok = await client.post(
        "/api/v1/billing/imports/suppliers", content="code,name_en\nwater,Water\n", headers=admin
    )
    assert ok.json() == {"created": 1, "updated": 0, "unchanged": 0}
    bad = await client.post(
        "/api/v1/billing/imports/tariffs",
        content="service,valid_from,price\nwater,2026-01-01,1\n",
        headers=admin,
    )
    assert bad.status_code == 422
    assert bad.json()["detail"] == [{"line": 2, "reason": "unknown service 'water'"}]
    missing = await client.post("/api/v1/billing/imports/sauna", content="x\n", headers=admin)
    assert missing.status_code == 404


async def test_held_readings_are_reviewed_once(client: httpx.AsyncClient, hub: Hub) -> None:
    ids = await setup_billing(hub)
    async with transaction(hub.session_factory) as session:
        reading = MeterReading(
            meter_id=ids["meter"],
            period=date(2026, 3, 1),
            value=D("999"),
            status=ReadingStatus.REVIEW,
            reason="reading:far_above_usual",
            channel="sms",
        )
        session.add(reading)
    agent = await api_key(hub, Role.AGENT)
    held = await client.get("/api/v1/billing/readings/review", headers=agent)
    assert [r["value"] for r in held.json()] == ["999.000"]
    url = f"/api/v1/billing/readings/{reading.id}/review"
    assert (await client.post(url, json={"accept": False}, headers=agent)).json() == {
        "status": "rejected"
    }
    assert (await client.post(url, json={"accept": True}, headers=agent)).status_code == 409
    river = await api_key(hub, Role.AGENT, ScopeKind.DISTRICT, "river")
    assert (await client.post(url, json={"accept": True}, headers=river)).status_code == 404


async def test_reports_come_as_json_or_csv(client: httpx.AsyncClient, hub: Hub) -> None:
    await setup_billing(hub)
    admin = await api_key(hub, Role.ADMIN)
    await charged_months(client, admin, "2026-01")
    report = await client.get(
        "/api/v1/billing/reports/suppliers", params={"period": "2026-01"}, headers=admin
    )
    # 7700001: 200.71 + 1157.70; 7700002 (2 residents, 52.40 m²): 401.43 + 1336.20
    assert report.json()[0]["billed"] == "3096.04"
    csv = await client.get(
        "/api/v1/billing/reports/debtors", params={"format": "csv"}, headers=admin
    )
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "account,owed"
    bad = await client.get(
        "/api/v1/billing/reports/suppliers", params={"period": "2026-13"}, headers=admin
    )
    assert bad.status_code == 422
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Charge)) == 4


async def test_a_pin_set_by_staff_lets_the_resident_in(client: httpx.AsyncClient, hub: Hub) -> None:
    await setup_billing(hub)
    agent = await api_key(hub, Role.AGENT)
    url = "/api/v1/billing/accounts/7700002/pin"
    assert (await client.put(url, json={"pin": "12"}, headers=agent)).status_code == 422
    assert (await client.put(url, json={"pin": "5678"}, headers=agent)).status_code == 204
    result = await receive(hub=hub, message=inbound("ACCOUNT 7700002 5678", sender="+79005550177"))
    assert "is linked" in result.replies[0].text
    # A new PIN (a new tenant) ends the access gained with the old one.
    assert (await client.put(url, json={"pin": "9012"}, headers=agent)).status_code == 204
    result = await receive(hub=hub, message=inbound("balance", sender="+79005550177"))
    assert "ACCOUNT" in result.replies[0].text


async def test_the_ticket_form_refuses_billing_commands(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await setup_billing(hub)
    river = await api_key(hub, Role.AGENT, ScopeKind.DISTRICT, "river")
    for text in ("показания 150", "account 7700001 1234"):
        body = {"channel": "sms", "sender_address": "+79001000001", "text": text}
        response = await client.post("/api/v1/tickets", json=body, headers=river)
        assert response.status_code == 422
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(MeterReading)) == 0


async def test_implausible_statement_amounts_are_refused(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await setup_billing(hub)
    headers = {**await api_key(hub, Role.ADMIN), "Content-Type": "text/csv"}
    for amount in ("NaN", "Infinity", "1e30"):
        bad = STATEMENT.replace("500.00", amount)
        response = await client.post("/api/v1/billing/statements", content=bad, headers=headers)
        assert response.status_code == 422 and "not a plausible payment" in response.text
