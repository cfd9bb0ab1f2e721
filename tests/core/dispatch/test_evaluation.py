"""Evaluation of departments (DOMAIN §1) with numbers worked by hand."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import select

from core.auth.enums import Role
from core.dispatch.evaluation import DEFAULT_WEIGHTS, rates_and_score
from core.dispatch.models import Case
from core.runtime import Hub
from tests.core.dispatch.factories import act_at, report, staff_key
from tests.core.dispatch.test_clock import msk


def test_the_published_city_report_example_and_a_whole_score() -> None:
    counts = {
        "due": 972,
        "closed": 911,
        "closed_on_time": 850,
        "handled": 940,
        "handled_on_time": 900,
        "reworked": 30,
        "overdue_open": 25,
        "extended": 40,
    }
    rates, score = rates_and_score(counts, DEFAULT_WEIGHTS)
    assert rates["closing_rate"] == Decimal("93.72")  # 911 of 972, as the city published
    assert rates["on_time_closing_rate"] == Decimal("87.45")
    assert rates["handling_rate"] == Decimal("96.71")
    assert rates["rework_rate"] == Decimal("3.09")
    assert rates["overdue_open_rate"] == Decimal("2.57")
    # 20×0.93724 + 30×0.87449 + 10×0.96708 + 20×0.92593 + 10×(1−0.03086) + 10×(1−0.02572)
    assert score == Decimal("92.60")


def test_weights_are_data_and_nothing_due_is_not_scored() -> None:
    counts = {"due": 4, "closed": 4, "closed_on_time": 2, "reworked": 1}
    weights = {"on_time_closing_rate": (Decimal(50), False), "rework_rate": (Decimal(50), True)}
    rates, score = rates_and_score(counts, weights)
    assert rates["closing_rate"] == Decimal("100.00")
    assert score == Decimal("62.50")  # 50 × 0.5 + 50 × (1 − 0.25)
    assert rates_and_score({"due": 0}, DEFAULT_WEIGHTS) == (
        {code: None for code in rates},
        None,
    )


async def _case(hub: Hub, dispatched_at: object) -> int:
    received = await report(hub, "Мусор у рынка")
    ticket_id = received.ticket_id or 0
    await act_at(hub, ticket_id, dispatched_at, action="register")  # type: ignore[arg-type]
    return ticket_id


async def test_a_month_of_one_department(client: httpx.AsyncClient, hub: Hub) -> None:
    # A: done in two hours and closed: on time.
    a = await _case(hub, msk(2026, 12, 1, 10))
    await act_at(hub, a, msk(2026, 12, 1, 12), action="report", reason="done")
    await act_at(hub, a, msk(2026, 12, 1, 13), action="verify_pass")
    # B: due 2 December 14:00, reported the next day: closed, late.
    b = await _case(hub, msk(2026, 12, 2, 10))
    await act_at(hub, b, msk(2026, 12, 3, 10), action="report", reason="done")
    await act_at(hub, b, msk(2026, 12, 3, 11), action="verify_pass")
    # C: failed inspection and never finished: reworked, overdue, open at the month's end.
    c = await _case(hub, msk(2026, 12, 4, 10))
    await act_at(hub, c, msk(2026, 12, 4, 12), action="report", reason="done")
    await act_at(hub, c, msk(2026, 12, 4, 13), action="verify_fail", reason="not done")
    # D: dispatched on 30 December, due after the holidays: not due in December.
    await _case(hub, msk(2026, 12, 30, 17))

    admin = await staff_key(hub, Role.ADMIN)
    period = {"start": "2026-12-01", "end": "2027-01-01"}
    body = (await client.get("/api/v1/dispatch/evaluation", params=period, headers=admin)).json()
    [row] = body["results"]
    assert row["department"] == "sanitation"
    assert (row["due"], row["closed"], row["closed_on_time"]) == (3, 2, 1)
    assert (row["handled"], row["handled_on_time"], row["reworked"]) == (2, 1, 1)
    assert (row["overdue_open"], row["extended"]) == (1, 0)
    assert row["closing_rate"] == "66.67" and row["rework_rate"] == "33.33"
    # 20×⅔ + 30×⅓ + 10×⅔ + 20×⅓ + 10×(1−⅓) + 10×(1−⅓) + 0 = 50
    assert row["score"] == "50.00"

    csv_text = (
        await client.get(
            "/api/v1/dispatch/evaluation", params={**period, "format": "csv"}, headers=admin
        )
    ).text
    lines = csv_text.splitlines()
    assert lines[0].startswith("department,name,due,closed")
    assert lines[1].startswith("sanitation,Sanitation,3,2,1,2,1,1,1,0,66.67")

    dispatcher = await staff_key(hub, Role.DISPATCHER, district="north")
    assert (
        await client.get("/api/v1/dispatch/evaluation", params=period, headers=dispatcher)
    ).status_code == 403
    bad = await client.get(
        "/api/v1/dispatch/evaluation",
        params={"start": "2027-01-01", "end": "2026-12-01"},
        headers=admin,
    )
    assert bad.status_code == 422

    published = await client.post("/api/v1/dispatch/evaluations", json=period, headers=admin)
    assert published.status_code == 201 and published.json()["results"][0]["score"] == "50.00"
    async with hub.session_factory() as session:
        evaluated = set(
            await session.scalars(select(Case.ticket_id).where(Case.evaluation_id.is_not(None)))
        )
    assert evaluated == {a, b}  # the closed cases of the period


async def test_weights_imported_change_the_score(client: httpx.AsyncClient, hub: Hub) -> None:
    a = await _case(hub, msk(2026, 12, 1, 10))
    await act_at(hub, a, msk(2026, 12, 1, 12), action="report", reason="done")
    await act_at(hub, a, msk(2026, 12, 1, 13), action="verify_pass")
    admin = await staff_key(hub, Role.ADMIN)
    weights = "code,weight,bad\nclosing_rate,100,0\non_time_closing_rate,0,\nhandling_rate,0,\n"
    weights += "on_time_handling_rate,0,\nrework_rate,0,1\noverdue_open_rate,0,1\n"
    imported = await client.post(
        "/api/v1/dispatch/imports/indicator_weights",
        content=weights,
        headers={**admin, "Content-Type": "text/plain"},
    )
    assert imported.status_code == 200, imported.text
    period = {"start": "2026-12-01", "end": "2027-01-01"}
    body = (await client.get("/api/v1/dispatch/evaluation", params=period, headers=admin)).json()
    assert body["results"][0]["score"] == "100.00"
    wrong = await client.post(
        "/api/v1/dispatch/imports/indicator_weights",
        content="code,weight\nhappiness,5\nclosing_rate,-1\n",
        headers={**admin, "Content-Type": "text/plain"},
    )
    assert wrong.status_code == 422
    assert [item["line"] for item in wrong.json()["detail"]] == [2, 3]
