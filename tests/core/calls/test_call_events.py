"""Call events reach the one agent concerned, with the screen pop on answer, and nobody else."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from core.auth.models import StaffUser
from core.calls import service as calls
from core.config import Settings
from core.intake import service as intake_service
from core.runtime import Hub
from portal.app import create_app
from tests.core.events.sse import open_stream
from tests.factories import inbound

EVENTS = "/api/v1/events"


@pytest.fixture
async def app(hub: Hub, settings: Settings) -> AsyncIterator[FastAPI]:
    yield create_app(settings, hub=hub, run_worker=False, prepare_database=False)


async def _session_cookie(app: FastAPI, username: str) -> dict[str, str]:
    """Logs ``username`` in; returns the cookie header their browser would send."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://hub.test") as http:
        response = await http.post(
            "/api/v1/session", json={"username": username, "password": f"{username}-demo"}
        )
        assert response.status_code == 200
        return {"cookie": f"hub_session={http.cookies['hub_session']}"}


async def _staff_id(hub: Hub, username: str) -> int:
    async with hub.session_factory() as session:
        found = await session.scalar(select(StaffUser.id).where(StaffUser.username == username))
        assert found is not None
        return found


async def test_a_call_answered_by_one_agent_pops_up_only_on_their_console(
    app: FastAPI, hub: Hub
) -> None:
    # The caller wrote before from their mobile, stored as +7…; the line reports 8 9…
    await intake_service.receive(
        hub=hub, message=inbound("Подскажите часы приёма", sender="+79005550144")
    )
    agent, other = await _staff_id(hub, "agent"), await _staff_id(hub, "agent2")
    first, second = await _session_cookie(app, "agent"), await _session_cookie(app, "agent2")
    async with open_stream(app, EVENTS, first) as mine, open_stream(app, EVENTS, second) as theirs:
        await mine.next_frame()  # connected
        await theirs.next_frame()
        await calls.call_ringing(
            hub=hub, external_id="1733.1", caller="89005550144", agent_id=agent
        )
        await calls.call_answered(hub=hub, external_id="1733.1", agent_id=agent)
        await calls.call_answered(hub=hub, external_id="1733.1", agent_id=agent)  # repeated
        await calls.call_ended(hub=hub, external_id="1733.1", outcome="answered")
        got = [e for e in await mine.events_until_quiet(1.0) if e.event == "call"]
        others = [e for e in await theirs.events_until_quiet(0.5) if e.event == "call"]
    states = [json.loads(e.data) for e in got]
    assert [s["state"] for s in states] == ["ringing", "answered", "ended"]
    assert states[1]["pop"] is True and states[1]["resident_id"] is not None
    assert all(e.id is None for e in got)  # Last-Event-ID of ticket events is untouched
    assert others == []
    assert other != agent


async def test_an_api_key_stream_gets_no_call_events(app: FastAPI, hub: Hub) -> None:
    from core.auth.enums import Role
    from tests.factories import api_key

    agent = await _staff_id(hub, "agent")
    headers = await api_key(hub, Role.AGENT)
    async with open_stream(app, EVENTS, headers) as stream:
        await stream.next_frame()
        await calls.call_ringing(hub=hub, external_id="9.9", caller="+79005550100", agent_id=agent)
        assert [e for e in await stream.events_until_quiet(0.5) if e.event == "call"] == []


async def test_an_answer_for_an_unknown_call_is_refused(hub: Hub) -> None:
    with pytest.raises(calls.UnknownCall):
        await calls.call_answered(hub=hub, external_id="never-rang", agent_id=1)
