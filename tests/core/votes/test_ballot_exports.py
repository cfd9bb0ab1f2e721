"""What votes leave behind, over the API: paper decisions (a retried form records once),
the live and the final tally, the audit list the decision can be recomputed from, the vote
log with changed votes, and the protocol in the ballot's language, only after closing."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.db import utcnow
from core.i18n import gettext
from core.runtime import Hub
from core.votes.models import Ballot, BallotVote, BallotVoter
from core.votes.protocol import AUDIT_COLUMNS, tally_from_audit
from tests.core.votes.factories import (
    DEVELOPER,
    SPOUSE,
    ballot_body,
    close_at,
    committee_key,
    open_ballot_via_api,
    owner_phone,
    reply,
    shift_open,
)

API = "/api/v1/votes"
TWO_QUESTIONS = [
    {"matter": "default", "texts": {"ru": "Построить детскую площадку?", "en": "Playground?"}},
    {"matter": "repair_fund_use", "texts": {"ru": "Заменить лифты из фонда?", "en": "Lifts?"}},
]
EVERY_PHONE = [owner_phone(b, f) for b in range(1, 6) for f in range(1, 7)] + [SPOUSE, DEVELOPER]


async def ballot_row(hub: Hub, ballot_id: int) -> Ballot:
    async with hub.session_factory() as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        return ballot


async def paper(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ballot_id: int,
    owner: str,
    choices: dict[str, str],
    reference: str,
) -> httpx.Response:
    return await client.post(
        f"{API}/ballots/{ballot_id}/paper-votes",
        json={"owner": owner, "choices": choices, "reference": reference},
        headers=headers,
    )


async def csv_rows(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Any:
    answer = await client.get(url, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    for phone in EVERY_PHONE:
        assert phone not in answer.text and phone[1:] not in answer.text, phone
    return list(csv.DictReader(io.StringIO(answer.text)))


async def test_paper_votes_count_and_a_retry_records_one_row(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)

    async def rows() -> list[tuple[str, str, str | None]]:
        async with hub.session_factory() as session:
            found = await session.execute(
                select(BallotVote.option, BallotVote.channel, BallotVote.message_ref)
                .where(BallotVote.ballot_id == ballot_id)
                .order_by(BallotVote.id)
            )
            return [tuple(r) for r in found]  # type: ignore[misc]

    first = await paper(client, headers, ballot_id, "RS-b001-3", {"1": "1"}, "P-17")
    assert first.status_code == 200, first.text
    assert first.json()["counted"] == {"1": "1"}
    again = await paper(client, headers, ballot_id, "RS-b001-3", {"1": "1"}, "P-17")
    assert again.status_code == 200
    assert await rows() == [("1", "paper", "P-17")]
    tally = (await client.get(f"{API}/ballots/{ballot_id}/tally", headers=headers)).json()
    assert tally["voted"] == 1
    assert tally["questions"][0]["options"][0]["area"] == "59.40"  # flat b001-3

    # The owner changes their mind by SMS; the paper form retried later adds nothing.
    await reply(hub, "2", sender=owner_phone(1, 3))
    await paper(client, headers, ballot_id, "RS-b001-3", {"1": "1"}, "P-17")
    assert [r[:2] for r in await rows()] == [("1", "paper"), ("2", "sms")]
    tally = (await client.get(f"{API}/ballots/{ballot_id}/tally", headers=headers)).json()
    by_code = {o["code"]: o["heads"] for o in tally["questions"][0]["options"]}
    assert (by_code["1"], by_code["2"]) == (0, 1)

    for owner, choices, words in (
        ("NOBODY", {"1": "1"}, "has no vote here"),
        ("RS-b002-1", {"1": "1"}, "has no vote here"),  # another building's owner
        ("RS-b001-4", {"2": "1"}, "question 2 has no choice 1"),
        ("RS-b001-4", {"1": "7"}, "question 1 has no choice 7"),
    ):
        refused = await paper(client, headers, ballot_id, owner, choices, "P-99")
        assert refused.status_code == 409 and words in refused.json()["detail"], refused.text
    bad_choice = await paper(client, headers, ballot_id, "RS-b001-4", {"1": "x"}, "P-98")
    assert bad_choice.status_code == 422
    assert len(await rows()) == 2
    # A ballot run by SMS only takes no paper.
    sms_only = await open_ballot_via_api(hub, client, headers, channels=["sms"])
    refused = await paper(client, headers, sms_only, "RS-b001-4", {"1": "1"}, "P-97")
    assert refused.status_code == 409 and "does not take votes by paper" in refused.text


async def test_the_tally_is_live_while_open_and_frozen_at_closing(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    answer = await client.post(f"{API}/ballots", json=ballot_body(), headers=headers)
    ballot_id = int(answer.json()["id"])
    url = f"{API}/ballots/{ballot_id}"
    await client.post(f"{url}/publish", headers=headers)
    assert (await client.get(f"{url}/tally", headers=headers)).status_code == 409
    await shift_open(hub, ballot_id)
    empty = (await client.get(f"{url}/tally", headers=headers)).json()
    assert (empty["status"], empty["final"], empty["voted"]) == ("open", False, 0)
    opened = await ballot_row(hub, ballot_id)
    # b001: six flats' owners and the spouse, 45.40 + 52.40 + … + 80.40 m².
    assert empty["voters"] == opened.voter_count == 7
    assert empty["total_area"] == "377.40"
    assert empty["questions"][0]["outcome"] == "no_quorum"
    for flat in range(1, 7):
        owner = f"RS-b001-{flat}"
        assert (await paper(client, headers, ballot_id, owner, {"1": "1"}, owner)).is_success
    live = (await client.get(f"{url}/tally", headers=headers)).json()
    assert (live["final"], live["voted"]) == (False, 6)
    # 351.20 of 377.40 m² (half of b001-2 is the spouse's) is a quorum, all agreeing.
    assert live["questions"][0]["outcome"] == "adopted"
    assert live["questions"][0]["options"][0]["area"] == "351.20"
    await close_at(hub, ballot_id, utcnow() + timedelta(days=30))
    final = (await client.get(f"{url}/tally", headers=headers)).json()
    assert (final["status"], final["final"]) == ("closed", True)
    assert final["questions"] == live["questions"]
    stored = (await ballot_row(hub, ballot_id)).results
    assert stored is not None and final["questions"] == stored["questions"]


async def test_the_audit_list_has_every_voter_and_recomputes_the_final_tally(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(
        hub, client, headers, questions=TWO_QUESTIONS, confirm_long=True
    )
    url = f"{API}/ballots/{ballot_id}"
    # b001: flat 1 45.40 m², flat 2 52.40 (half the owner's, half the spouse's), flat 3
    # 59.40, flat 4 66.40, flat 5 73.40, flat 6 80.40; 377.40 in all.
    votes = [(f"RS-b001-{f}", {"1": "1", "2": "1"}) for f in (1, 3, 4)]
    votes += [("RS-b001-5", {"1": "1", "2": "2"})]
    votes += [("RS-b001-2-spouse", {"1": "3"}), ("RS-b001-1", {"1": "2"})]
    for number, (owner, choices) in enumerate(votes):
        answer = await paper(client, headers, ballot_id, owner, choices, f"PD-{number}")
        assert answer.status_code == 200, answer.text
    sms = await reply(hub, "13 23", sender=owner_phone(1, 6))
    assert sms.replies, sms
    await close_at(hub, ballot_id, utcnow() + timedelta(days=30))
    final = (await client.get(f"{url}/tally", headers=headers)).json()
    assert final["final"] is True
    # Flats 3, 4 and 5 agree, 199.20 m² of the 351.20 taking part (all but the owner of half
    # of flat 2): adopted; the lifts need 2/3 of all 377.40 m² (251.60) and got 171.20
    # (flats 1, 3 and 4: flat 1 changed only its first answer).
    q1, q2 = final["questions"]
    assert (q1["outcome"], q1["adopted"], q2["outcome"]) == ("adopted", "1", "not_adopted")
    assert q1["options"][0]["area"] == "199.20"
    assert q2["options"][0]["area"] == "171.20"

    rows = await csv_rows(client, f"{url}/audit.csv", headers)
    assert list(rows[0]) == list(AUDIT_COLUMNS)
    async with hub.session_factory() as session:
        keys = set(
            await session.scalars(select(BallotVoter.key).where(BallotVoter.ballot_id == ballot_id))
        )
    assert len(keys) == 7 and len(rows) == 2 * len(keys)
    for position in ("1", "2"):
        assert {r["voter"] for r in rows if r["question"] == position} == keys
    by_ref = {(r["question"], r["message_id"]): r for r in rows if r["message_id"]}
    changed = by_ref[("1", f"PD-{len(votes) - 1}")]
    assert (changed["choice"], changed["choice_kind"], changed["vote_rows"]) == (
        "2",
        "against",
        "2",
    )
    assert (changed["channel"], changed["phone"], changed["area"]) == ("paper", "", "45.40")
    texted = [r for r in rows if r["channel"] == "sms"]
    # A masked phone starts with "+", which a spreadsheet would run: it is exported as text.
    assert [(r["question"], r["choice"], r["phone"]) for r in texted] == [
        ("1", "3", "'+7***06"),
        ("2", "3", "'+7***06"),
    ]
    # Only the owner of half of flat 2 did not answer question 1.
    silent = [r for r in rows if r["question"] == "1" and not r["choice"]]
    assert len(silent) == 7 - 6 and all(r["cast_at"] == "" for r in silent)

    again = tally_from_audit(rows)
    assert sorted(again) == [1, 2]
    for result in final["questions"]:
        recomputed = again[result["position"]]
        for key in ("outcome", "adopted", "quorum_met", "participation"):
            assert recomputed[key] == result[key], (result["position"], key)
        assert {o["code"]: (o["weight"], o["heads"]) for o in recomputed["options"]} == {
            o["code"]: (o["weight"], o["heads"]) for o in result["options"] if o["heads"]
        }
    # The list is the evidence: without flat 6's rows the turnout it shows is lower.
    fewer = tally_from_audit(r for r in rows if r["channel"] != "sms")
    assert fewer[1]["participation"] != final["questions"][0]["participation"]


async def test_the_vote_log_shows_a_changed_vote_as_two_rows(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)
    url = f"{API}/ballots/{ballot_id}"
    await reply(hub, "1", sender=owner_phone(1, 1))
    await reply(hub, "2", sender=owner_phone(1, 1))
    assert (await paper(client, headers, ballot_id, "RS-b001-3", {"1": "3"}, "P-5")).is_success
    # Who voted how is not shown while voting goes on.
    for listing in ("votes.csv", "audit.csv"):
        hidden = await client.get(f"{url}/{listing}", headers=headers)
        assert hidden.status_code == 409 and "once it closes" in hidden.text
    await close_at(hub, ballot_id, utcnow() + timedelta(days=30))
    log = await csv_rows(client, f"{url}/votes.csv", headers)
    assert [(r["question"], r["choice"], r["channel"], r["phone"]) for r in log] == [
        ("1", "1", "sms", "'+7***01"),
        ("1", "2", "sms", "'+7***01"),
        ("1", "3", "paper", ""),
    ]
    assert log[0]["voter"] == log[1]["voter"] != log[2]["voter"]
    assert log[2]["message_id"] == "P-5" and log[2]["recorded_by"].startswith("apikey:")
    audit = await csv_rows(client, f"{url}/audit.csv", headers)
    mine = next(r for r in audit if r["voter"] == log[0]["voter"])
    assert (mine["choice"], mine["vote_rows"], mine["phone"]) == ("2", "2", "'+7***01")


CHINESE = {
    "rule_set": "cn-civil-code",
    "language": "zh",
    "questions": [{"matter": "other", "texts": {"zh": "建儿童游乐场？", "en": "Playground?"}}],
}


@pytest.mark.parametrize(
    ("overrides", "heading", "title", "choice"),
    [
        ({}, "Вопрос", "Протокол голосования собственников №{}", "1 За"),
        (CHINESE, "问题", "业主投票#{}表决记录", "1 同意"),
    ],
    ids=["russian", "chinese"],
)
async def test_the_protocol_is_in_the_ballot_language_once_it_closes(
    hub: Hub,
    client: httpx.AsyncClient,
    overrides: dict[str, Any],
    heading: str,
    title: str,
    choice: str,
) -> None:
    headers = await committee_key(hub)
    start = utcnow().replace(microsecond=0)
    body = ballot_body(**overrides)
    if overrides:  # China: owners are told 15 days ahead
        body["opens_at"] = (start + timedelta(days=17)).isoformat()
        body["closes_at"] = (start + timedelta(days=27)).isoformat()
    created = await client.post(f"{API}/ballots", json=body, headers=headers)
    assert created.status_code == 201, created.text
    ballot_id = int(created.json()["id"])
    url = f"{API}/ballots/{ballot_id}"
    await client.post(f"{url}/publish", headers=headers)
    for export in ("tally", "audit.csv", "votes.csv", "protocol.csv", "protocol.html"):
        early = await client.get(f"{url}/{export}", headers=headers)
        assert early.status_code == 409, (export, early.text)
    await shift_open(hub, ballot_id)
    for export in ("protocol.csv", "protocol.html"):
        early = await client.get(f"{url}/{export}", headers=headers)
        assert early.status_code == 409 and "until it closes" in early.json()["detail"]
    assert (await paper(client, headers, ballot_id, "RS-b001-3", {"1": "1"}, "P-1")).is_success
    closed = await client.post(f"{url}/close", json={"reason": "Enough"}, headers=headers)
    assert closed.status_code == 200, closed.text

    table = await client.get(f"{url}/protocol.csv", headers=headers)
    assert table.status_code == 200, table.text
    rows = list(csv.reader(io.StringIO(table.text)))
    lang = body["language"]
    names = ("Question", "Text", "Choice", "Area, m²", "Share of area, %", "Owners", "Outcome")
    assert rows[0] == [gettext(lang, name) for name in names]
    assert rows[0][0] == heading
    question = body["questions"][0]["texts"][lang]
    assert [r[:3] for r in rows[1:]][0] == ["1", question, choice]
    assert len(rows) == 1 + 3 and rows[1][3] == "59.40"  # flat b001-3
    page = await client.get(f"{url}/protocol.html", headers=headers)
    assert page.status_code == 200, page.text
    assert f'<html lang="{lang}">' in page.text
    assert title.format(ballot_id) in page.text and question in page.text
    assert gettext(lang, "Decisions") in page.text and "Decisions" not in page.text
    ballot = await ballot_row(hub, ballot_id)
    assert ballot.electorate_digest and ballot.electorate_digest in page.text
