"""Nothing about a ballot changes once it opens: the API refuses, a register import after
the opening leaves its frozen electorate alone, and the database itself refuses to update
or delete vote rows, the electorate, or a published ballot's questions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from core.db import transaction
from core.imports import import_text
from core.runtime import Hub
from core.votes.electorate import digest
from core.votes.models import Ballot, BallotQuestion, BallotVote, BallotVoter, BallotVoterMember
from tests.core.votes.factories import ballot_body, committee_key, open_ballot_via_api

API = "/api/v1/votes"


async def frozen(hub: Hub, ballot_id: int) -> dict[str, Any]:
    """Returns everything a ballot froze when it opened."""
    async with hub.session_factory() as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        voters = await session.execute(
            select(
                BallotVoter.id,
                BallotVoter.key,
                BallotVoter.weight,
                BallotVoter.heads,
                BallotVoter.owners,
                BallotVoter.units,
            )
            .where(BallotVoter.ballot_id == ballot_id)
            .order_by(BallotVoter.id)
        )
        members = await session.execute(
            select(BallotVoterMember.voter_id, BallotVoterMember.resident_id)
            .where(BallotVoterMember.ballot_id == ballot_id)
            .order_by(BallotVoterMember.id)
        )
        questions = await session.execute(
            select(BallotQuestion.position, BallotQuestion.texts, BallotQuestion.options)
            .where(BallotQuestion.ballot_id == ballot_id)
            .order_by(BallotQuestion.position)
        )
        return {
            "totals": (
                ballot.total_weight,
                ballot.total_heads,
                ballot.voter_count,
                ballot.unowned_units,
            ),
            "digest": ballot.electorate_digest,
            "voters": [tuple(v) for v in voters],
            "members": [tuple(m) for m in members],
            "questions": [tuple(q) for q in questions],
        }


async def paper(
    client: httpx.AsyncClient, headers: dict[str, str], ballot_id: int, owner: str, ref: str
) -> httpx.Response:
    return await client.post(
        f"{API}/ballots/{ballot_id}/paper-votes",
        json={"owner": owner, "choices": {"1": "1"}, "reference": ref},
        headers=headers,
    )


async def test_an_open_ballot_cannot_change_through_the_api(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)
    url = f"{API}/ballots/{ballot_id}"
    before = await frozen(hub, ballot_id)
    put = await client.put(url, json=ballot_body(titles={"ru": "Другое"}), headers=headers)
    assert put.status_code == 409 and "only a draft can change" in put.json()["detail"]
    assert (await client.delete(url, headers=headers)).status_code == 409
    assert (await client.post(f"{url}/publish", headers=headers)).status_code == 409
    reason = {"reason": "Changed our minds"}
    assert (await client.post(f"{url}/cancel", json=reason, headers=headers)).status_code == 409
    after = (await client.get(url, headers=headers)).json()
    assert after["status"] == "open" and after["titles"]["ru"] == "Детская площадка"
    assert await frozen(hub, ballot_id) == before


async def test_a_register_import_after_opening_leaves_the_electorate_alone(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)
    before = await frozen(hub, ballot_id)
    # b001: six flats' owners and the spouse.
    assert before["digest"] and len(before["voters"]) == 7
    tally = (await client.get(f"{API}/ballots/{ballot_id}/tally", headers=headers)).json()

    # After the opening: b001-3 is sold, b001-1 re-measured, a new flat registered.
    async with transaction(hub.session_factory) as session:
        await import_text(
            db_session=session,
            what="owners",
            fmt="csv",
            text=(
                "building,premises,area,owner,share,phones\n"
                "b001,3,59.40,BUYER-b001-3,1,+79003000013\n"
                "b001,1,99.00,RS-b001-1,1,+79001000001\n"
                "b001,500,80.00,NEW-b001-500,1,+79003000500\n"
            ),
        )
    assert await frozen(hub, ballot_id) == before
    again = (await client.get(f"{API}/ballots/{ballot_id}/tally", headers=headers)).json()
    assert (again["total_area"], again["total_heads"]) == (tally["total_area"], 7)
    # The seller still votes in this ballot; the buyer and the new owner do not.
    assert (await paper(client, headers, ballot_id, "RS-b001-3", "P-1")).status_code == 200
    for owner in ("BUYER-b001-3", "NEW-b001-500"):
        refused = await paper(client, headers, ballot_id, owner, f"P-{owner}")
        assert refused.status_code == 409 and "has no vote here" in refused.json()["detail"]
    ballot = (await client.get(f"{API}/ballots/{ballot_id}", headers=headers)).json()
    assert ballot["electorate_digest"] == before["digest"]

    # A ballot opened now sees the new register: another electorate, another digest.
    later_id = await open_ballot_via_api(hub, client, headers)
    later = await frozen(hub, later_id)
    assert later["digest"] != before["digest"]
    assert later["totals"][0] > before["totals"][0]


APPEND_ONLY = [
    ("ballot_votes", "UPDATE ballot_votes SET option = '2'"),
    ("ballot_votes", "UPDATE ballot_votes SET cast_at = cast_at"),
    ("ballot_votes", "DELETE FROM ballot_votes"),
    ("ballot_voters", "UPDATE ballot_voters SET weight = weight * 2"),
    (
        "ballot_voters",
        "DELETE FROM ballot_voters WHERE id NOT IN (SELECT voter_id FROM ballot_votes)",
    ),
    ("ballot_voter_members", "UPDATE ballot_voter_members SET resident_id = resident_id"),
    ("ballot_voter_members", "DELETE FROM ballot_voter_members"),
]


async def count(hub: Hub, model: type) -> int:
    async with hub.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(("table", "statement"), APPEND_ONLY)
async def test_the_database_refuses_to_change_votes_and_the_electorate(
    hub: Hub, client: httpx.AsyncClient, table: str, statement: str
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)
    assert (await paper(client, headers, ballot_id, "RS-b001-3", "P-1")).status_code == 200
    before = await frozen(hub, ballot_id)
    votes = await count(hub, BallotVote)
    assert votes == 1
    with pytest.raises(DBAPIError, match="append-only"):
        async with hub.engine.begin() as connection:
            await connection.execute(text(statement))
    assert await frozen(hub, ballot_id) == before
    assert await count(hub, BallotVote) == votes
    async with hub.session_factory() as session:
        option = await session.scalar(select(BallotVote.option))
    assert option == "1"
    # Adding is what the tables are for: a changed vote is a new row.
    changed = await client.post(
        f"{API}/ballots/{ballot_id}/paper-votes",
        json={"owner": "RS-b001-3", "choices": {"1": "2"}, "reference": "P-2"},
        headers=headers,
    )
    assert changed.status_code == 200 and await count(hub, BallotVote) == 2


async def test_a_published_ballots_questions_cannot_change_in_the_database(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    created = await client.post(f"{API}/ballots", json=ballot_body(), headers=headers)
    ballot_id = int(created.json()["id"])
    rewrite = text("UPDATE ballot_questions SET matter = 'capital_repair' WHERE ballot_id = :id")
    remove = text("DELETE FROM ballot_questions WHERE ballot_id = :id")
    # A draft's questions are still being written.
    async with hub.engine.begin() as connection:
        assert (await connection.execute(rewrite, {"id": ballot_id})).rowcount == 1
    await client.post(f"{API}/ballots/{ballot_id}/publish", headers=headers)
    for statement in (rewrite, remove):
        with pytest.raises(DBAPIError, match="questions cannot change"):
            async with hub.engine.begin() as connection:
                await connection.execute(statement, {"id": ballot_id})
    async with hub.session_factory() as session:
        matters = list(
            await session.scalars(
                select(BallotQuestion.matter).where(BallotQuestion.ballot_id == ballot_id)
            )
        )
    assert matters == ["capital_repair"]
    # Other ballots' drafts are not caught by it.
    draft = await client.post(f"{API}/ballots", json=ballot_body(), headers=headers)
    async with hub.engine.begin() as connection:
        done = await connection.execute(remove, {"id": int(draft.json()["id"])})
    assert done.rowcount == 1


QUESTIONS = [
    {
        "position": 1,
        "texts": {"ru": "Построить площадку?"},
        "matter": "default",
        "options": [{"code": "1", "kind": "for", "labels": {"ru": "За"}}],
    }
]
VOTERS: list[tuple[Any, ...]] = [
    ("p1", 4_540_000_000, 1, [1]),
    ("p2", 2_620_000_000, 1, [2]),
    ("u9", 5_000_000_000, 1, []),
]


def test_the_electorate_digest_is_stable_and_sees_every_difference() -> None:
    first = digest(QUESTIONS, VOTERS)
    assert len(first) == 64 and int(first, 16) >= 0
    assert digest(QUESTIONS, VOTERS) == first
    # The order voters were frozen in does not matter; what they hold does.
    assert digest(QUESTIONS, list(reversed(VOTERS))) == first
    heavier = [("p1", 4_540_000_001, 1, [1]), *VOTERS[1:]]
    assert digest(QUESTIONS, heavier) != first
    other_member = [("p1", 4_540_000_000, 1, [3]), *VOTERS[1:]]
    assert digest(QUESTIONS, other_member) != first
    assert digest(QUESTIONS, VOTERS[:2]) != first
    reworded = [{**QUESTIONS[0], "texts": {"ru": "Построить площадку сейчас?"}}]
    assert digest(reworded, VOTERS) != first
