import httpx
import pytest
from sqlalchemy import func, select

from core.auth.enums import Role, ScopeKind
from core.outbox.models import OutboxMessage
from core.runtime import Hub
from core.tickets.models import Ticket, TicketEvent
from core.tickets.numbers import parse_public_number
from tests.factories import api_key

NEW = {"channel": "sms", "sender_address": "+79005550101", "text": "No hot water since morning"}


async def test_anonymous_and_bad_keys_get_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/tickets")).status_code == 401
    assert (await client.post("/api/v1/tickets", json=NEW)).status_code == 401
    wrong = await client.get("/api/v1/tickets", headers={"X-API-Key": "hub_wrong"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "unknown or revoked API key"


async def test_create_get_and_list_a_ticket(client: httpx.AsyncClient, hub: Hub) -> None:
    headers = await api_key(hub)
    created = await client.post(
        "/api/v1/tickets", json={**NEW, "category_code": "water_outage"}, headers=headers
    )
    assert created.status_code == 201, created.text
    number = created.json()["number"]

    detail = (await client.get(f"/api/v1/tickets/{number}", headers=headers)).json()
    assert detail["number"] == number and detail["kind"] == "city_case"
    # A city case waits at the centre for verification: no department, no clock yet.
    assert detail["priority"] == "high" and detail["status"] == "new"
    assert detail["back_office"] == "dispatch"
    assert [m["direction"] for m in detail["messages"]] == ["in", "out"]
    assert detail["messages"][1]["delivery_status"] == "pending"
    assert [e["kind"] for e in detail["events"]][:2] == ["created", "routed"]

    listing = (
        await client.get("/api/v1/tickets", params={"kind": "city_case"}, headers=headers)
    ).json()
    assert listing["total"] == 1 and listing["items"][0]["number"] == number


async def test_idempotency_key_makes_a_retry_return_the_same_ticket(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    headers = {**await api_key(hub), "Idempotency-Key": "call-2026-11-21-0042"}
    first = await client.post("/api/v1/tickets", json=NEW, headers=headers)
    second = await client.post("/api/v1/tickets", json=NEW, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == {**first.json(), "duplicate": True}
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({**NEW, "channel": "pigeon"}, "channel"),
        ({**NEW, "text": ""}, "text"),
        ({**NEW, "surprise": 1}, "surprise"),
        ({**NEW, "language": "fr"}, "language"),
        ({**NEW, "location": {"latitude": 91, "longitude": 0}}, "latitude"),
        ({**NEW, "sender_address": "call me maybe"}, "phone"),
        ({**NEW, "category_code": "unicorns"}, "unknown category"),
    ],
)
async def test_malformed_requests_get_a_4xx_with_the_reason_and_write_nothing(
    client: httpx.AsyncClient, hub: Hub, body: dict, reason: str
) -> None:
    # The demo city's open ballot has SMS queued already: nothing is added to them.
    queued = await _outbox_count(hub)
    response = await client.post("/api/v1/tickets", json=body, headers=await api_key(hub))
    assert response.status_code == 422
    assert reason in response.text
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert await _outbox_count(hub) == queued


async def _outbox_count(hub: Hub) -> int:
    async with hub.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_unknown_or_mistyped_numbers_are_404(client: httpx.AsyncClient, hub: Hub) -> None:
    headers = await api_key(hub)
    number = (await client.post("/api/v1/tickets", json=NEW, headers=headers)).json()["number"]
    mistyped = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert (await client.get(f"/api/v1/tickets/{mistyped}", headers=headers)).status_code == 404
    assert (await client.get("/api/v1/tickets/abc", headers=headers)).status_code == 404


async def test_list_filters_paginate_and_validate(client: httpx.AsyncClient, hub: Hub) -> None:
    headers = await api_key(hub)
    for i in range(5):
        await client.post(
            "/api/v1/tickets",
            headers=headers,
            json={**NEW, "sender_address": f"+7900555020{i}", "text": f"Issue {i}"},
        )
    page = (
        await client.get("/api/v1/tickets", params={"limit": 2, "offset": 2}, headers=headers)
    ).json()
    assert page["total"] == 5 and [t["summary"] for t in page["items"]] == ["Issue 2", "Issue 1"]
    assert (
        await client.get("/api/v1/tickets", params={"limit": 0}, headers=headers)
    ).status_code == 422
    assert (
        await client.get("/api/v1/tickets", params={"status": "lost"}, headers=headers)
    ).status_code == 422
    naive = await client.get(
        "/api/v1/tickets", params={"created_from": "2026-11-01T00:00:00"}, headers=headers
    )
    assert naive.status_code == 422 and "timezone" in naive.text
    future = (
        await client.get(
            "/api/v1/tickets", params={"created_from": "2099-01-01T00:00:00Z"}, headers=headers
        )
    ).json()
    assert future["total"] == 0


async def test_a_district_scope_sees_only_its_district(client: httpx.AsyncClient, hub: Hub) -> None:
    city = await api_key(hub)
    # The demo city: +79001000001 owns a flat in building 1 (North), +79001000013 in
    # building 3 (Market Square, Central).
    north_ticket = (
        await client.post(
            "/api/v1/tickets", headers=city, json={**NEW, "sender_address": "+79001000001"}
        )
    ).json()["number"]
    central_ticket = (
        await client.post(
            "/api/v1/tickets",
            headers=city,
            json={**NEW, "sender_address": "+79001000013", "text": "Lamp out"},
        )
    ).json()["number"]

    north = await api_key(hub, Role.DISPATCHER, ScopeKind.DISTRICT, "north")
    listing = (await client.get("/api/v1/tickets", headers=north)).json()
    assert [t["number"] for t in listing["items"]] == [north_ticket]
    assert (await client.get(f"/api/v1/tickets/{central_ticket}", headers=north)).status_code == 404
    assert (await client.get(f"/api/v1/tickets/{north_ticket}", headers=north)).status_code == 200


async def test_status_change_notifies_the_resident_and_illegal_moves_are_409(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    headers = await api_key(hub)
    number = (
        await client.post("/api/v1/tickets", json={**NEW, "language": "ru"}, headers=headers)
    ).json()["number"]
    illegal = await client.post(
        f"/api/v1/tickets/{number}/status", json={"status": "closed"}, headers=headers
    )
    assert illegal.status_code == 409 and "cannot go from new to closed" in illegal.text

    for step in ("in_progress", "resolved"):
        moved = await client.post(
            f"/api/v1/tickets/{number}/status",
            json={"status": step, "reason": "valve replaced"},
            headers=headers,
        )
        assert moved.status_code == 200 and moved.json()["status"] == step
    async with hub.session_factory() as session:
        notices = list(
            await session.scalars(
                select(OutboxMessage.text)
                .where(OutboxMessage.kind == "notice", OutboxMessage.ticket_id.is_not(None))
                .order_by(OutboxMessage.id)
            )
        )
    # "Обращение" is neuter: the status words agree with it.
    # Each says what happens next (issue 17).
    assert notices == [
        f"Обращение {number}: в работе. Сообщим, когда статус изменится.",
        f"Обращение {number}: выполнено. Если проблема осталась, напишите нам снова.",
    ]


async def test_roles_limit_what_a_key_may_do(client: httpx.AsyncClient, hub: Hub) -> None:
    inspector = await api_key(hub, Role.INSPECTOR)
    assert (await client.post("/api/v1/tickets", json=NEW, headers=inspector)).status_code == 403
    agent = await api_key(hub, Role.AGENT)
    rule = {
        "position": 1,
        "name": "all to roads",
        "back_office": "general",
        "department_code": "roads",
    }
    assert (await client.post("/api/v1/routing-rules", json=rule, headers=agent)).status_code == 403


async def test_staff_session_needs_csrf_for_changes(client: httpx.AsyncClient, hub: Hub) -> None:
    bad = await client.post("/api/v1/session", json={"username": "agent", "password": "nope"})
    assert bad.status_code == 401
    login = await client.post(
        "/api/v1/session", json={"username": "agent", "password": "agent-demo"}
    )
    assert login.status_code == 200
    token = login.json()["csrf_token"]
    assert (await client.get("/api/v1/tickets")).status_code == 200
    assert (await client.post("/api/v1/tickets", json=NEW)).status_code == 403
    created = await client.post("/api/v1/tickets", json=NEW, headers={"X-CSRF-Token": token})
    assert created.status_code == 201
    await client.delete("/api/v1/session", headers={"X-CSRF-Token": token})
    assert (await client.get("/api/v1/tickets")).status_code == 401


async def test_find_a_resident_by_phone_in_the_body_not_the_url(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    headers = await api_key(hub)
    await client.post(
        "/api/v1/tickets", json={**NEW, "sender_address": "+79001000001"}, headers=headers
    )
    found = await client.post(
        "/api/v1/residents/search", json={"phone": "8 (900) 100-00-01"}, headers=headers
    )
    assert found.status_code == 200
    body = found.json()
    assert body["contacts"][0]["value"] == "+79001000001" and len(body["tickets"]) == 1
    again = await client.get(f"/api/v1/residents/{body['id']}", headers=headers)
    assert again.json() == body
    assert (
        await client.post(
            "/api/v1/residents/search", json={"phone": "+79990000000"}, headers=headers
        )
    ).status_code == 404
    assert (
        await client.post("/api/v1/residents/search", json={}, headers=headers)
    ).status_code == 422


async def test_routing_rules_are_data_edited_over_the_api(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    admin = await api_key(hub, Role.ADMIN)
    rule = {
        "position": 1,
        "name": "garbage in north → roads",
        "match_category_code": "garbage",
        "match_district_code": "north",
        "back_office": "general",
        "department_code": "roads",
        "sla_policy_code": "garbage_4h",
        "priority": "urgent",
    }
    created = await client.post("/api/v1/routing-rules", json=rule, headers=admin)
    assert created.status_code == 201, created.text
    ticket = (
        await client.post(
            "/api/v1/tickets",
            headers=admin,
            json={**NEW, "sender_address": "+79001000001", "category_code": "garbage"},
        )
    ).json()["number"]
    detail = (await client.get(f"/api/v1/tickets/{ticket}", headers=admin)).json()
    departments = {
        d["code"]: d["id"] for d in (await client.get("/api/v1/departments", headers=admin)).json()
    }
    assert detail["department_id"] == departments["roads"] and detail["priority"] == "urgent"
    routed = next(e for e in detail["events"] if e["kind"] == "routed")
    assert routed["data"]["rule"] == "garbage in north → roads"

    bad = await client.post(
        "/api/v1/routing-rules", headers=admin, json={**rule, "department_code": "ghosts"}
    )
    assert bad.status_code == 422 and "ghosts" in bad.text


async def test_openapi_describes_the_api(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {"/api/v1/tickets", "/api/v1/tickets/{number}", "/api/v1/residents/search"} <= set(
        spec["paths"]
    )


async def test_health_reports_database_and_redis(client: httpx.AsyncClient, hub: Hub) -> None:
    body = (await client.get("/healthz")).json()
    assert body["database"] == "ok"
    assert body["redis"] == ("ok" if hub.settings.redis_url else "not configured")


async def test_out_of_range_numbers_and_ids_are_4xx_not_500(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    from core.tickets.numbers import format_public_number

    headers = await api_key(hub, Role.ADMIN)
    huge = format_public_number(2**40)
    assert (await client.get(f"/api/v1/tickets/{huge}", headers=headers)).status_code == 404
    assert (await client.get(f"/api/v1/residents/{2**40}", headers=headers)).status_code == 422
    assert (await client.get(f"/api/v1/notices/{2**40}", headers=headers)).status_code == 422


async def test_a_command_sent_to_the_ticket_api_does_nothing(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    queued = await _outbox_count(hub)
    response = await client.post(
        "/api/v1/tickets", json={**NEW, "text": "STOP"}, headers=await api_key(hub)
    )
    assert response.status_code == 422
    assert await _outbox_count(hub) == queued


async def test_staff_take_each_request_as_its_own_ticket(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    headers = await api_key(hub)
    first = (await client.post("/api/v1/tickets", json=NEW, headers=headers)).json()
    second = (
        await client.post("/api/v1/tickets", json={**NEW, "text": "Also the lift"}, headers=headers)
    ).json()
    assert first["number"] != second["number"]


async def test_district_supervisors_cannot_rewrite_city_rules_or_see_other_notices(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    city = await api_key(hub, Role.ADMIN)
    north = await api_key(hub, Role.SUPERVISOR, ScopeKind.DISTRICT, "north")
    rule = {"position": 1, "name": "x", "back_office": "general"}
    assert (await client.post("/api/v1/routing-rules", json=rule, headers=north)).status_code == 403
    notice = {
        "topic": "outages",
        "scope": "city",
        "texts": {"en": "Water off."},
        "send_at": "2099-01-01T00:00:00Z",
    }
    created = (await client.post("/api/v1/notices", json=notice, headers=city)).json()
    assert (await client.get(f"/api/v1/notices/{created['id']}", headers=north)).status_code == 404
    assert (
        await client.post(f"/api/v1/notices/{created['id']}/cancel", headers=north)
    ).status_code == 404


async def test_the_api_names_what_its_codes_stand_for(client: httpx.AsyncClient, hub: Hub) -> None:
    login = await client.post(
        "/api/v1/session", json={"username": "agent", "password": "agent-demo"}
    )
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    number = (await client.post("/api/v1/tickets", json=NEW, headers=csrf)).json()["number"]
    moved = await client.post(
        f"/api/v1/tickets/{number}/status", json={"status": "in_progress"}, headers=csrf
    )
    assert moved.json()["status_name"] == "in progress"

    detail = (await client.get(f"/api/v1/tickets/{number}")).json()
    # The codes stay for programs; beside each, what a person reads.
    assert detail["back_office"] == "general"
    assert detail["back_office_name"] == "General enquiries"
    assert detail["status"] == "in_progress" and detail["status_name"] == "in progress"
    created, routed = detail["events"][:2]
    (changed,) = [e for e in detail["events"] if e["kind"] == "status_changed"]
    # The agent who took the request on the phone is on its history from the start.
    assert changed["actor"].startswith("staff:") and created["actor"] == changed["actor"]
    assert changed["actor_name"] == "agent (Call-centre agent)"
    assert created["actor_name"] == "agent (Call-centre agent)"
    assert created["description"] == "Request registered (SMS)"
    assert routed["actor_name"] == "Hub (automatic)"
    assert routed["description"] == "Sent to General enquiries"
    assert changed["description"] == "Status: new → in progress"
    listing = (await client.get("/api/v1/tickets")).json()["items"]
    assert listing[0]["back_office_name"] == "General enquiries"


async def test_who_took_a_request_is_on_its_history(client: httpx.AsyncClient, hub: Hub) -> None:
    headers = await api_key(hub)
    answer = await client.post(
        "/api/v1/tickets", json={**NEW, "category_code": "water_outage"}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    async with hub.session_factory() as session:
        created = (
            await session.execute(
                select(TicketEvent.actor_kind, TicketEvent.actor_id).where(
                    TicketEvent.ticket_id == parse_public_number(answer.json()["number"]),
                    TicketEvent.kind == "created",
                )
            )
        ).one()
    assert created[0] == "api_key" and created[1] is not None
