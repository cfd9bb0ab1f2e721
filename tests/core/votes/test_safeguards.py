"""Safeguards found in review: who takes part in a Russian meeting, the developer's block,
lone digits, ticket numbers, repeated paper forms, phone-less register rows, and who may
run whose ballot."""

from __future__ import annotations

from decimal import Decimal

import httpx

from core.auth.enums import Role
from core.runtime import Hub
from core.votes.electorate import _Unit, voters_china
from core.votes.enums import OptionKind, OwnerKind, Threshold
from core.votes.replies import Choices, Question, Unclear, looks_like_vote, read_reply
from core.votes.tally import Counted, Totals, decide, weight_of
from tests.core.votes.factories import ballot_body, committee_key, open_ballot_via_api
from tests.core.votes.test_ballot_exports import paper
from tests.core.votes.test_register import load, phones_of, register
from tests.factories import api_key

API = "/api/v1/votes"
M2 = 10**8


def test_a_russian_question_is_decided_against_everyone_at_the_meeting() -> None:
    # 5,000 m²; 3,000 m² answered the ballot, 2,600 of them question 2: 1,400 for, 1,200
    # against. The meeting's participants hold 3,000 m² (art. 46 p. 1): 1,400 is not over
    # 1,500, so question 2 is not adopted, though it has over half of those who answered it.
    totals = Totals(5_000 * M2, 40)
    options = [
        Counted("1", OptionKind.FOR, 1_400 * M2, 10),
        Counted("2", OptionKind.AGAINST, 1_200 * M2, 10),
    ]
    per_question = decide(Threshold.RU_MAJORITY, totals, options)
    at_meeting = decide(Threshold.RU_MAJORITY, totals, options, (3_000 * M2, 25))
    assert per_question.adopted == "1"
    assert at_meeting.outcome == "not_adopted" and at_meeting.quorum_met
    assert at_meeting.support["1"][0].as_dict()["required"] == "1500.00"
    # China decides each matter among those who voted on it: the meeting figure is ignored.
    china = decide(Threshold.CN_ORDINARY, Totals(2_700 * M2, 22), options, (3_000 * M2, 25))
    assert china.participation[0].value == 2_600 * M2


def test_a_buyer_listed_beside_the_developer_cannot_cast_the_developers_block() -> None:
    developer, buyer = 100, 200
    units = [
        _Unit(1, "b5 7", Decimal("60.00"), [(developer, Decimal(1), OwnerKind.DEVELOPER, "D")]),
        _Unit(
            2,
            "b5 9",
            Decimal("65.40"),
            [
                (developer, Decimal("0.5"), OwnerKind.DEVELOPER, "D"),
                (buyer, Decimal("0.5"), OwnerKind.PERSON, "B"),
            ],
        ),
    ]
    [voter] = voters_china(units)
    assert voter.members == {developer}
    assert voter.weight == weight_of(Decimal("125.40")) and voter.heads == 1


def test_two_lone_digits_on_a_two_question_ballot_are_asked_again() -> None:
    shape = {"1": OptionKind.FOR, "2": OptionKind.AGAINST, "3": OptionKind.ABSTAIN}
    questions = [Question(1, shape), Question(2, shape)]
    assert isinstance(read_reply("1 2", questions), Unclear)
    assert read_reply("12", questions) == Choices({1: "2"})
    assert read_reply("1 1 2 2", questions) == Choices({1: "1", 2: "2"})


def test_ticket_numbers_and_amounts_are_not_ballot_answers() -> None:
    assert not looks_like_vote("0042176")
    assert not looks_like_vote("12345")
    assert looks_like_vote("1122") and looks_like_vote("#12 1") and looks_like_vote("№12 1")


async def test_a_paper_form_sent_again_records_and_reports_nothing_new(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)
    first = await paper(client, headers, ballot_id, "RS-b001-3", {"1": "1"}, "P-1")
    second = await paper(client, headers, ballot_id, "RS-b001-3", {"1": "2"}, "P-2")
    assert first.json()["counted"] == {"1": "1"} and second.json()["replaced"] == {"1": "1"}
    again = await paper(client, headers, ballot_id, "RS-b001-3", {"1": "1"}, "P-1")
    assert again.status_code == 200
    assert again.json() == {"counted": {}, "replaced": {}, "kept": {}}
    other = await paper(client, headers, ballot_id, "RS-b001-3", {"1": "3"}, "P-1")
    assert other.status_code == 409 and "already recorded" in other.text
    tally = (await client.get(f"{API}/ballots/{ballot_id}/tally", headers=headers)).json()
    counted = {o["code"]: o["heads"] for o in tally["questions"][0]["options"]}
    assert counted == {"1": 0, "2": 1, "3": 0}


async def test_a_register_row_without_phones_leaves_the_owners_numbers_alone(hub: Hub) -> None:
    before = await phones_of(hub, "RS-b001-1")
    await load(hub, register("b001,1,flat,46.40,,,RS-b001-1,person,,1,,"))
    assert await phones_of(hub, "RS-b001-1") == before
    # Numbers given to an owner entered earlier without any are a change: pending.
    await load(hub, register("b002,90,flat,40.00,,,NOPHONE-1,person,,1,,"))
    await load(hub, register("b002,90,flat,40.00,,,NOPHONE-1,person,,1,+79003330001,"))
    assert (await phones_of(hub, "NOPHONE-1"))["+79003330001"][0] == "pending"


async def test_a_committee_runs_only_the_ballots_it_called(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    authority = await api_key(hub, Role.SUPERVISOR)
    created = await client.post(f"{API}/ballots", json=ballot_body(), headers=authority)
    assert created.status_code == 201, created.text
    ballot_id = created.json()["id"]
    committee = await committee_key(hub)
    # The committee sees the authority's ballot for its estate, and cannot run it.
    assert (await client.get(f"{API}/ballots/{ballot_id}", headers=committee)).status_code == 200
    for step in ("publish", "cancel"):
        body = {"reason": "we disagree"} if step == "cancel" else None
        answer = await client.post(
            f"{API}/ballots/{ballot_id}/{step}", json=body, headers=committee
        )
        assert answer.status_code == 403, (step, answer.text)
    assert (await client.delete(f"{API}/ballots/{ballot_id}", headers=committee)).status_code == 403
    published = await client.post(f"{API}/ballots/{ballot_id}/publish", headers=authority)
    assert published.status_code == 200 and published.json()["status"] == "scheduled"
