"""The public ranking is computed once for many readers: kept for a few seconds per
process, forgotten at once when this process commits a change to what it is made of."""

from __future__ import annotations

import asyncio
import time

import httpx
from sqlalchemy import event, text

from core.auth.enums import Role
from core.complaints.ranking import ranking_cache
from core.runtime import Hub
from tests.factories import api_key

RANKING = "/api/v1/complaints/ranking"


async def _codes(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    answer = await client.get(RANKING)
    assert answer.status_code == 200, answer.text
    return [(row["company"], row["band"]) for row in answer.json()]


async def test_readers_share_one_computation(hub: Hub, client: httpx.AsyncClient) -> None:
    first = await _codes(client)
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(hub.engine.sync_engine, "before_cursor_execute", note)
    try:
        again = [await _codes(client) for _ in range(5)]
        csv = await client.get(f"{RANKING}.csv")
    finally:
        event.remove(hub.engine.sync_engine, "before_cursor_execute", note)
    assert again == [first] * 5 and csv.status_code == 200
    assert not [s for s in statements if "score_events" in s], statements


async def test_a_change_committed_here_shows_at_the_next_read(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    assert ("uyut", "blacklist") not in await _codes(client)
    admin = await api_key(hub, Role.ADMIN)
    listed = await client.post(
        "/api/v1/complaints/companies/uyut/blacklist",
        json={"blacklisted": True, "reason": "forged meter readings"},
        headers=admin,
    )
    assert listed.status_code == 200, listed.text
    assert ("uyut", "blacklist") in await _codes(client)


async def test_a_change_made_elsewhere_shows_within_the_cache_time(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    ranking_cache(hub).ttl = 0.5
    assert ("uyut", "blacklist") not in await _codes(client)
    # Another process (or a hand-run SQL statement) changes the register: this process is
    # not told, and keeps its copy until it expires.
    async with hub.engine.begin() as connection:
        await connection.execute(
            text("UPDATE property_companies SET blacklisted = :yes WHERE code = 'uyut'"),
            {"yes": True},
        )
    changed_at = time.monotonic()
    assert ("uyut", "blacklist") not in await _codes(client)
    while ("uyut", "blacklist") not in await _codes(client):
        assert time.monotonic() - changed_at < 5, "the ranking never caught up"
        await asyncio.sleep(0.05)


async def test_a_savepoint_rolled_back_keeps_the_outer_change_noted(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    from sqlalchemy import select

    from core.complaints.models import PropertyCompany

    assert ("uyut", "blacklist") not in await _codes(client)
    async with hub.session_factory() as session, session.begin():
        company = await session.scalar(
            select(PropertyCompany).where(PropertyCompany.code == "uyut")
        )
        assert company is not None
        company.blacklisted, company.blacklist_reason = True, "forged meter readings"
        await session.flush()
        # An import's bad row rolls back its own savepoint; the company change stands.
        savepoint = await session.begin_nested()
        await savepoint.rollback()
    assert ("uyut", "blacklist") in await _codes(client)
