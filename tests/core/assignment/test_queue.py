"""The queue: round robin among available agents, limits, oldest first, scope, the backlog."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest
from sqlalchemy import select

from core.assignment import service
from core.auth import service as auth_service
from core.auth.enums import Role, ScopeKind
from core.auth.models import StaffUser
from core.db import transaction
from core.intake import service as intake_service
from core.runtime import Hub
from core.territory.models import District
from core.tickets import service as tickets_service
from core.tickets.enums import TicketStatus
from core.tickets.models import Ticket
from core.tickets.numbers import parse_public_number
from tests.factories import inbound


async def _agents(
    hub: Hub, count: int, *, district: str | None = None, max_open: int = 5
) -> list[int]:
    ids = []
    async with transaction(hub.session_factory) as session:
        scope_id = (
            await session.scalar(select(District.id).where(District.code == district))
            if district
            else None
        )
        for n in range(count):
            user = await auth_service.create_staff(
                db_session=session,
                username=f"q-{district or 'city'}-{n}",
                password="queue-secret-1",
                role=Role.AGENT,
                scope_kind=ScopeKind.DISTRICT if district else ScopeKind.CITY,
                scope_id=scope_id,
            )
            state = await service.set_availability(
                db_session=session, staff_id=user.id, available=True
            )
            state.max_open = max_open
            ids.append(user.id)
    return ids


async def _conversations(hub: Hub, count: int, prefix: str = "Вопрос") -> list[int]:
    numbers = []
    for n in range(count):
        result = await intake_service.receive(
            hub=hub,
            message=inbound(
                f"{prefix} номер {n}: как узнать часы приёма?", sender=f"+7900555{n:04d}"
            ),
        )
        assert result.ticket_number is not None
        numbers.append(parse_public_number(result.ticket_number))
    return [n for n in numbers if n is not None]


async def _distribute(hub: Hub) -> list[tuple[int, int]]:
    async with transaction(hub.session_factory) as session:
        return await service.distribute(db_session=session)


async def test_round_robin_hands_the_oldest_first_and_keeps_to_the_limit(hub: Hub) -> None:
    tickets = await _conversations(hub, 7)
    agents = await _agents(hub, 3, max_open=2)
    placed = await _distribute(hub)
    # Six places (three agents, two each): the six oldest conversations, taken in turn.
    assert [t for t, _ in placed] == tickets[:6]
    assert [a for _, a in placed] == agents + agents
    async with hub.session_factory() as session:
        last = await session.get(Ticket, tickets[6])
        assert last is not None and last.assignee_id is None
        user = await session.get(StaffUser, agents[0])
        assert user is not None
        scope = auth_service.principal_for(user).scope
        counts = await service.queue_counts(db_session=session, scope=scope)
    assert {c.team: c.waiting for c in counts}["general"] == 1


async def test_away_agents_get_nothing_and_the_queue_drains_when_one_comes_back(hub: Hub) -> None:
    await _conversations(hub, 2)
    (agent,) = await _agents(hub, 1)
    async with transaction(hub.session_factory) as session:
        await service.set_availability(db_session=session, staff_id=agent, available=False)
    assert await _distribute(hub) == []
    async with transaction(hub.session_factory) as session:
        await service.set_availability(db_session=session, staff_id=agent, available=True)
    assert len(await _distribute(hub)) == 2


async def test_a_north_agent_never_gets_a_ticket_outside_the_north(hub: Hub) -> None:
    await _conversations(hub, 2)  # no address: in no district
    await _agents(hub, 1, district="north")
    assert await _distribute(hub) == []


async def test_resolving_frees_room_for_the_next_conversation(hub: Hub) -> None:
    tickets = await _conversations(hub, 2)
    (agent,) = await _agents(hub, 1, max_open=1)
    assert [t for t, _ in await _distribute(hub)] == tickets[:1]
    assert await _distribute(hub) == []
    async with transaction(hub.session_factory) as session:
        ticket = await session.get(Ticket, tickets[0])
        assert ticket is not None
        tickets_service.change_status(
            db_session=session, ticket=ticket, status=TicketStatus.RESOLVED, actor="system"
        )
    assert await _distribute(hub) == [(tickets[1], agent)]


@pytest.mark.skipif(
    not os.environ.get("HUB_TEST_DATABASE_URL"), reason="needs two writers (PostgreSQL)"
)
async def test_two_rounds_at_once_never_assign_twice_nor_overfill(hub: Hub) -> None:
    await _conversations(hub, 6)
    await _agents(hub, 2, max_open=2)
    first, second = await asyncio.gather(_distribute(hub), _distribute(hub))
    taken = [t for t, _ in first + second]
    assert len(taken) == len(set(taken)) == 4


async def test_presence_over_the_api(client: httpx.AsyncClient, hub: Hub) -> None:
    await _conversations(hub, 1)
    login = await client.post(
        "/api/v1/session", json={"username": "agent", "password": "agent-demo"}
    )
    headers = {"X-CSRF-Token": login.json()["csrf_token"]}
    assert (await client.get("/api/v1/agents/me")).json()["available"] is False
    on = await client.put("/api/v1/agents/me", json={"available": True}, headers=headers)
    assert on.status_code == 200 and on.json()["available"] is True
    async with hub.session_factory() as session:
        assert await session.scalar(select(Ticket.assignee_id).limit(1)) is not None
    bad = await client.put(
        "/api/v1/agents/1", json={"max_open": 3, "teams": ["nowhere"]}, headers=headers
    )
    assert bad.status_code == 403  # an agent may not set limits
    queues = await client.get("/api/v1/queues")
    assert queues.status_code == 200 and {q["team"] for q in queues.json()} >= {"general"}
