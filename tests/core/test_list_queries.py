"""A list endpoint runs the same statements for a page of one item as for a page of many:
nothing is looked up once per item (estates' contracts, ballots' questions and places,
owners' phones)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from core.auth.enums import Role
from core.runtime import Hub
from tests.core.votes.factories import ballot_body, chinese_estate
from tests.factories import api_key


@asynccontextmanager
async def counted(hub: Hub) -> AsyncIterator[list[str]]:
    """Yields the list of statements the hub's engine runs inside the block."""
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(hub.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(hub.engine.sync_engine, "before_cursor_execute", note)


async def _statements(
    hub: Hub, client: httpx.AsyncClient, url: str, headers: dict[str, str], size: int
) -> int:
    async with counted(hub) as statements:
        answer = await client.get(url, headers=headers)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()) == size, answer.json()
    return len(statements)


async def test_the_estates_page_reads_contracts_once_for_the_page(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    admin = await api_key(hub, Role.ADMIN)
    url = "/api/v1/complaints/estates?limit={}"
    one = await _statements(hub, client, url.format(1), admin, 1)
    every = await _statements(hub, client, url.format(500), admin, 3)
    assert every == one
    listed = (await client.get(url.format(500), headers=admin)).json()
    # Still each estate's own contract and company.
    assert {e["code"]: (e["company"], e["contract"]) for e in listed}["gardens"][0] == "uyut"


async def test_the_ballots_page_reads_questions_and_places_once_for_the_page(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    admin = await api_key(hub, Role.ADMIN)
    # An estate's ballot (Chinese rules: the owners' assembly is the estate's), then b003's.
    for overrides in (chinese_estate(), {"scope": "building", "building": "b003", "estate": None}):
        made = await client.post(
            "/api/v1/votes/ballots", json=ballot_body(**overrides), headers=admin
        )
        assert made.status_code == 201, made.text
    listed = (await client.get("/api/v1/votes/ballots?limit=500", headers=admin)).json()
    size = len(listed)
    assert size >= 3
    one = await _statements(hub, client, "/api/v1/votes/ballots?limit=1", admin, 1)
    every = await _statements(hub, client, "/api/v1/votes/ballots?limit=500", admin, size)
    assert every == one
    # The newest is the building's ballot (b003 is one of Riverside Gardens' buildings).
    assert (listed[0]["scope"], listed[0]["building"], listed[0]["estate"]) == (
        "building",
        "b003",
        "gardens",
    )
    assert [q["matter"] for q in listed[0]["questions"]] == ["default"]
    assert listed[1]["estate"] == "gardens" and listed[1]["building"] is None
    assert [q["matter"] for q in listed[1]["questions"]] == ["other"]


@pytest.mark.parametrize(("few", "many"), [(("b002", 6), ("b001", 7))])
async def test_the_owners_list_reads_phones_once_for_the_building(
    hub: Hub, client: httpx.AsyncClient, few: tuple[str, int], many: tuple[str, int]
) -> None:
    admin = await api_key(hub, Role.ADMIN)
    url = "/api/v1/votes/owners?building={}"
    fewer = await _statements(hub, client, url.format(few[0]), admin, few[1])
    more = await _statements(hub, client, url.format(many[0]), admin, many[1])
    assert more == fewer
    owners = (await client.get(url.format(many[0]), headers=admin)).json()
    assert all(len(owner["phones"]) >= 1 for owner in owners)
    assert all("*" in phone["phone"] for owner in owners for phone in owner["phones"])
