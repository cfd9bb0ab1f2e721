"""Which places a ballot may cover is the rule set's: under the Russian Housing Code a general
meeting is one apartment building's, so a Russian ballot of a whole estate is refused when it
is written, rewritten or published; under the Chinese Civil Code the owners' assembly is the
property-management area's, so a Chinese ballot may cover the estate. A Russian estate ballot
already published before the rule keeps running to its protocol."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select, update

from core.db import transaction
from core.runtime import Hub
from core.votes.enums import BallotScope, BallotStatus
from core.votes.models import Ballot, BallotQuestion
from core.votes.rules import get_rule_set
from tests.core.votes.factories import (
    ballot_body,
    chinese_estate,
    close_at,
    committee_key,
    owner_phone,
    reply,
    shift_open,
)

API = "/api/v1/votes"
PER_BUILDING = "under the Housing Code a general meeting is held per building"
RUSSIAN_ESTATE: dict[str, Any] = {"scope": "estate", "estate": "gardens", "building": None}


async def counts(hub: Hub) -> tuple[int, int]:
    async with hub.session_factory() as session:
        ballots = await session.scalar(select(func.count()).select_from(Ballot))
        questions = await session.scalar(select(func.count()).select_from(BallotQuestion))
        return int(ballots or 0), int(questions or 0)


async def as_estate_ballot(hub: Hub, ballot_id: int) -> None:
    """Turns a Russian building ballot into one of the whole estate, as a row written before
    the rule would be."""
    async with transaction(hub.session_factory) as session:
        await session.execute(
            update(Ballot)
            .where(Ballot.id == ballot_id)
            .values(scope=BallotScope.ESTATE, building_id=None)
        )


async def test_the_rule_sets_say_which_places_a_meeting_covers(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    assert get_rule_set("ru-housing-code").scopes == (BallotScope.BUILDING,)
    assert get_rule_set("cn-civil-code").scopes == (BallotScope.BUILDING, BallotScope.ESTATE)
    listed = await client.get(f"{API}/rule-sets", headers=await committee_key(hub))
    assert listed.status_code == 200, listed.text
    assert {rs["code"]: rs["scopes"] for rs in listed.json()} == {
        "cn-civil-code": ["building", "estate"],
        "ru-housing-code": ["building"],
    }


async def test_a_russian_estate_ballot_is_refused_and_nothing_is_written(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    before = await counts(hub)
    answer = await client.post(
        f"{API}/ballots", json=ballot_body(**RUSSIAN_ESTATE), headers=headers
    )
    assert answer.status_code == 422, answer.text
    assert PER_BUILDING in answer.json()["detail"]
    assert "create one ballot per building" in answer.json()["detail"]
    assert await counts(hub) == before


async def test_a_russian_building_ballot_is_accepted(hub: Hub, client: httpx.AsyncClient) -> None:
    headers = await committee_key(hub)
    answer = await client.post(
        f"{API}/ballots",
        json=ballot_body(scope="building", building="b005", estate=None),
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["scope"], body["building"], body["estate"], body["rule_set"]) == (
        "building",
        "b005",
        "gardens",
        "ru-housing-code",
    )


async def test_a_chinese_estate_ballot_is_accepted(hub: Hub, client: httpx.AsyncClient) -> None:
    headers = await committee_key(hub)
    answer = await client.post(
        f"{API}/ballots", json=ballot_body(**chinese_estate()), headers=headers
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["scope"], body["estate"], body["building"], body["rule_set"]) == (
        "estate",
        "gardens",
        None,
        "cn-civil-code",
    )
    published = await client.post(f"{API}/ballots/{body['id']}/publish", headers=headers)
    assert published.status_code == 200 and published.json()["status"] == "scheduled"


async def test_a_draft_cannot_be_rewritten_as_a_russian_estate_ballot(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    created = await client.post(f"{API}/ballots", json=ballot_body(), headers=headers)
    assert created.status_code == 201, created.text
    url = f"{API}/ballots/{created.json()['id']}"
    before = (await client.get(url, headers=headers)).json()
    changed = await client.put(
        url, json=ballot_body(**RUSSIAN_ESTATE, titles={"ru": "Весь квартал"}), headers=headers
    )
    assert changed.status_code == 422, changed.text
    assert PER_BUILDING in changed.json()["detail"]
    assert (await client.get(url, headers=headers)).json() == before
    # A Chinese estate ballot is a meeting of the whole estate: the draft may become one.
    china = await client.put(url, json=ballot_body(**chinese_estate()), headers=headers)
    assert china.status_code == 200, china.text
    assert (china.json()["scope"], china.json()["building"]) == ("estate", None)


async def test_a_russian_estate_draft_from_before_the_rule_is_not_published(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    created = await client.post(f"{API}/ballots", json=ballot_body(), headers=headers)
    ballot_id = int(created.json()["id"])
    await as_estate_ballot(hub, ballot_id)
    published = await client.post(f"{API}/ballots/{ballot_id}/publish", headers=headers)
    assert published.status_code == 422, published.text
    assert PER_BUILDING in published.json()["detail"]
    async with hub.session_factory() as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        assert (ballot.status, ballot.scope) == (BallotStatus.DRAFT, BallotScope.ESTATE)
    # It can still be deleted, or rewritten as a building's ballot and published.
    url = f"{API}/ballots/{ballot_id}"
    assert (await client.put(url, json=ballot_body(), headers=headers)).status_code == 200
    assert (await client.post(f"{url}/publish", headers=headers)).status_code == 200


async def test_a_russian_estate_ballot_published_before_the_rule_runs_to_its_protocol(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    created = await client.post(f"{API}/ballots", json=ballot_body(), headers=headers)
    ballot_id = int(created.json()["id"])
    url = f"{API}/ballots/{ballot_id}"
    assert (await client.post(f"{url}/publish", headers=headers)).status_code == 200
    await as_estate_ballot(hub, ballot_id)
    invited = await shift_open(hub, ballot_id)
    # The whole estate was invited: 30 flats' owners, the spouse, the developer.
    assert len(invited) == 32
    answered = await reply(hub, "1", sender=owner_phone(3, 4))
    assert f"№{ballot_id}" in answered.replies[0].text
    async with hub.session_factory() as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        closes_at = ballot.closes_at
    assert len(await close_at(hub, ballot_id, closes_at)) == 32
    closed = (await client.get(url, headers=headers)).json()
    assert (closed["status"], closed["scope"]) == ("closed", "estate")
    tally = (await client.get(f"{url}/tally", headers=headers)).json()
    assert tally["final"] is True and tally["voted"] == 1
    assert (await client.get(f"{url}/protocol.html", headers=headers)).status_code == 200
