"""GET /api/v1/events: staff follow ticket events live, in their scope, without losing any."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import Role, ScopeKind
from core.config import Settings
from core.intake import service as intake_service
from core.runtime import Hub
from core.territory.models import District
from core.tickets import service as tickets_service
from core.tickets.actors import Actor
from portal.app import create_app
from tests.core.events.sse import open_stream
from tests.factories import api_key, inbound

EVENTS = "/api/v1/events"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A short heartbeat and gap grace, so a test sees both in well under a second.
    return settings.model_copy(
        update={"events_heartbeat_seconds": 0.3, "events_gap_grace_seconds": 0.5}
    )


@pytest.fixture
async def app(hub: Hub, settings: Settings) -> AsyncIterator[FastAPI]:
    yield create_app(settings, hub=hub, run_worker=False, prepare_database=False)


async def _ticket(hub: Hub, district: str, *, commit: bool = True) -> str:
    """Opens a ticket in ``district`` (its 'created' and 'routed' events); returns its number."""
    async with hub.session_factory() as session:
        await session.begin()
        district_id = await session.scalar(select(District.id).where(District.code == district))
        ticket = await tickets_service.create(
            db_session=session,
            channel="sms",
            kind="city_case",
            summary=f"Broken bench in {district}",
            language="en",
            back_office="dispatch",
            actor=Actor.RESIDENT,
            district_id=district_id,
        )
        number = ticket.public_number
        await (session.commit() if commit else session.rollback())
    return number


async def test_anonymous_clients_are_refused(client: httpx.AsyncClient) -> None:
    answer = await client.get(EVENTS)
    assert answer.status_code == 401
    refused = await client.get(EVENTS, headers={"X-API-Key": "hub_not-a-key"})
    assert refused.status_code == 401


async def test_a_malformed_cursor_is_a_422(client: httpx.AsyncClient, hub: Hub) -> None:
    headers = await api_key(hub, Role.AGENT)
    answer = await client.get(EVENTS, headers={**headers, "Last-Event-ID": "12; DROP"})
    assert answer.status_code == 422
    answer = await client.get(EVENTS + "?last_event_id=-1", headers=headers)
    assert answer.status_code == 422
    # "²" passes str.isdigit() but is no number int() reads: still a 422, never a 500.
    # (sent as the raw byte 0xB2, which the server decodes as Latin-1 "²").
    answer = await client.get(EVENTS, headers={**headers, "Last-Event-ID": "²".encode("latin-1")})
    assert answer.status_code == 422


async def test_a_cursor_beyond_every_event_resumes_from_now(app: FastAPI, hub: Hub) -> None:
    headers = await api_key(hub, Role.SUPERVISOR)
    ahead = {**headers, "Last-Event-ID": str(10**12)}
    async with open_stream(app, EVENTS, ahead) as stream:
        number = await _ticket(hub, "central")
        events = await stream.events_until_quiet(1.0)
    assert [json.loads(e.data)["ticket"] for e in events] == [number, number]


async def test_an_event_reaches_the_stream_after_commit_and_never_after_rollback(
    app: FastAPI, hub: Hub
) -> None:
    headers = await api_key(hub, Role.AGENT)
    async with open_stream(app, EVENTS, headers) as stream:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        await _ticket(hub, "north", commit=False)
        kept = await _ticket(hub, "north")
        events = await stream.events_until_quiet(1.0)
    assert [(e.event, json.loads(e.data)["ticket"]) for e in events] == [
        ("created", kept),
        ("routed", kept),
    ]
    created = json.loads(events[0].data)
    assert created["actor_kind"] == "resident" and created["channel"] == "sms"
    assert events[0].id == str(created["id"]) and int(events[1].id or 0) > created["id"]


async def test_a_resumed_stream_gets_exactly_the_missed_events(app: FastAPI, hub: Hub) -> None:
    headers = await api_key(hub, Role.SUPERVISOR)
    async with open_stream(app, EVENTS, headers) as stream:
        first = await _ticket(hub, "central")
        seen = [await stream.next_event(), await stream.next_event()]
    assert {json.loads(e.data)["ticket"] for e in seen} == {first}
    # While the console is away two more requests come in.
    missed = [await _ticket(hub, "river"), await _ticket(hub, "north")]
    resume = {**headers, "Last-Event-ID": seen[-1].id or ""}
    async with open_stream(app, EVENTS, resume) as stream:
        replayed = await stream.events_until_quiet(1.0)
    assert [json.loads(e.data)["ticket"] for e in replayed] == [n for n in missed for _ in "ab"]
    ids = [int(e.id or 0) for e in replayed]
    assert ids == sorted(ids) and ids[0] > int(seen[-1].id or 0)
    # The same cursor in the query string (a first connection, which sends no header).
    query = f"{EVENTS}?last_event_id={seen[-1].id}"
    async with open_stream(app, query, headers) as stream:
        assert [e.id for e in await stream.events_until_quiet(1.0)] == [e.id for e in replayed]


async def test_a_district_dispatcher_sees_only_their_district(app: FastAPI, hub: Hub) -> None:
    north = await api_key(hub, Role.DISPATCHER, ScopeKind.DISTRICT, "north")
    async with open_stream(app, EVENTS, north) as stream:
        elsewhere = await _ticket(hub, "river")
        own = await _ticket(hub, "north")
        live = await stream.events_until_quiet(1.0)
    async with hub.session_factory() as session:
        north_id = await session.scalar(select(District.id).where(District.code == "north"))
    assert [json.loads(e.data)["ticket"] for e in live] == [own, own]
    assert all(json.loads(e.data)["district_id"] == north_id for e in live)
    # Catching up from the table applies the same scope.
    async with open_stream(app, f"{EVENTS}?last_event_id=0", north) as stream:
        history = await stream.events_until_quiet(1.0)
    tickets = {json.loads(e.data)["ticket"] for e in history}
    assert own in tickets and elsewhere not in tickets


async def test_a_quiet_stream_sends_heartbeats(app: FastAPI, hub: Hub) -> None:
    headers = await api_key(hub, Role.AGENT)
    async with open_stream(app, EVENTS, headers) as stream:
        opening = await stream.next_frame()
        assert "connected" in opening.comments
        beats = [await stream.next_frame(2.0), await stream.next_frame(2.0)]
    assert all(frame.comments == ["heartbeat"] and not frame.data for frame in beats)


async def test_a_message_through_intake_shows_on_the_stream(app: FastAPI, hub: Hub) -> None:
    headers = await api_key(hub, Role.AGENT)
    async with open_stream(app, EVENTS, headers) as stream:
        result = await intake_service.receive(
            hub=hub, message=inbound("Streetlight out on Birch street")
        )
        events = await stream.events_until_quiet(1.0)
    payloads = [json.loads(e.data) for e in events]
    assert payloads and {p["ticket"] for p in payloads} == {result.ticket_number}
    assert payloads[0]["kind"] == "created"
    # Codes and ids only: no phone number or message text goes out on the stream.
    assert not any("+7900" in e.data or "Streetlight" in e.data for e in events)


async def _open_uncommitted(hub: Hub, summary: str) -> tuple[AsyncSession, str]:
    """Opens a ticket in a transaction left open: its event ids are taken, not visible."""
    session = hub.session_factory()
    await session.begin()
    district_id = await session.scalar(select(District.id).where(District.code == "north"))
    ticket = await tickets_service.create(
        db_session=session,
        channel="sms",
        kind="city_case",
        summary=summary,
        language="en",
        back_office="dispatch",
        actor=Actor.RESIDENT,
        district_id=district_id,
    )
    await session.flush()
    return session, ticket.public_number


async def test_a_transaction_slower_than_the_grace_still_reaches_the_stream(
    app: FastAPI, hub: Hub
) -> None:
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time: no event can be late")
    headers = await api_key(hub, Role.SUPERVISOR)
    async with open_stream(app, EVENTS, headers) as stream:
        slow, slow_number = await _open_uncommitted(hub, "an import row, slow")
        fast, fast_number = await _open_uncommitted(hub, "an SMS, fast")
        await fast.commit()
        await fast.close()
        await asyncio.sleep(1.5)  # past the grace: the feed moved on over the slow ids
        await slow.commit()
        await slow.close()
        events = await stream.events_until_quiet(2.0)
    tickets = [json.loads(e.data)["ticket"] for e in events]
    assert tickets.count(fast_number) == 2 and tickets.count(slow_number) == 2
    # Sent late, without an SSE id: the browser's Last-Event-ID stays on the newest event.
    assert all(not e.id for e in events if json.loads(e.data)["ticket"] == slow_number)
