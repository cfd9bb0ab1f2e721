"""The whole path of a city case through the API, and every way off it."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from core.auth.enums import Role
from core.dispatch.enums import Stage
from core.outbox.models import OutboxMessage
from core.runtime import Hub
from core.tickets.enums import ActorKind
from core.tickets.models import TicketEvent
from tests.core.dispatch.factories import (
    MARKET,
    NOWHERE,
    RIVERSIDE,
    act,
    case_of,
    report,
    staff_key,
)


async def _sms_to(hub: Hub, address: str) -> list[str]:
    async with hub.session_factory() as session:
        rows = await session.scalars(
            select(OutboxMessage.text)
            .where(OutboxMessage.address == address)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def test_a_report_goes_all_the_way_round(client: httpx.AsyncClient, hub: Hub) -> None:
    # A resident texts about garbage by the market, with their phone's location.
    received = await report(hub, "Мусор вывалили у рынка, третий день", at=MARKET)
    number = received.ticket_number
    assert number is not None and "Обращение" in received.replies[0].text
    ticket, case = await case_of(hub, received.ticket_id or 0)
    assert case.stage == Stage.ACCEPTED and ticket.status == "new"
    assert ticket.department_id is None and ticket.due_at is None  # no clock before dispatch

    dispatcher = await staff_key(hub, Role.DISPATCHER)
    department = await staff_key(hub, Role.DEPARTMENT, department="sanitation")
    inspector = await staff_key(hub, Role.INSPECTOR)

    detail = (await client.get(f"/api/v1/dispatch/cases/{number}", headers=dispatcher)).json()
    assert detail["category"] == "garbage" and detail["grid_cell"] == "RS0007"
    assert detail["district"] == "north"
    assert set(detail["actions"]) == {"register", "cancel"}
    assert detail["conditions"]["ru"].startswith("Мусор лежит")

    # Verify and register: the responsible department gets it at once, its clock starts.
    registered = await act(client, dispatcher, number, action="register")
    assert registered.status_code == 200, registered.text
    body = registered.json()
    assert body["stage"] == "dispatched" and body["department"] == "sanitation"
    assert body["status"] == "assigned" and body["due_at"] is not None
    stages = [e["data"]["stage"] for e in body["events"] if e["kind"] == "stage_changed"]
    assert stages == ["registered", "dispatched"]

    assert (await act(client, department, number, action="start")).json()["stage"] == "handling"
    reported = await act(client, department, number, action="report", reason="Вывезли 2 м³.")
    assert reported.json()["stage"] == "reported" and reported.json()["handled_on_time"] is True

    # The inspector finds it not done: back to the department, which reports again.
    failed = await act(client, inspector, number, action="verify_fail", reason="Пакеты остались")
    assert failed.json()["stage"] == "rework" and failed.json()["reworks"] == 1
    assert failed.json()["status"] == "reopened"
    await act(client, department, number, action="report", reason="Убрали всё, площадка чистая.")
    closed = await act(client, inspector, number, action="verify_pass")
    assert closed.json()["stage"] == "closed" and closed.json()["status"] == "closed"

    # The reporter hears the outcome in their language, on their channel.
    texts = await _sms_to(hub, "+79005550101")
    assert texts[-1] == f"Обращение {number} выполнено: Убрали всё, площадка чистая."
    async with hub.session_factory() as session:
        actors = set(
            (
                await session.execute(
                    select(TicketEvent.actor_kind, TicketEvent.actor_id).where(
                        TicketEvent.ticket_id == received.ticket_id
                    )
                )
            ).all()
        )
    assert len({a for a in actors if a[0] == ActorKind.API_KEY}) == 3  # who did each step


async def test_illegal_actions_are_refused_and_change_nothing(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    received = await report(hub, "Garbage by the market")
    number = received.ticket_number or ""
    dispatcher = await staff_key(hub, Role.DISPATCHER)
    department = await staff_key(hub, Role.DEPARTMENT, department="sanitation")
    roads = await staff_key(hub, Role.DEPARTMENT, department="roads")

    refused = await act(client, dispatcher, number, action="verify_pass")
    assert refused.status_code == 403  # a dispatcher is not an inspector
    early = await act(client, department, number, action="report", reason="done")
    assert early.status_code == 404  # not the department's case (yet): it cannot see it
    await act(client, dispatcher, number, action="register")
    twice = await act(client, dispatcher, number, action="register")
    assert twice.status_code == 409 and "dispatched" in twice.json()["detail"]
    no_reason = await act(client, department, number, action="report")
    assert no_reason.status_code == 409 and "reason" in no_reason.json()["detail"]
    other = await act(client, roads, number, action="start")
    assert other.status_code == 404  # another department's case does not exist for it
    unknown = await act(client, dispatcher, number, action="teleport")
    assert unknown.status_code == 422
    mistyped = await act(client, dispatcher, number[:-1] + "0", action="register")
    assert mistyped.status_code == 404

    _ticket, case = await case_of(hub, received.ticket_id or 0)
    assert case.stage == Stage.DISPATCHED and case.reported_at is None


async def test_cancel_tells_the_reporter_why(client: httpx.AsyncClient, hub: Hub) -> None:
    received = await report(hub, "Мусор", sender="+79005550102")
    dispatcher = await staff_key(hub, Role.DISPATCHER)
    number = received.ticket_number or ""
    assert (await act(client, dispatcher, number, action="cancel")).status_code == 409
    cancelled = await act(
        client, dispatcher, number, action="cancel", reason="Это частная территория."
    )
    assert cancelled.json()["stage"] == "cancelled" and cancelled.json()["status"] == "rejected"
    texts = await _sms_to(hub, "+79005550102")
    assert texts[-1] == f"Обращение {number} не зарегистрировано: Это частная территория."


async def test_registration_needs_a_place_in_the_grid(client: httpx.AsyncClient, hub: Hub) -> None:
    received = await report(hub, "A heap of garbage somewhere", at=None)
    number = received.ticket_number or ""
    dispatcher = await staff_key(hub, Role.DISPATCHER)

    missing = await act(client, dispatcher, number, action="register")
    assert missing.status_code == 409 and "location" in missing.json()["detail"]
    outside = await act(
        client, dispatcher, number, action="register", latitude=NOWHERE[0], longitude=NOWHERE[1]
    )
    assert outside.status_code == 409 and "outside" in outside.json()["detail"]
    half = await act(client, dispatcher, number, action="register", latitude=55.75)
    assert half.status_code == 422
    ticket, case = await case_of(hub, received.ticket_id or 0)
    assert case.stage == Stage.ACCEPTED and ticket.latitude is None  # nothing half-written

    # The verifier places it (the riverside): the riverside's own cleaners get it.
    placed = await act(
        client, dispatcher, number, action="register", latitude=RIVERSIDE[0], longitude=RIVERSIDE[1]
    )
    assert placed.status_code == 200, placed.text
    assert placed.json()["department"] == "river_cleaning"
    assert placed.json()["district"] == "river"


async def test_an_address_in_the_text_places_the_report(hub: Hub) -> None:
    received = await report(hub, "Мусор у вокзала, уже неделю", at=None)
    ticket, _case = await case_of(hub, received.ticket_id or 0)
    assert (ticket.latitude, ticket.longitude) == (55.758, 37.612)
    assert ticket.grid_cell_id is not None and ticket.district_id is not None


async def test_return_and_manual_redispatch_restart_the_clock(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    received = await report(hub, "Фонарь не горит у рынка")
    number = received.ticket_number or ""
    dispatcher = await staff_key(hub, Role.DISPATCHER)
    roads = await staff_key(hub, Role.DEPARTMENT, department="roads")
    first = (await act(client, dispatcher, number, action="register")).json()
    assert first["department"] == "roads"

    returned = await act(client, roads, number, action="return", reason="Это сети энергетиков")
    assert returned.json()["stage"] == "returned" and returned.json()["department"] is None
    assert returned.json()["due_at"] is None and returned.json()["returns"] == 1
    # Once returned, the case is no longer the department's to see.
    assert (await client.get(f"/api/v1/dispatch/cases/{number}", headers=roads)).status_code == 404

    bad = await act(client, dispatcher, number, action="dispatch", department="nobody")
    assert bad.status_code == 422
    again = await act(client, dispatcher, number, action="dispatch", department="housing")
    assert again.status_code == 200 and again.json()["department"] == "housing"
    assert again.json()["due_at"] >= first["due_at"]
    redispatch = [e for e in again.json()["events"] if e["data"].get("redispatch")]
    assert len(redispatch) == 1


async def test_extensions_need_the_right_approver(client: httpx.AsyncClient, hub: Hub) -> None:
    received = await report(hub, "Мусор")
    number = received.ticket_number or ""
    dispatcher = await staff_key(hub, Role.DISPATCHER)
    department = await staff_key(hub, Role.DEPARTMENT, department="sanitation")
    supervisor = await staff_key(hub, Role.SUPERVISOR)
    admin = await staff_key(hub, Role.ADMIN)
    due = (await act(client, dispatcher, number, action="register")).json()["due_at"]

    asked = await act(
        client, department, number, action="request_extension", reason="Нужна техника", amount=1
    )
    assert asked.status_code == 200 and asked.json()["stage"] == "dispatched"
    [request] = asked.json()["extension_requests"]
    assert request["level"] == 1 and request["status"] == "pending"
    pending = await act(
        client, department, number, action="request_extension", reason="ещё", amount=1
    )
    assert pending.status_code == 409  # one request at a time
    url = f"/api/v1/dispatch/cases/{number}/extensions/{request['id']}"
    assert (await client.post(url, json={"approve": True}, headers=dispatcher)).status_code == 403
    approved = await client.post(url, json={"approve": True}, headers=supervisor)
    assert approved.status_code == 200 and approved.json()["extensions"] == 1
    assert approved.json()["due_at"] > due
    assert (await client.post(url, json={"approve": True}, headers=supervisor)).status_code == 409

    second = await act(
        client, department, number, action="request_extension", reason="Дожди", amount=2
    )
    second_id = second.json()["extension_requests"][-1]["id"]
    url2 = f"/api/v1/dispatch/cases/{number}/extensions/{second_id}"
    denied = await client.post(url2, json={"approve": True}, headers=supervisor)
    assert denied.status_code == 403 and "admin" in denied.json()["detail"]
    assert (await client.post(url2, json={"approve": True}, headers=admin)).status_code == 200
    third = await act(
        client, department, number, action="request_extension", reason="опять", amount=1
    )
    assert third.status_code == 409 and "at most 2" in third.json()["detail"]


async def test_duplicates_are_suggested_merged_and_followers_hear_the_outcome(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    first = await report(hub, "Мусор у рынка", sender="+79005550111")
    near = await report(hub, "Garbage at the market", at=(55.7541, 37.6061), sender="+79005550112")
    far = await report(hub, "Мусор у вокзала", at=(55.758, 37.612), sender="+79005550113")
    light = await report(hub, "Фонарь не горит у рынка", sender="+79005550114")
    dispatcher = await staff_key(hub, Role.DISPATCHER)
    inspector = await staff_key(hub, Role.INSPECTOR)
    department = await staff_key(hub, Role.DEPARTMENT, department="sanitation")

    def suggestions(number: str | None) -> object:
        return client.get(f"/api/v1/dispatch/cases/{number}", headers=dispatcher)

    near_detail = (await suggestions(near.ticket_number)).json()
    [suggested] = near_detail["suggestions"]
    assert suggested["candidate"] == first.ticket_number and suggested["distance_m"] < 20
    assert (await suggestions(far.ticket_number)).json()["suggestions"] == []
    assert (await suggestions(light.ticket_number)).json()["suggestions"] == []  # other category

    main = first.ticket_number or ""
    await act(client, dispatcher, main, action="register")
    merged = await client.post(
        f"/api/v1/dispatch/cases/{near.ticket_number}/merge",
        json={"into": main},
        headers=dispatcher,
    )
    assert merged.status_code == 200 and merged.json()["stage"] == "merged"
    assert merged.json()["merged_into"] == main and merged.json()["suggestions"] == []
    told = await _sms_to(hub, "+79005550112")
    assert main in told[-1] and "already being handled" in told[-1]
    again = await client.post(
        f"/api/v1/dispatch/cases/{main}/merge",
        json={"into": near.ticket_number},
        headers=dispatcher,
    )
    assert again.status_code == 409  # a dispatched case is not a new report

    await act(client, department, main, action="report", reason="Cleaned.")
    await act(client, inspector, main, action="verify_pass")
    assert (await _sms_to(hub, "+79005550112"))[
        -1
    ] == f"Request {near.ticket_number} is done: Cleaned."
    assert (await _sms_to(hub, "+79005550111"))[-1].startswith(f"Обращение {main} выполнено")


async def test_parking_stops_the_clock_and_escalation_finds_the_overdue(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    from datetime import timedelta

    from core.db import utcnow
    from core.sla.service import escalate_overdue

    received = await report(hub, "Мусор")
    number = received.ticket_number or ""
    dispatcher = await staff_key(hub, Role.DISPATCHER)
    await act(client, dispatcher, number, action="register")
    parked = await act(client, dispatcher, number, action="park", reason="Ждём весны")
    assert parked.json()["stage"] == "parked" and parked.json()["park_due_at"] is not None
    assert parked.json()["due_at"] == parked.json()["park_due_at"]  # the pool's own clock
    resumed = await act(client, dispatcher, number, action="unpark")
    assert resumed.json()["stage"] == "handling" and resumed.json()["park_due_at"] is None

    async with hub.session_factory() as session, session.begin():
        escalated = await escalate_overdue(db_session=session, now=utcnow() + timedelta(days=30))
    assert received.ticket_id in escalated
    listing = await client.get(
        "/api/v1/dispatch/cases", params={"overdue": "true"}, headers=dispatcher
    )
    assert [c["number"] for c in listing.json()["items"]] == [number]


async def test_scope_hides_other_districts_and_the_generic_status_route(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    received = await report(hub, "Мусор на набережной", at=RIVERSIDE)
    number = received.ticket_number or ""
    north = await staff_key(hub, Role.DISPATCHER, district="north")
    river = await staff_key(hub, Role.DISPATCHER, district="river")
    assert (await client.get(f"/api/v1/dispatch/cases/{number}", headers=north)).status_code == 404
    assert (await client.get("/api/v1/dispatch/cases", headers=north)).json()["total"] == 0
    assert (await client.get("/api/v1/dispatch/cases", headers=river)).json()["total"] == 1
    generic = await client.post(
        f"/api/v1/tickets/{number}/status", json={"status": "closed"}, headers=river
    )
    assert generic.status_code == 409 and "dispatch actions" in generic.json()["detail"]
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(TicketEvent)) > 0


async def test_review_guards(client: httpx.AsyncClient, hub: Hub) -> None:
    received = await report(hub, "Мусор у рынка", at=(55.75412, 37.60613))
    number = received.ticket_number or ""
    dispatcher = await staff_key(hub, Role.DISPATCHER)
    department = await staff_key(hub, Role.DEPARTMENT, department="sanitation")
    own_boss = await staff_key(hub, Role.SUPERVISOR, department="sanitation")
    await act(client, dispatcher, number, action="register")

    # A department's own supervisor does not verify or park its own work.
    await act(client, department, number, action="report", reason="done")
    verified = await act(client, own_boss, number, action="verify_pass")
    assert verified.status_code == 403
    inspector = await staff_key(hub, Role.INSPECTOR)
    await act(client, inspector, number, action="verify_fail", reason="not done")

    far = await act(
        client, dispatcher, number, action="park", reason="x", park_until="9999-12-31T00:00:00Z"
    )
    assert far.status_code == 409 and "two years" in far.json()["detail"]

    # A returned case's pending extension lapses with it.
    await act(client, department, number, action="start")
    await act(client, department, number, action="request_extension", reason="rain", amount=1)
    returned = await act(client, department, number, action="return", reason="not ours")
    [lapsed] = returned.json()["extension_requests"]
    assert lapsed["status"] == "refused" and lapsed["decided_by"] == "system"

    # Open311 shows an SMS report's place only to about 100 m, and no address.
    listed = await client.get("/open311/v2/requests.json", params={"service_request_id": number})
    [shown] = listed.json()
    assert (shown["lat"], shown["long"]) == (55.754, 37.606) and "address" not in shown
