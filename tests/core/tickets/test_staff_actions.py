"""What staff do on a ticket through the API: reply, note, assign, merge, split, canned."""

from __future__ import annotations

import httpx
from sqlalchemy import select, update

from core.auth.enums import Role, ScopeKind
from core.db import transaction
from core.intake import service as intake_service
from core.outbox.models import OutboxMessage
from core.residents.models import Contact
from core.runtime import Hub
from core.tickets.enums import ActorKind, EventKind
from core.tickets.models import Ticket, TicketEvent, TicketMessage
from core.tickets.numbers import parse_public_number
from tests.factories import api_key, inbound

FLAT = "+79005550199"


async def _ticket(hub: Hub, text: str = "Нет воды с утра", sender: str = FLAT) -> str:
    result = await intake_service.receive(hub=hub, message=inbound(text, sender=sender))
    assert result.ticket_number is not None
    return result.ticket_number


async def _events(hub: Hub, number: str, kind: EventKind) -> list[TicketEvent]:
    async with hub.session_factory() as session:
        rows = await session.scalars(
            select(TicketEvent).where(
                TicketEvent.ticket_id == parse_public_number(number), TicketEvent.kind == kind
            )
        )
        return list(rows)


async def _staff_login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/session", json={"username": username, "password": f"{username}-demo"}
    )
    return {"X-CSRF-Token": response.json()["csrf_token"]}


