"""Standards and inspections: campaigns over the estates served on their start day, results
that turn failed indicators into one rectification order, the order's way to done (or to
overdue, with one deduction), the checks that are due, the authority's reports, and who
may do and see what."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from core.auth.enums import Role, ScopeKind
from core.auth.service import Principal, create_api_key
from core.complaints.enums import OrderStatus, ScoreKind, ScoreStatus
from core.complaints.inspections import (
    ResultIn,
    due_checks,
    mark_overdue_orders,
    record_results,
    report_order,
    start_campaign,
)
from core.complaints.models import (
    Campaign,
    Inspection,
    PropertyCompany,
    RectificationOrder,
    ScoreEvent,
)
from core.complaints.service import SYSTEM, Context, calendar_of, local_day
from core.complaints.sweep import sweep
from core.db import transaction, utcnow
from core.imports import import_text
from core.intake.service import IntakeResult, receive
from core.outbox.models import OutboxMessage
from core.runtime import Hub
from core.sla.calendar import LimitUnit
from core.tickets.models import Ticket
from core.tickets.service import Scope
from tests.core.dispatch.factories import staff_key
from tests.factories import inbound

API = "/api/v1/complaints"
INSPECTOR = Principal("staff:inspector", Role.INSPECTOR, Scope(ScopeKind.CITY))
# A Thursday before the New Year holidays of the demo calendar (13:00 in Moscow).
THURSDAY = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)


async def company_key(hub: Hub, code: str) -> dict[str, str]:
    """Returns headers with an API key speaking for the company ``code``."""
    async with transaction(hub.session_factory) as session:
        company_id = await session.scalar(
            select(PropertyCompany.id).where(PropertyCompany.code == code)
        )
        _, key = await create_api_key(
            db_session=session,
            name=f"company {code}",
            role=Role.COMPANY,
            scope_kind=ScopeKind.COMPANY,
            scope_id=company_id,
        )
    return {"X-API-Key": key}


async def context_at(hub: Hub, now: datetime, principal: Principal = INSPECTOR) -> Context:
    # The routing table is read before a write transaction opens: on SQLite a second
    # connection cannot start while one writes.
    return Context(principal, await hub.routing.get(), hub.settings, now)


def today(hub: Hub) -> date:
    return local_day(hub.settings, utcnow())


async def start(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    code: str = "spring",
    indicators: tuple[str, ...] = ("stairwells", "lifts"),
    **fields: Any,
) -> httpx.Response:
    body = {
        "code": code,
        "names": {"en": "Spring check", "ru": "Весенняя проверка"},
        "indicators": list(indicators),
        "starts_on": str(fields.pop("starts_on", None) or date(2026, 3, 1)),
        "ends_on": str(fields.pop("ends_on", None) or date(2026, 3, 31)),
        **fields,
    }
    return await client.post(f"{API}/campaigns", json=body, headers=headers)


async def inspection_of(
    client: httpx.AsyncClient, headers: dict[str, str], campaign: str, estate: str
) -> dict[str, Any]:
    found = await client.get(f"{API}/inspections", params={"campaign": campaign}, headers=headers)
    (inspection,) = [i for i in found.json() if i["estate"] == estate]
    return inspection


async def score(
    client: httpx.AsyncClient, headers: dict[str, str], inspection_id: int, **scores: int
) -> httpx.Response:
    results = [{"indicator": code, "score": value} for code, value in scores.items()]
    return await client.post(
        f"{API}/inspections/{inspection_id}/results", json={"results": results}, headers=headers
    )


def resident(building: int, flat: int = 1) -> str:
    """Returns the phone of the demo owner of ``flat`` in building b<building>."""
    return f"+7900100{(building - 1) * 6 + flat:04d}"


async def complain(hub: Hub, building: int, flat: int = 1) -> IntakeResult:
    result = await receive(
        hub=hub, message=inbound("Не работает лифт в подъезде", sender=resident(building, flat))
    )
    assert result.ticket_number is not None
    return result


async def count(hub: Hub, model: type, *where: Any) -> int:
    async with hub.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_a_campaign_plans_one_inspection_per_estate_served_on_its_first_day(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    inspector = await staff_key(hub, Role.INSPECTOR)
    started = await start(client, inspector, starts_on=today(hub), ends_on=today(hub))
    assert started.status_code == 201
    # old_mill's contract ended on 2025-12-31: nobody to inspect there.
    assert started.json() == {"code": "spring", "inspections": 2}
    listed = (
        await client.get(f"{API}/inspections", params={"campaign": "spring"}, headers=inspector)
    ).json()
    assert sorted((i["estate"], i["company"], i["status"], i["due_on"]) for i in listed) == [
        ("gardens", "uyut", "planned", str(today(hub))),
        ("north_park", "comfort", "planned", str(today(hub))),
    ]

    # In 2025 uyut still served old_mill.
    last_year = await start(
        client, inspector, code="last_year", starts_on=date(2025, 6, 1), ends_on=date(2025, 6, 30)
    )
    assert last_year.json() == {"code": "last_year", "inspections": 3}
    only_uyut = await start(client, inspector, code="uyut_only", companies=["uyut"])
    assert only_uyut.json() == {"code": "uyut_only", "inspections": 1}


@pytest.mark.parametrize(
    ("fields", "status", "reason"),
    [
        ({"indicators": ("stairwells", "roofs")}, 409, "unknown or retired indicators: roofs"),
        ({"companies": ["uyut", "nobody"]}, 409, "unknown companies: nobody"),
        (
            {"starts_on": date(2026, 3, 31), "ends_on": date(2026, 3, 1)},
            409,
            "the campaign ends before it starts",
        ),
        ({"code": "spring"}, 409, "a campaign 'spring' exists already"),
        ({"indicators": ()}, 422, None),
        ({"code": "no spaces"}, 422, None),
        ({"names": {"ru": "Без английского"}}, 422, None),
    ],
)
async def test_a_campaign_is_refused_with_a_reason_and_nothing_planned(
    client: httpx.AsyncClient,
    hub: Hub,
    fields: dict[str, Any],
    status: int,
    reason: str | None,
) -> None:
    inspector = await staff_key(hub, Role.INSPECTOR)
    assert (await start(client, inspector)).status_code == 201
    campaigns, inspections = await count(hub, Campaign), await count(hub, Inspection)
    refused = await start(client, inspector, **{"code": "autumn", **fields})
    assert refused.status_code == status
    if reason is not None:
        assert refused.json()["detail"] == reason
    assert (await count(hub, Campaign), await count(hub, Inspection)) == (campaigns, inspections)


async def test_a_retired_indicator_cannot_be_checked(client: httpx.AsyncClient, hub: Hub) -> None:
    async with transaction(hub.session_factory) as session:
        await import_text(
            db_session=session,
            what="indicators",
            text="code,name_en,frequency,max_score,pass_score,active\n"
            "yards,Yard and greenery,quarterly,10,6,0\n",
            fmt="csv",
        )
    inspector = await staff_key(hub, Role.INSPECTOR)
    refused = await start(client, inspector, indicators=("stairwells", "yards"))
    assert refused.status_code == 409
    assert refused.json()["detail"] == "unknown or retired indicators: yards"


@pytest.mark.parametrize(
    ("results", "reason"),
    [
        ([("stairwells", 7)], "score exactly the campaign's indicators: lifts, stairwells"),
        (
            [("stairwells", 7), ("lifts", 9), ("yards", 9)],
            "score exactly the campaign's indicators: lifts, stairwells",
        ),
        ([("stairwells", 7), ("stairwells", 8), ("lifts", 9)], "an indicator is scored twice"),
        ([("stairwells", 11), ("lifts", 9)], "stairwells is scored from 0 to 10"),
    ],
)
async def test_results_score_every_indicator_once_within_its_range(
    client: httpx.AsyncClient, hub: Hub, results: list[tuple[str, int]], reason: str
) -> None:
    inspector = await staff_key(hub, Role.INSPECTOR)
    await start(client, inspector)
    inspection = await inspection_of(client, inspector, "spring", "gardens")
    refused = await client.post(
        f"{API}/inspections/{inspection['id']}/results",
        json={"results": [{"indicator": code, "score": value} for code, value in results]},
        headers=inspector,
    )
    assert refused.status_code == 409 and refused.json()["detail"] == reason
    after = await inspection_of(client, inspector, "spring", "gardens")
    assert after["status"] == "planned" and after["passed"] is None
    assert await count(hub, RectificationOrder) == 0


async def test_failed_indicators_make_one_order_due_in_ten_working_days(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    inspector = await staff_key(hub, Role.INSPECTOR)
    await start(client, inspector, indicators=("stairwells", "lifts", "yards"))
    gardens = await inspection_of(client, inspector, "spring", "gardens")
    uyut_phone = OutboxMessage.address == "+79005550901"
    before = utcnow()
    scored = await score(client, inspector, gardens["id"], stairwells=5, lifts=7, yards=6)
    after = utcnow()
    assert scored.status_code == 200
    # The company hears of its order by SMS at its registered phone.
    assert await count(hub, OutboxMessage, uyut_phone) == 1
    (order,) = scored.json()
    # uyut reads Russian; both failed indicators (below 6 and 8) in one order.
    assert (order["company"], order["estate"], order["status"], order["complaint"]) == (
        "uyut",
        "gardens",
        "open",
        None,
    )
    assert order["text"] == "Исправность лифтов; Чистота подъездов"
    calendar = calendar_of(await hub.routing.get())
    assert calendar is not None
    days = hub.settings.complaints_rectification_days
    due = datetime.fromisoformat(order["due_at"])
    assert (
        calendar.due_at(before, days, LimitUnit.WORKING_DAYS)
        <= due
        <= calendar.due_at(after, days, LimitUnit.WORKING_DAYS)
    )
    done = await inspection_of(client, inspector, "spring", "gardens")
    assert done["status"] == "done" and done["passed"] is False and done["done_at"]
    again = await score(client, inspector, gardens["id"], stairwells=9, lifts=9, yards=9)
    assert again.status_code == 409 and again.json()["detail"] == "this inspection is done already"

    # Scores at the pass mark pass: no order for comfort.
    north_park = await inspection_of(client, inspector, "spring", "north_park")
    passing = await score(client, inspector, north_park["id"], stairwells=6, lifts=8, yards=6)
    assert passing.status_code == 200 and passing.json() == []
    assert (await inspection_of(client, inspector, "spring", "north_park"))["passed"] is True
    assert await count(hub, RectificationOrder) == 1
    assert await count(hub, OutboxMessage, uyut_phone) == 1


async def test_the_default_order_due_date_follows_the_working_calendar(hub: Hub) -> None:
    ctx = await context_at(hub, THURSDAY)
    async with transaction(hub.session_factory) as session:
        campaign, _ = await start_campaign(
            db_session=session,
            ctx=ctx,
            code="winter",
            names={"en": "Winter check"},
            indicator_codes=["lifts"],
            company_codes=["uyut"],
            starts_on=date(2026, 12, 24),
            ends_on=date(2026, 12, 30),
        )
        inspection = await session.scalar(
            select(Inspection).where(Inspection.campaign_id == campaign.id)
        )
        assert inspection is not None
        order = await record_results(
            db_session=session,
            ctx=ctx,
            outbox_ids=[],
            inspection=inspection,
            results=[ResultIn("lifts", 2)],
        )
    assert order is not None
    calendar = calendar_of(ctx.routing)
    assert calendar is not None
    expected = calendar.due_at(
        THURSDAY, hub.settings.complaints_rectification_days, LimitUnit.WORKING_DAYS
    )
    assert order.due_at == expected
    # The New Year holidays of the demo calendar push it well past ten calendar days.
    assert local_day(hub.settings, order.due_at) > date(2027, 1, 8)


async def test_the_company_reports_an_order_done_and_the_authority_checks_it(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    inspector = await staff_key(hub, Role.INSPECTOR)
    uyut, comfort = await company_key(hub, "uyut"), await company_key(hub, "comfort")
    await start(client, inspector)
    gardens = await inspection_of(client, inspector, "spring", "gardens")
    (order,) = (await score(client, inspector, gardens["id"], stairwells=2, lifts=9)).json()
    url = f"{API}/orders/{order['id']}"

    # Only uyut reports on uyut's order; to comfort it does not exist.
    by_comfort = await client.post(f"{url}/report", json={"text": "x"}, headers=comfort)
    assert by_comfort.status_code == 404
    by_inspector = await client.post(f"{url}/report", json={"text": "x"}, headers=inspector)
    assert by_inspector.status_code == 403
    # Nothing to check before the company reports.
    early = await client.post(f"{url}/check", json={"accepted": True}, headers=inspector)
    assert early.status_code == 409

    reported = await client.post(f"{url}/report", json={"text": "Washed all floors"}, headers=uyut)
    assert reported.status_code == 200
    assert reported.json()["status"] == "reported" and reported.json()["reported_at"]
    own_check = await client.post(f"{url}/check", json={"accepted": True}, headers=uyut)
    assert own_check.status_code == 403
    silent = await client.post(f"{url}/check", json={"accepted": False}, headers=inspector)
    assert silent.status_code == 409 and silent.json()["detail"] == "say what is still not done"

    sent_back = await client.post(
        f"{url}/check", json={"accepted": False, "note": "Floor 5 still dirty"}, headers=inspector
    )
    assert sent_back.status_code == 200
    assert sent_back.json()["status"] == "open" and sent_back.json()["done_at"] is None
    assert "Washed all floors" in sent_back.json()["report"]
    assert "Floor 5 still dirty" in sent_back.json()["report"]

    await client.post(f"{url}/report", json={"text": "Floor 5 washed too"}, headers=uyut)
    accepted = await client.post(f"{url}/check", json={"accepted": True}, headers=inspector)
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "done" and accepted.json()["done_at"]
    twice = await client.post(f"{url}/check", json={"accepted": True}, headers=inspector)
    assert twice.status_code == 409
    late_report = await client.post(f"{url}/report", json={"text": "again"}, headers=uyut)
    assert late_report.status_code == 409


async def test_the_order_of_an_upheld_complaint_done_resolves_the_complaint(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    result = await complain(hub, 2)
    url = f"{API}/complaints/{result.ticket_number}"
    uyut, inspector = await company_key(hub, "uyut"), await staff_key(hub, Role.INSPECTOR)
    agent = await staff_key(hub, Role.AGENT)
    await client.post(f"{url}/answer", json={"text": "Repaired"}, headers=uyut)
    await client.post(f"{url}/verdict", json={"verdict": "disputed"}, headers=agent)
    # The dispute planned an inspection of the complaint: it ends with a finding, not scores.
    (planned,) = (await client.get(f"{API}/inspections", headers=inspector)).json()
    assert planned["complaint"] == result.ticket_number and planned["status"] == "planned"
    scored = await score(client, inspector, planned["id"], lifts=1)
    assert scored.status_code == 409
    assert (
        scored.json()["detail"] == "a complaint's inspection ends with a finding on the complaint"
    )

    finding = {"upheld": True, "note": "Lift stuck", "order": "Repair the lift", "order_days": 3}
    upheld = (await client.post(f"{url}/finding", json=finding, headers=inspector)).json()
    assert upheld["stage"] == "rectifying"
    (order,) = upheld["orders"]
    assert (order["complaint"], order["text"]) == (result.ticket_number, "Repair the lift")
    await client.post(
        f"{API}/orders/{order['id']}/report", json={"text": "New motor fitted"}, headers=uyut
    )
    told = OutboxMessage.ticket_id == result.ticket_id
    notices = await count(hub, OutboxMessage, told)
    accepted = await client.post(
        f"{API}/orders/{order['id']}/check", json={"accepted": True}, headers=inspector
    )
    assert accepted.json()["status"] == "done"
    complaint = (await client.get(url, headers=inspector)).json()
    assert complaint["stage"] == "resolved" and complaint["status"] == "closed"
    # The resident hears that it was put right.
    assert await count(hub, OutboxMessage, told) == notices + 1


async def _failed_inspection_order(hub: Hub, now: datetime) -> RectificationOrder:
    ctx = await context_at(hub, now)
    async with transaction(hub.session_factory) as session:
        campaign, _ = await start_campaign(
            db_session=session,
            ctx=ctx,
            code="winter",
            names={"en": "Winter check"},
            indicator_codes=["stairwells"],
            company_codes=["uyut"],
            starts_on=now.date(),
            ends_on=now.date(),
        )
        inspection = await session.scalar(
            select(Inspection).where(Inspection.campaign_id == campaign.id)
        )
        assert inspection is not None
        order = await record_results(
            db_session=session,
            ctx=ctx,
            outbox_ids=[],
            inspection=inspection,
            results=[ResultIn("stairwells", 1)],
        )
    assert order is not None
    return order


async def test_an_order_left_open_past_due_turns_overdue_with_one_deduction(hub: Hub) -> None:
    order = await _failed_inspection_order(hub, THURSDAY)
    just_before = await context_at(hub, order.due_at - timedelta(minutes=1), SYSTEM)
    async with transaction(hub.session_factory) as session:
        assert await mark_overdue_orders(db_session=session, ctx=just_before, outbox_ids=[]) == 0

    past_due = await context_at(hub, order.due_at + timedelta(minutes=1), SYSTEM)
    async with transaction(hub.session_factory) as session:
        assert await mark_overdue_orders(db_session=session, ctx=past_due, outbox_ids=[]) == 1
    # The sweep, later and again, finds nothing new to deduct.
    for hours in (1, 48):
        later = await context_at(hub, order.due_at + timedelta(hours=hours), SYSTEM)
        async with transaction(hub.session_factory) as session:
            assert (await sweep(db_session=session, ctx=later)).orders_overdue == 0

    async with hub.session_factory() as session:
        stored = await session.get(RectificationOrder, order.id)
        events = list(await session.scalars(select(ScoreEvent)))
        uyut = await session.scalar(
            select(PropertyCompany.id).where(PropertyCompany.code == "uyut")
        )
    assert stored is not None and stored.overdue and stored.status == OrderStatus.OPEN
    assert [(e.kind, e.status, e.company_id, e.order_id) for e in events] == [
        (ScoreKind.OVERDUE_RECTIFICATION, ScoreStatus.PENDING, uyut, order.id)
    ]


async def test_an_overdue_order_swept_by_two_workers_deducts_once(hub: Hub) -> None:
    order = await _failed_inspection_order(hub, THURSDAY)
    ctx = await context_at(hub, order.due_at + timedelta(minutes=1), SYSTEM)
    async with transaction(hub.session_factory) as session:
        assert (await sweep(db_session=session, ctx=ctx)).orders_overdue == 1
    # A second worker that read the order before the first one committed marks it again.
    async with transaction(hub.session_factory) as session:
        stored = await session.get(RectificationOrder, order.id)
        assert stored is not None
        stored.overdue = False
    async with transaction(hub.session_factory) as session:
        assert (await sweep(db_session=session, ctx=ctx)).orders_overdue == 1
    assert await count(hub, ScoreEvent, ScoreEvent.order_id == order.id) == 1


async def test_an_order_reported_in_time_does_not_turn_overdue(hub: Hub) -> None:
    order = await _failed_inspection_order(hub, THURSDAY)
    uyut = Principal("company:uyut", Role.COMPANY, Scope(ScopeKind.COMPANY, order.company_id))
    in_time = await context_at(hub, order.due_at - timedelta(hours=1), uyut)
    async with transaction(hub.session_factory) as session:
        stored = await session.get(RectificationOrder, order.id)
        assert stored is not None
        await report_order(ctx=in_time, order=stored, text="Stairwells washed")
    ctx = await context_at(hub, order.due_at + timedelta(days=3), SYSTEM)
    async with transaction(hub.session_factory) as session:
        assert await mark_overdue_orders(db_session=session, ctx=ctx, outbox_ids=[]) == 0
    assert await count(hub, ScoreEvent) == 0


async def test_due_checks_list_what_was_never_checked_and_drop_what_just_was(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    inspector = await staff_key(hub, Role.INSPECTOR)
    due = (await client.get(f"{API}/inspections/due", headers=inspector)).json()
    indicators = ["fire_safety", "lifts", "stairwells", "yards"]
    assert sorted((d["estate"], d["indicator"]) for d in due) == [
        (estate, indicator) for estate in ("gardens", "north_park") for indicator in indicators
    ]
    assert all(d["last_checked"] is None and d["due_since"] == str(today(hub)) for d in due)
    assert {(d["estate"], d["company"]) for d in due} == {
        ("gardens", "uyut"),
        ("north_park", "comfort"),
    }

    await start(client, inspector, starts_on=today(hub), ends_on=today(hub))
    gardens = await inspection_of(client, inspector, "spring", "gardens")
    # A failed check is a check all the same.
    await score(client, inspector, gardens["id"], stairwells=9, lifts=1)
    due = (await client.get(f"{API}/inspections/due", headers=inspector)).json()
    pairs = {(d["estate"], d["indicator"]) for d in due}
    assert len(pairs) == 6
    assert ("gardens", "stairwells") not in pairs and ("gardens", "lifts") not in pairs
    assert ("north_park", "stairwells") in pairs and ("gardens", "yards") in pairs

    # A monthly indicator is due again once its month has passed.
    later = utcnow() + timedelta(days=32)
    async with hub.session_factory() as session:
        found = await due_checks(db_session=session, settings=hub.settings, now=later)
    (again,) = [d for d in found if (d.estate_code, d.indicator_code) == ("gardens", "stairwells")]
    assert again.last_checked is not None
    assert again.due_since == again.last_checked + timedelta(days=31)
    # Never-checked pairs come first.
    assert [d.last_checked is None for d in found] == sorted(
        (d.last_checked is None for d in found), reverse=True
    )


async def _complaints_for_reports(client: httpx.AsyncClient, hub: Hub) -> None:
    """Six stairwell complaints: gardens 3 (one upheld), north_park 2 (one dismissed),
    old_mill 1 (in triage); then the sweep finds the three still unanswered overdue."""
    gardens = [await complain(hub, 1, 1), await complain(hub, 1, 2), await complain(hub, 3)]
    north_park = [await complain(hub, 6), await complain(hub, 7)]
    await complain(hub, 11)
    agent = await staff_key(hub, Role.AGENT)
    inspector = await staff_key(hub, Role.INSPECTOR)
    for company, result, upheld in (
        ("uyut", gardens[0], True),
        ("comfort", north_park[0], False),
    ):
        url = f"{API}/complaints/{result.ticket_number}"
        company_headers = await company_key(hub, company)
        steps = (
            (f"{url}/answer", {"text": "The lift was repaired"}, company_headers),
            (f"{url}/verdict", {"verdict": "disputed", "reason": "Still broken"}, agent),
            (f"{url}/finding", {"upheld": upheld, "note": "Checked on site"}, inspector),
        )
        for step_url, body, headers in steps:
            response = await client.post(step_url, json=body, headers=headers)
            assert response.status_code == 200, response.text
    later = utcnow() + timedelta(days=30)
    ctx = await context_at(hub, later, SYSTEM)
    async with transaction(hub.session_factory) as session:
        assert len((await sweep(db_session=session, ctx=ctx)).escalated) == 3


async def test_complaint_reports_count_per_company_estate_and_category(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await _complaints_for_reports(client, hub)
    inspector = await staff_key(hub, Role.INSPECTOR)

    async def report(**params: Any) -> list[tuple[Any, ...]]:
        found = await client.get(f"{API}/reports/complaints", params=params, headers=inspector)
        assert found.status_code == 200, found.text
        columns = ("code", "total", "open", "disputed", "overdue", "upheld", "dismissed")
        return [tuple(row[c] for c in columns) for row in found.json()]

    assert await report(by="company") == [
        ("uyut", 3, 2, 1, 2, 1, 0),
        ("comfort", 2, 1, 1, 1, 0, 1),
        # old_mill's complaint waits in triage: no company yet.
        (None, 1, 1, 0, 0, 0, 0),
    ]
    assert await report(by="estate") == [
        ("gardens", 3, 2, 1, 2, 1, 0),
        ("north_park", 2, 1, 1, 1, 0, 1),
        ("old_mill", 1, 1, 0, 0, 0, 0),
    ]
    assert await report(by="category") == [("stairwell", 6, 4, 2, 3, 1, 1)]
    assert await report(since="2020-01-01", until="2020-12-31") == []

    as_csv = await client.get(
        f"{API}/reports/complaints",
        params={"by": "estate", "format": "csv", "lang": "ru"},
        headers=inspector,
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.splitlines() == [
        "code,name,total,open,disputed,overdue,upheld,dismissed",
        "gardens,ЖК «Речные сады»,3,2,1,2,1,0",
        "north_park,ЖК «Северный парк»,2,1,1,1,0,1",
        "old_mill,«Старая мельница»,1,1,0,0,0,0",
    ]
    backwards = await client.get(
        f"{API}/reports/complaints",
        params={"since": "2026-02-01", "until": "2026-01-01"},
        headers=inspector,
    )
    assert backwards.status_code == 422


async def test_repeats_list_estates_with_the_same_problem_again_and_again(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await _complaints_for_reports(client, hub)
    inspector = await staff_key(hub, Role.INSPECTOR)

    async def repeats(**params: Any) -> list[tuple[str, str, int]]:
        found = await client.get(f"{API}/reports/repeats", params=params, headers=inspector)
        assert found.status_code == 200, found.text
        return [(r["estate"], r["category"], r["count"]) for r in found.json()]

    assert await repeats() == [("gardens", "stairwell", 3)]
    assert await repeats(min_count=2) == [
        ("gardens", "stairwell", 3),
        ("north_park", "stairwell", 2),
    ]
    assert await repeats(min_count=4) == []
    too_low = await client.get(f"{API}/reports/repeats", params={"min_count": 1}, headers=inspector)
    assert too_low.status_code == 422


async def test_report_days_are_the_citys_days(client: httpx.AsyncClient, hub: Hub) -> None:
    result = await complain(hub, 1)
    # 22:30 UTC on 31 January is 01:30 on 1 February in the city (Europe/Moscow).
    async with transaction(hub.session_factory) as session:
        await session.execute(
            update(Ticket)
            .where(Ticket.id == result.ticket_id)
            .values(created_at=datetime(2026, 1, 31, 22, 30, tzinfo=UTC))
        )
    inspector = await staff_key(hub, Role.INSPECTOR)

    async def total(since: str, until: str) -> int:
        found = await client.get(
            f"{API}/reports/complaints",
            params={"since": since, "until": until},
            headers=inspector,
        )
        return sum(row["total"] for row in found.json())

    assert await total("2026-02-01", "2026-02-28") == 1
    assert await total("2026-01-01", "2026-01-31") == 0


async def test_a_district_inspector_reports_only_on_its_district(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await _complaints_for_reports(client, hub)
    # b001 and b007 are in the North district; b003, b006 and b011 are not.
    north = await staff_key(hub, Role.INSPECTOR, district="north")
    by_company = await client.get(
        f"{API}/reports/complaints", params={"by": "company"}, headers=north
    )
    assert [(r["code"], r["total"]) for r in by_company.json()] == [("uyut", 2), ("comfort", 1)]
    repeats = await client.get(f"{API}/reports/repeats", params={"min_count": 2}, headers=north)
    assert [(r["estate"], r["count"]) for r in repeats.json()] == [("gardens", 2)]


async def test_a_company_sees_only_its_own_orders_and_inspections(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    inspector = await staff_key(hub, Role.INSPECTOR)
    await start(client, inspector)
    for estate in ("gardens", "north_park"):
        inspection = await inspection_of(client, inspector, "spring", estate)
        assert (await score(client, inspector, inspection["id"], stairwells=1, lifts=1)).json()
    all_orders = (await client.get(f"{API}/orders", headers=inspector)).json()
    assert sorted(o["company"] for o in all_orders) == ["comfort", "uyut"]

    for company, estate in (("uyut", "gardens"), ("comfort", "north_park")):
        headers = await company_key(hub, company)
        orders = (await client.get(f"{API}/orders", headers=headers)).json()
        assert [(o["company"], o["estate"]) for o in orders] == [(company, estate)]
        inspections = (await client.get(f"{API}/inspections", headers=headers)).json()
        assert [(i["company"], i["estate"]) for i in inspections] == [(company, estate)]
        # Naming another company in the filter does not widen the view.
        other = "comfort" if company == "uyut" else "uyut"
        filtered = await client.get(f"{API}/orders", params={"company": other}, headers=headers)
        assert filtered.json() == []

    by_company = await client.get(f"{API}/orders", params={"company": "uyut"}, headers=inspector)
    assert [o["company"] for o in by_company.json()] == ["uyut"]


async def test_only_the_authority_plans_and_scores_inspections(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    inspector = await staff_key(hub, Role.INSPECTOR)
    await start(client, inspector)
    gardens = await inspection_of(client, inspector, "spring", "gardens")
    outsiders = [
        await staff_key(hub, Role.AGENT),
        await staff_key(hub, Role.DISPATCHER),
        await company_key(hub, "uyut"),
    ]
    for headers in outsiders:
        assert (await start(client, headers, code="autumn")).status_code == 403
        scored = await score(client, headers, gardens["id"], stairwells=1, lifts=1)
        assert scored.status_code == 403
        assert (await client.get(f"{API}/inspections/due", headers=headers)).status_code == 403
        issued = await client.post(
            f"{API}/orders",
            json={"company": "uyut", "estate": "gardens", "text": "Fix the lift"},
            headers=headers,
        )
        assert issued.status_code == 403
    assert await count(hub, Campaign) == 1
    assert await count(hub, RectificationOrder) == 0
