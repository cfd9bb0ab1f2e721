"""CSV exports never carry a live spreadsheet formula, and numbers stay numbers."""

import csv
import io
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from core.auth.enums import Role
from core.billing.models import Supplier
from core.complaints.models import PropertyCompany
from core.db import transaction, utcnow
from core.dispatch.evaluation import to_csv as evaluation_csv
from core.exports import csv_line
from core.runtime import Hub
from tests.core.billing.factories import setup_billing
from tests.core.votes.factories import ballot_body, committee_key, shift_open
from tests.factories import api_key

LINK = '=HYPERLINK("http://x")'


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (LINK, "'" + LINK),
        ("+7 900 ***", "'+7 900 ***"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-120.50", "-120.50"),  # a negative amount written as text is still a number
        ("+5", "+5"),
        ("Comfort Service", "Comfort Service"),
        ("a=b", "a=b"),
        ("two\nlines", "two\nlines"),  # quoted: still one row
        ("two\rlines", "two\rlines"),
    ],
)
def test_a_text_cell_that_would_run_as_a_formula_is_neutralised(cell: str, written: str) -> None:
    [row] = csv.reader(io.StringIO(csv_line(["x", cell], lineterminator="\n"), newline=""))
    assert row == ["x", written]


def test_numbers_are_written_as_numbers() -> None:
    from decimal import Decimal

    assert csv_line([Decimal("-120.50"), -3, None], lineterminator="") == "-120.50,-3,"


async def test_a_billing_report_neutralises_a_code_and_keeps_a_negative_debt(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await setup_billing(hub)
    async with transaction(hub.session_factory) as session:
        await session.execute(update(Supplier).values(code=LINK))
    admin = await api_key(hub, Role.ADMIN)
    run = await client.post(
        "/api/v1/billing/charge-runs", json={"period": "2026-01"}, headers=admin
    )
    assert run.status_code == 200
    # A credit carried over from the old system: a negative amount, and a negative debt.
    credit = await client.post(
        "/api/v1/billing/imports/balances",
        content="account,service,amount,as_of\n7700002,maintenance,-5000.00,2026-01\n",
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert credit.status_code == 200, credit.text
    report = await client.get(
        "/api/v1/billing/reports/suppliers",
        params={"period": "2026-01", "format": "csv"},
        headers=admin,
    )
    [header, line] = list(csv.reader(io.StringIO(report.text)))
    row = dict(zip(header, line, strict=True))
    assert row["supplier"] == "'" + LINK
    assert row["recalculated"] == "-5000.00"
    assert row["debt"].startswith("-") and float(row["debt"]) < 0


async def test_the_public_ranking_neutralises_a_company_name(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    async with transaction(hub.session_factory) as session:
        await session.execute(
            update(PropertyCompany)
            .where(PropertyCompany.code == "uyut")
            .values(names={"en": LINK, "ru": LINK})
        )
    table = await client.get("/api/v1/complaints/ranking.csv")
    assert table.status_code == 200
    names = [row[2] for row in csv.reader(io.StringIO(table.text))]
    assert "'" + LINK in names and LINK not in names


async def test_the_vote_protocol_neutralises_a_question_text(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    headers = await committee_key(hub)
    body = ballot_body()
    body["questions"] = [{"matter": "default", "texts": {"ru": LINK, "en": LINK}}]
    created = await client.post("/api/v1/votes/ballots", json=body, headers=headers)
    assert created.status_code == 201, created.text
    url = f"/api/v1/votes/ballots/{created.json()['id']}"
    assert (await client.post(f"{url}/publish", headers=headers)).status_code == 200
    await shift_open(hub, int(created.json()["id"]), now=utcnow() - timedelta(minutes=1))
    closed = await client.post(f"{url}/close", json={"reason": "Test"}, headers=headers)
    assert closed.status_code == 200, closed.text
    table = await client.get(f"{url}/protocol.csv", headers=headers)
    assert table.status_code == 200, table.text
    texts = [row[1] for row in csv.reader(io.StringIO(table.text))][1:]
    assert texts and set(texts) == {"'" + LINK}


def test_the_dispatch_evaluation_neutralises_a_department_name() -> None:
    results: list[dict[str, object]] = [
        {"department": "parks", "names": {"en": LINK}, "due": 0, "score": None}
    ]
    [_header, row] = list(csv.reader(io.StringIO(evaluation_csv(results, "en"))))
    assert row[:3] == ["parks", "'" + LINK, "0"]
