"""The ticket page and its panels, search and the resident card, as a browser uses them."""

from __future__ import annotations

import httpx
from sqlalchemy import select, update

from core.db import transaction
from core.intake import service as intake_service
from core.outbox.models import OutboxMessage
from core.residents.models import Contact
from core.runtime import Hub
from core.tickets.models import Ticket, TicketMessage
from core.tickets.numbers import parse_public_number
from tests.factories import inbound
from tests.portal.console.helpers import console_login

FLAT = "+79005550188"
HTMX = {"HX-Request": "true"}


async def _ticket(
    hub: Hub, text: str = "Подскажите часы приёма в управе", sender: str = FLAT
) -> str:
    result = await intake_service.receive(hub=hub, message=inbound(text, sender=sender))
    assert result.ticket_number is not None
    return result.ticket_number


async def test_the_page_shows_the_conversation_the_clock_and_the_card(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    number = await _ticket(hub)
    await console_login(client, "agent")
    page = await client.get(f"/console/tickets/{number}")
    assert page.status_code == 200
    assert "Подскажите часы приёма" in page.text and 'id="reply-text"' in page.text
    assert "working time left" in page.text
    async with hub.session_factory() as session:
        ticket = await session.get(Ticket, parse_public_number(number))
        assert ticket is not None and ticket.resident_id is not None
    card = await client.get(f"/console/residents/{ticket.resident_id}/card")
    assert FLAT in card.text and number in card.text


async def test_a_reply_from_the_box_is_queued_and_a_refusal_shows_beside_it(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    number = await _ticket(hub)
    token = await console_login(client, "agent")
    sent = await client.post(
        f"/console/tickets/{number}/reply",
        data={"csrf": token, "text": "Приём с 9 до 18", "channel": "sms"},
        headers=HTMX,
    )
    assert sent.status_code == 200 and sent.headers["HX-Trigger"] == "ticket-changed"
    async with hub.session_factory() as session:
        assert await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.text == "Приём с 9 до 18")
        )
    async with transaction(hub.session_factory) as session:
        await session.execute(
            update(Contact).where(Contact.value == FLAT).values(opted_out_at=Contact.created_at)
        )
    await client.post("/console/language", data={"csrf": token, "language": "ru"})
    refused = await client.post(
        f"/console/tickets/{number}/reply",
        data={"csrf": token, "text": "Ещё вопрос", "channel": "sms"},
        headers=HTMX,
    )
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text and "Ещё вопрос" in refused.text
    assert "reply_refused:" not in refused.text


async def test_notes_assignments_and_statuses_from_the_panels(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    number = await _ticket(hub)
    token = await console_login(client, "agent")
    note = await client.post(
        f"/console/tickets/{number}/note",
        data={"csrf": token, "text": "@dispatcher глянь"},
        headers=HTMX,
    )
    assert note.status_code == 200
    empty = await client.post(
        f"/console/tickets/{number}/note", data={"csrf": token, "text": " "}, headers=HTMX
    )
    assert empty.status_code == 422
    mine = await client.post(
        f"/console/tickets/{number}/assign", data={"csrf": token, "assignee": "me"}, headers=HTMX
    )
    assert mine.status_code == 200
    status = await client.post(
        f"/console/tickets/{number}/status",
        data={"csrf": token, "status": "in_progress"},
        headers=HTMX,
    )
    assert status.status_code == 200
    wrong = await client.post(
        f"/console/tickets/{number}/status", data={"csrf": token, "status": "closed"}, headers=HTMX
    )
    assert wrong.status_code == 422
    page = await client.get(f"/console/tickets/{number}")
    assert "@dispatcher глянь" in page.text
    mine_view = await client.get("/console?view=mine")
    assert number in mine_view.text


async def test_merge_asks_before_joining_two_residents_and_split_opens_the_new_request(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    first = await _ticket(hub, "Подскажите часы приёма в управе", FLAT)
    second = await _ticket(hub, "Когда открыта приёмная управы?", "+79005550166")
    token = await console_login(client, "agent")
    asked = await client.post(
        f"/console/tickets/{second}/merge", data={"csrf": token, "into": first}, headers=HTMX
    )
    assert asked.status_code == 409 and 'name="confirm" value="yes"' in asked.text
    merged = await client.post(
        f"/console/tickets/{second}/merge",
        data={"csrf": token, "into": first, "confirm": "yes"},
        headers=HTMX,
    )
    assert merged.headers["HX-Redirect"] == f"/console/tickets/{first}"
    async with hub.session_factory() as session:
        message_id = await session.scalar(
            select(TicketMessage.id).where(TicketMessage.text == "Когда открыта приёмная управы?")
        )
    split = await client.post(
        f"/console/tickets/{first}/split", data={"csrf": token, "message_id": str(message_id)}
    )
    assert split.status_code == 303
    new = split.headers["location"].rsplit("/", 1)[1]
    assert new not in (first, second)


async def test_search_posts_the_phone_and_finds_the_resident(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    number = await _ticket(hub)
    token = await console_login(client, "agent")
    found = await client.post("/console/search", data={"csrf": token, "query": "8 900 555-01-88"})
    assert found.status_code == 200
    assert number in found.text and "/console/residents/" in found.text
    by_number = await client.post("/console/search", data={"csrf": token, "query": number})
    assert number in by_number.text
    short = await client.post("/console/search", data={"csrf": token, "query": "ab"})
    assert short.status_code == 422


async def test_a_north_dispatcher_never_sees_a_ticket_outside_the_district(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    number = await _ticket(hub)  # no address: in no district
    token = await console_login(client, "north")
    assert number not in (await client.get("/console?view=all")).text
    assert (await client.get(f"/console/tickets/{number}")).status_code == 404
    rows = await client.get(f"/console/inbox/rows?view=all&numbers={number}")
    assert f'data-remove="{number}"' in rows.text
    found = await client.post("/console/search", data={"csrf": token, "query": number})
    assert f"/console/tickets/{number}" not in found.text


async def test_canned_responses_page_is_for_admins(client: httpx.AsyncClient) -> None:
    token = await console_login(client, "admin")
    added = await client.post(
        "/console/canned",
        data={"csrf": token, "language": "ru", "title": "Прощание", "body": "Всего доброго!"},
    )
    assert added.status_code == 303
    assert "Всего доброго!" in (await client.get("/console/canned")).text
    bad = await client.post(
        "/console/canned", data={"csrf": token, "language": "xx", "title": "a", "body": "b"}
    )
    assert bad.status_code == 422