async def test_a_reply_goes_through_the_outbox_with_the_staff_member_as_actor(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    number = await _ticket(hub)
    headers = await _staff_login(client, "agent")
    options = await client.get(f"/api/v1/tickets/{number}/reply-options", headers=headers)
    assert options.json()[0] | {"address": None} == {
        "channel": "sms", "address": None, "available": True, "reason": None, "is_origin": True
    }  # fmt: skip
    response = await client.post(
        f"/api/v1/tickets/{number}/replies", json={"text": "Бригада выехала"}, headers=headers
    )
    assert response.status_code == 201
    async with hub.session_factory() as session:
        row = await session.get(OutboxMessage, response.json()["outbox_id"])
        assert row is not None and row.address == FLAT and row.text == "Бригада выехала"
    sent = await _events(hub, number, EventKind.MESSAGE_OUT)
    assert sent[-1].actor_kind == ActorKind.STAFF and sent[-1].actor_id is not None


async def test_a_reply_to_an_opted_out_or_unreachable_resident_is_refused_with_its_reason(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    number = await _ticket(hub)
    headers = await _staff_login(client, "agent")
    too_long = await client.post(
        f"/api/v1/tickets/{number}/replies", json={"text": "я" * 500}, headers=headers
    )
    assert too_long.status_code == 422 and too_long.json()["detail"]["code"] == "too_long"
    async with transaction(hub.session_factory) as session:
        await session.execute(
            update(Contact).where(Contact.value == FLAT).values(opted_out_at=Contact.created_at)
        )
    refused = await client.post(
        f"/api/v1/tickets/{number}/replies", json={"text": "Добрый день"}, headers=headers
    )
    assert refused.status_code == 422 and refused.json()["detail"]["code"] == "opted_out"
    other = await client.post(
        f"/api/v1/tickets/{number}/replies",
        json={"text": "Добрый день", "channel": "telegram"},
        headers=headers,
    )
    assert other.status_code == 422 and other.json()["detail"]["code"] == "no_address"
    async with hub.session_factory() as session:
        assert (
            await session.scalar(select(OutboxMessage).where(OutboxMessage.text == "Добрый день"))
            is None
        )


async def test_a_note_stays_inside_and_records_its_mentions(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    number = await _ticket(hub)
    headers = await _staff_login(client, "agent")
    response = await client.post(
        f"/api/v1/tickets/{number}/notes",
        json={"text": "@dispatcher посмотрите, пожалуйста; @sanitation тоже; @nobody"},
        headers=headers,
    )
    assert response.status_code == 201
    async with hub.session_factory() as session:
        dispatcher = await session.scalar(select(Ticket.id).limit(1))
        assert dispatcher is not None
        outbox = await session.scalars(select(OutboxMessage.text))
        assert not any("посмотрите" in text for text in outbox)
    mentions = response.json()["mentions"]
    # The city-wide dispatcher sees the request; the sanitation department does not.
    assert len(mentions) == 1
    note = await _events(hub, number, EventKind.NOTE)
    assert note[0].data["mentions"] == mentions
    key = await api_key(hub, Role.AGENT)
    by_key = await client.post(f"/api/v1/tickets/{number}/notes", json={"text": "x"}, headers=key)
    assert by_key.status_code == 403


async def test_assign_to_me_a_colleague_or_back_to_the_queue(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    number = await _ticket(hub)
    headers = await _staff_login(client, "agent")
    me = await client.post(
        f"/api/v1/tickets/{number}/assign", json={"assignee": "me"}, headers=headers
    )
    assert me.status_code == 200 and me.json()["status"] == "assigned"
    sanitation = await client.post(
        f"/api/v1/tickets/{number}/assign", json={"assignee": 999999}, headers=headers
    )
    assert sanitation.status_code == 422
    assert sanitation.json()["detail"]["code"] == "no_such_agent"
    back = await client.post(
        f"/api/v1/tickets/{number}/assign", json={"assignee": None}, headers=headers
    )
    assert back.status_code == 200
    async with hub.session_factory() as session:
        ticket = await session.get(Ticket, parse_public_number(number))
        assert ticket is not None and ticket.assignee_id is None
    assert len(await _events(hub, number, EventKind.ASSIGNED)) == 2


async def test_merging_two_residents_requests_asks_first(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    first = await _ticket(hub, "Подскажите часы приёма в управе", FLAT)
    second = await _ticket(hub, "Когда открыта приёмная управы?", "+79005550177")
    headers = await _staff_login(client, "agent")
    asked = await client.post(
        f"/api/v1/tickets/{second}/merge", json={"into": first}, headers=headers
    )
    assert asked.status_code == 409 and asked.json()["detail"]["code"] == "different_residents"
    merged = await client.post(
        f"/api/v1/tickets/{second}/merge", json={"into": first, "confirm": True}, headers=headers
    )
    assert merged.status_code == 200 and merged.json()["number"] == first
    async with hub.session_factory() as session:
        texts = await session.scalars(
            select(TicketMessage.text).where(TicketMessage.ticket_id == parse_public_number(first))
        )
        assert set(texts) >= {"Подскажите часы приёма в управе", "Когда открыта приёмная управы?"}
        closed = await session.get(Ticket, parse_public_number(second))
        assert closed is not None and closed.status == "closed"
    itself = await client.post(
        f"/api/v1/tickets/{first}/merge", json={"into": first}, headers=headers
    )
    assert itself.status_code == 422


async def test_a_message_split_out_becomes_its_own_request(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    number = await _ticket(hub, "Подскажите часы приёма в управе")
    # A second message a minute later joins the same request (the follow-up rule).
    await intake_service.receive(
        hub=hub, message=inbound("И где взять справку о составе семьи", sender=FLAT)
    )
    async with hub.session_factory() as session:
        message_id = await session.scalar(
            select(TicketMessage.id).where(TicketMessage.text.like("%справку%"))
        )
        assert message_id is not None
        origin = await session.scalar(
            select(TicketMessage.ticket_id).where(TicketMessage.id == message_id)
        )
    origin_number = number if origin == parse_public_number(number) else None
    assert origin_number is not None, "the follow-up should have joined the first request"
    headers = await _staff_login(client, "agent")
    split = await client.post(
        f"/api/v1/tickets/{number}/split", json={"message_id": message_id}, headers=headers
    )
    assert split.status_code == 201
    new = split.json()["number"]
    assert new != number
    async with hub.session_factory() as session:
        moved = await session.get(TicketMessage, message_id)
        assert moved is not None and moved.ticket_id == parse_public_number(new)
    again = await client.post(
        f"/api/v1/tickets/{number}/split", json={"message_id": message_id}, headers=headers
    )
    assert again.status_code == 422


async def test_canned_responses_are_kept_by_admins_only(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    agent = await _staff_login(client, "agent")
    listed = await client.get("/api/v1/canned-responses?language=ru", headers=agent)
    assert listed.status_code == 200 and len(listed.json()) == 3
    new = {"language": "zh", "title": "结束", "body": "感谢您的耐心。"}
    assert (
        await client.post("/api/v1/canned-responses", json=new, headers=agent)
    ).status_code == 403
    admin = await api_key(hub, Role.ADMIN, ScopeKind.CITY)
    created = await client.post("/api/v1/canned-responses", json=new, headers=admin)
    assert created.status_code == 201
    bad = await client.post(
        "/api/v1/canned-responses", json=new | {"language": "fr"}, headers=admin
    )
    assert bad.status_code == 422


async def test_out_of_scope_tickets_look_like_none(client: httpx.AsyncClient, hub: Hub) -> None:
    number = await _ticket(hub)
    headers = await api_key(hub, Role.AGENT, ScopeKind.DISTRICT, "north")
    for path, body in (
        ("replies", {"text": "x"}),
        ("assign", {"assignee": None}),
        ("merge", {"into": number}),
        ("split", {"message_id": 1}),
    ):
        response = await client.post(f"/api/v1/tickets/{number}/{path}", json=body, headers=headers)
        assert response.status_code == 404, path
