"""An owner's SMS reply to an open ballot, through intake: the receipt in their language,
a changed vote, first-counts ballots, unclear replies, the details, strangers, replies too
early or too late, provider retries, several open ballots, and a complaint waiting for a
yes or no at the same time."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.complaints.enums import Stage
from core.db import utcnow
from core.intake import service as intake
from core.outbox.models import OutboxMessage
from core.runtime import Hub
from core.votes import notify
from core.votes.models import Ballot, BallotVote
from tests.core.complaints.factories import company_key, complain, complaint_of
from tests.core.votes.factories import (
    ballot_body,
    chinese_estate,
    close_at,
    committee_key,
    open_ballot_via_api,
    owner_phone,
    reply,
)
from tests.factories import inbound

API = "/api/v1/votes"
EN_OWNER = owner_phone(1, 1)  # the demo owners of b001 read en, zh, ru by flat
ZH_OWNER = owner_phone(1, 2)
RU_OWNER = owner_phone(1, 3)
STRANGER = "+79009999999"


async def votes_of(hub: Hub, ballot_id: int) -> list[BallotVote]:
    """Returns a ballot's vote rows in the order they were cast."""
    async with hub.session_factory() as session:
        return list(
            await session.scalars(
                select(BallotVote).where(BallotVote.ballot_id == ballot_id).order_by(BallotVote.id)
            )
        )


async def counted(
    client: httpx.AsyncClient, headers: dict[str, str], ballot_id: int, position: int = 1
) -> dict[str, int]:
    """Returns the heads counted per option of a question, from the tally API."""
    response = await client.get(f"{API}/ballots/{ballot_id}/tally", headers=headers)
    assert response.status_code == 200, response.text
    question = next(q for q in response.json()["questions"] if q["position"] == position)
    return {o["code"]: int(o["heads"]) for o in question["options"]}


def names(text: str, ballot_id: int) -> bool:
    """Whether a reply names the ballot (#12 in English and Chinese, №12 in Russian)."""
    return re.search(rf"[#№]{ballot_id}\b", text) is not None


async def only_reply(hub: Hub, text: str, sender: str) -> str:
    result = await reply(hub, text, sender=sender)
    [answer] = result.replies
    return answer.text


async def create_and_publish(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> int:
    created = await client.post(f"{API}/ballots", json=ballot_body(**overrides), headers=headers)
    assert created.status_code == 201, created.text
    ballot_id = int(created.json()["id"])
    published = await client.post(f"{API}/ballots/{ballot_id}/publish", headers=headers)
    assert published.status_code == 200, published.text
    return ballot_id


TWO_QUESTIONS = [
    {
        "matter": "default",
        "texts": {"en": "Build a playground?", "ru": "Построить площадку?", "zh": "建游乐场？"},
    },
    {
        "matter": "default",
        "texts": {"en": "Paint the fence?", "ru": "Покрасить забор?", "zh": "粉刷围栏？"},
    },
]
LIFT_TITLES = {"en": "Lift repair", "ru": "Ремонт лифта", "zh": "电梯维修"}


async def test_a_reply_gets_a_receipt_in_the_owners_language(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)

    en = await reply(hub, "1", sender=EN_OWNER)
    zh = await reply(hub, "１", sender=ZH_OWNER)
    ru = await reply(hub, "1", sender=RU_OWNER)

    assert en.replies[0].language == "en"
    assert en.replies[0].text.startswith(f"Vote #{ballot_id}: your answer is recorded (Agree).")
    assert "You can change it by replying again until" in en.replies[0].text
    assert zh.replies[0].language == "zh"
    assert zh.replies[0].text.startswith(f"投票#{ballot_id}：您的选择已记录（同意）")
    assert ru.replies[0].language == "ru"
    assert ru.replies[0].text.startswith(f"Голосование №{ballot_id}: ваш ответ учтён (За).")
    assert en.ticket_id is None and zh.ticket_id is None and ru.ticket_id is None
    rows = await votes_of(hub, ballot_id)
    assert [(r.address, r.option, r.channel) for r in rows] == [
        (EN_OWNER, "1", "sms"),
        (ZH_OWNER, "1", "sms"),
        (RU_OWNER, "1", "sms"),
    ]
    assert len({r.voter_id for r in rows}) == 3
    assert rows[0].inbound_id == en.inbound_id and rows[0].recorded_by == "resident"
    assert await counted(client, headers, ballot_id) == {"1": 3, "2": 0, "3": 0}


@pytest.mark.parametrize(
    ("text", "sender", "option"),
    [
        ("да", RU_OWNER, "1"),
        ("Не согласен", RU_OWNER, "2"),
        ("同意", ZH_OWNER, "1"),
        ("不同意", ZH_OWNER, "2"),
        ("yes", EN_OWNER, "1"),
        ("No", EN_OWNER, "2"),
        (" 3 ", EN_OWNER, "3"),
        ("一", ZH_OWNER, "1"),
    ],
)
async def test_words_and_odd_digits_are_votes(
    hub: Hub, client: httpx.AsyncClient, text: str, sender: str, option: str
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)

    result = await reply(hub, text, sender=sender)

    assert result.ticket_id is None
    assert names(result.replies[0].text, ballot_id)
    assert [(r.address, r.option) for r in await votes_of(hub, ballot_id)] == [(sender, option)]


async def test_a_later_reply_changes_the_vote_and_only_the_last_counts(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)

    await reply(hub, "1", sender=EN_OWNER)
    changed = await only_reply(hub, "2", EN_OWNER)

    assert changed.startswith(f"Vote #{ballot_id}: your answer is changed to Disagree;")
    assert "the earlier one no longer counts" in changed
    rows = await votes_of(hub, ballot_id)
    assert [r.option for r in rows] == ["1", "2"]  # both kept: the rows are only added to
    assert rows[0].voter_id == rows[1].voter_id
    assert await counted(client, headers, ballot_id) == {"1": 0, "2": 1, "3": 0}

    # The same answer again is a receipt, not another row.
    again = await only_reply(hub, "2", EN_OWNER)
    assert "your answer is recorded (Disagree)" in again
    assert len(await votes_of(hub, ballot_id)) == 2
    tally = (await client.get(f"{API}/ballots/{ballot_id}/tally", headers=headers)).json()
    assert tally["voted"] == 1


async def test_under_first_counts_a_later_reply_is_refused_and_the_first_stands(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers, count_policy="first")

    first = await only_reply(hub, "1", EN_OWNER)
    later = await only_reply(hub, "2", EN_OWNER)

    assert first.startswith(f"Vote #{ballot_id}: your answer is recorded (Agree).")
    assert "the first answer counts and cannot be changed" in first
    assert later.startswith(f"Vote #{ballot_id}: your first answer stands (Agree)")
    assert [r.option for r in await votes_of(hub, ballot_id)] == ["1"]
    assert await counted(client, headers, ballot_id) == {"1": 1, "2": 0, "3": 0}


@pytest.mark.parametrize("text", ["1 2", "4", "21", "да нет", "1 да 2 нет"])
async def test_an_unclear_reply_is_asked_again_and_records_nothing(
    hub: Hub, client: httpx.AsyncClient, text: str
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)

    result = await reply(hub, text, sender=EN_OWNER)

    [answer] = result.replies
    assert result.ticket_id is None
    assert names(answer.text, ballot_id)
    if answer.language == "en":
        assert "we could not read your answer, so nothing was recorded" in answer.text
        assert "Reply with the number of your choice: 1 Agree, 2 Disagree, 3 Abstain." in (
            answer.text
        )
    else:
        assert "мы не смогли понять ответ, ничего не записано" in answer.text
        assert "1 За, 2 Против, 3 Воздержался" in answer.text
    assert await votes_of(hub, ballot_id) == []


async def test_zero_sends_the_full_text_and_records_nothing(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    details = {
        "en": "The playground would stand by building 3; quotes are with the committee.",
        "ru": "Площадка будет у дома 3; сметы у совета дома.",
    }
    ballot_id = await open_ballot_via_api(hub, client, headers, details=details)

    en = await only_reply(hub, "0", EN_OWNER)
    zh = await only_reply(hub, "０", ZH_OWNER)

    assert en.startswith(f"Vote #{ballot_id}: Playground")
    assert details["en"] in en
    assert "1. Build a playground? (1 Agree, 2 Disagree, 3 Abstain)" in en
    # No Chinese details were written: the ballot's own language stands in.
    assert zh.startswith(f"投票#{ballot_id}：儿童游乐场")
    assert details["ru"] in zh and "建儿童游乐场？" in zh and "1 同意" in zh
    assert await votes_of(hub, ballot_id) == []


@pytest.mark.parametrize("sender", [STRANGER, owner_phone(6, 1)])
async def test_a_number_not_on_the_register_is_refused_politely(
    hub: Hub, client: httpx.AsyncClient, sender: str
) -> None:
    # owner_phone(6, 1) is a known resident of b006, outside the ballot's estate.
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)

    result = await reply(hub, "1", sender=sender)

    [answer] = result.replies
    assert result.ticket_id is None
    if answer.language == "en":
        assert "not in the owners' register for an open vote" in answer.text
        assert "ask your owners' committee" in answer.text
    else:
        assert "нет в реестре собственников" in answer.text or "不在" in answer.text
    assert await votes_of(hub, ballot_id) == []


async def test_a_reply_after_closing_is_refused_and_the_result_stands(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)
    await reply(hub, "1", sender=EN_OWNER)
    closing = utcnow() + timedelta(days=30)
    assert await close_at(hub, ballot_id, closing)

    late = await only_reply(hub, "2", EN_OWNER)
    late_new = await only_reply(hub, "1", RU_OWNER)

    assert late.startswith(f"Vote #{ballot_id} (Playground) closed on")
    assert late.endswith("your reply was not counted.")
    assert notify.when(closing, "en", hub.settings.timezone) in late
    assert late_new.startswith(f"Голосование №{ballot_id} (Детская площадка) закрыто")
    assert [(r.address, r.option) for r in await votes_of(hub, ballot_id)] == [(EN_OWNER, "1")]
    tally = (await client.get(f"{API}/ballots/{ballot_id}/tally", headers=headers)).json()
    assert tally["final"] is True and tally["voted"] == 1


async def test_a_reply_before_opening_says_when_voting_opens(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await create_and_publish(client, headers)
    async with hub.session_factory() as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        opens = notify.when(ballot.opens_at, "en", hub.settings.timezone)

    answer = await only_reply(hub, "1", EN_OWNER)

    assert answer == (
        f"Vote #{ballot_id} (Playground) opens on {opens}; the questions will come by SMS then."
    )
    assert await votes_of(hub, ballot_id) == []


async def test_a_provider_retry_never_records_a_second_vote(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)

    first = await intake.receive(hub=hub, message=inbound("1", sender=EN_OWNER, provider_id="p-1"))
    retry = await intake.receive(hub=hub, message=inbound("1", sender=EN_OWNER, provider_id="p-1"))

    assert not first.duplicate and retry.duplicate
    assert retry.inbound_id == first.inbound_id
    assert [r.text for r in retry.replies] == [r.text for r in first.replies]
    rows = await votes_of(hub, ballot_id)
    assert len(rows) == 1 and rows[0].message_ref == "p-1"

    # A changed vote retried: one more row, not two; the change still counts.
    await intake.receive(hub=hub, message=inbound("2", sender=EN_OWNER, provider_id="p-2"))
    await intake.receive(hub=hub, message=inbound("2", sender=EN_OWNER, provider_id="p-2"))
    assert [r.option for r in await votes_of(hub, ballot_id)] == ["1", "2"]
    assert await counted(client, headers, ballot_id) == {"1": 0, "2": 1, "3": 0}


async def _estate_and_building_ballots(
    hub: Hub, client: httpx.AsyncClient, headers: dict[str, str]
) -> tuple[int, int]:
    # Under Chinese rules both an estate's and a building's assembly can be called.
    estate_id = await open_ballot_via_api(hub, client, headers, **chinese_estate())
    building_id = await open_ballot_via_api(
        hub,
        client,
        headers,
        **chinese_estate(scope="building", building="b001", estate=None, titles=LIFT_TITLES),
    )
    return estate_id, building_id


async def test_two_open_ballots_ask_which_and_a_prefix_picks_one(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    estate_id, building_id = await _estate_and_building_ballots(hub, client, headers)

    which = await only_reply(hub, "1", EN_OWNER)

    assert which.startswith("You have several open votes:")
    assert f"#{estate_id} Playground" in which and f"#{building_id} Lift repair" in which
    assert f"e.g. #{estate_id} 1" in which
    assert await votes_of(hub, estate_id) == [] and await votes_of(hub, building_id) == []

    building_vote = await only_reply(hub, f"#{building_id} 2", EN_OWNER)
    estate_vote = await only_reply(hub, f"#{estate_id} 1", EN_OWNER)

    assert building_vote.startswith(f"Vote #{building_id}: your answer is recorded (Disagree)")
    assert estate_vote.startswith(f"Vote #{estate_id}: your answer is recorded (Agree)")
    assert [r.option for r in await votes_of(hub, building_id)] == ["2"]
    assert [r.option for r in await votes_of(hub, estate_id)] == ["1"]
    # An owner in b002 has only the estate's ballot: no number needed.
    other = await only_reply(hub, "3", owner_phone(2, 3))
    assert other.startswith(f"Vote #{estate_id}: your answer is recorded (Abstain)")


async def test_the_numero_sign_picks_a_ballot_too(hub: Hub, client: httpx.AsyncClient) -> None:
    headers = await committee_key(hub)
    _estate_id, building_id = await _estate_and_building_ballots(hub, client, headers)

    answer = await only_reply(hub, f"№{building_id} 1", RU_OWNER)

    assert [r.option for r in await votes_of(hub, building_id)] == ["1"], answer


async def test_a_prefix_naming_a_ballot_the_owner_is_not_in_records_nothing(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    estate_id, building_id = await _estate_and_building_ballots(hub, client, headers)

    answer = await only_reply(hub, f"#{building_id} 1", owner_phone(2, 3))
    assert answer == "There is no open vote for this number at the moment."
    assert await votes_of(hub, building_id) == [] and await votes_of(hub, estate_id) == []


async def test_yes_goes_to_a_waiting_complaint_and_a_digit_to_the_ballot(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    owner = RU_OWNER
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)
    complaint = await complain(hub, "Не работает лифт", sender=owner)
    answered = await client.post(
        f"/api/v1/complaints/complaints/{complaint.ticket_number}/answer",
        json={"text": "Починили."},
        headers=await company_key(hub, "uyut"),
    )
    assert answered.status_code == 200 and answered.json()["status"] == "on_hold"

    vote = await reply(hub, "1", sender=owner)

    assert vote.ticket_id is None
    assert names(vote.replies[0].text, ballot_id)
    assert [(r.address, r.option) for r in await votes_of(hub, ballot_id)] == [(owner, "1")]
    _, waiting = await complaint_of(hub, complaint.ticket_id)
    assert waiting.stage == Stage.ANSWERED and waiting.verdict is None

    verdict = await reply(hub, "да", sender=owner)

    assert verdict.ticket_id == complaint.ticket_id
    _, solved = await complaint_of(hub, complaint.ticket_id)
    assert solved.stage == Stage.RESOLVED and solved.verdict == "confirmed"
    # The "да" was the complaint's: the ballot still holds the one vote.
    assert [r.option for r in await votes_of(hub, ballot_id)] == ["1"]


async def test_a_complaint_text_while_a_ballot_is_open_is_a_complaint(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)

    result = await complain(hub, "Нет, лифт опять стоит", sender=RU_OWNER)

    assert result.ticket_id is not None
    assert await votes_of(hub, ballot_id) == []


async def test_several_questions_take_per_question_codes(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(
        hub, client, headers, questions=TWO_QUESTIONS, confirm_long=True
    )

    partial = await only_reply(hub, "11", EN_OWNER)
    rest = await only_reply(hub, "2-3", EN_OWNER)
    changed = await only_reply(hub, "1-2, 2-3", EN_OWNER)
    word_alone = await only_reply(hub, "yes", EN_OWNER)

    assert partial.startswith(f"Vote #{ballot_id}: your answer is recorded (Q1. Agree).")
    assert "Not yet answered: question 2." in partial
    assert rest.startswith(f"Vote #{ballot_id}: your answer is recorded (Q2. Abstain).")
    assert changed.startswith(f"Vote #{ballot_id}: your answer is changed to Q1. Disagree;")
    assert "we could not read your answer" in word_alone
    assert "e.g. 11 21 means question 1 choice 1" in word_alone
    rows = await votes_of(hub, ballot_id)
    # Question 2 answered 3 twice: one row for it; question 1 changed: two rows.
    assert sorted(r.option for r in rows) == ["1", "2", "3"]
    assert await counted(client, headers, ballot_id, 1) == {"1": 0, "2": 1, "3": 0}
    assert await counted(client, headers, ballot_id, 2) == {"1": 0, "2": 0, "3": 1}


async def test_the_receipt_does_not_call_an_answered_question_unanswered(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    await open_ballot_via_api(hub, client, headers, questions=TWO_QUESTIONS, confirm_long=True)
    await reply(hub, "11", sender=EN_OWNER)

    rest = await only_reply(hub, "23", EN_OWNER)

    assert "Not yet answered" not in rest


async def test_under_first_counts_a_new_answer_beside_a_kept_one_gets_a_receipt(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(
        hub, client, headers, questions=TWO_QUESTIONS, confirm_long=True, count_policy="first"
    )
    await reply(hub, "11", sender=EN_OWNER)

    result = await reply(hub, "12 21", sender=EN_OWNER)
    # Two receipts: question 2 recorded now, question 1's first answer kept.
    assert len(result.replies) == 2
    answer = " ".join(r.text for r in result.replies)

    # Question 2 was recorded just now; the owner must be told so.
    assert await counted(client, headers, ballot_id, 2) == {"1": 1, "2": 0, "3": 0}
    assert "your first answer stands (Q1. Agree)" in answer
    assert "Q2. Agree" in answer


async def test_an_owner_who_writes_english_gets_the_ballot_in_english(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    # The register says this owner reads Chinese; they wrote to the hub in English since.
    await reply(hub, "Hello, when is the meeting of the owners?", sender=ZH_OWNER)
    headers = await committee_key(hub)

    ballot_id = await open_ballot_via_api(hub, client, headers)

    async with hub.session_factory() as session:
        language = await session.scalar(
            select(OutboxMessage.language).where(
                OutboxMessage.address == ZH_OWNER,
                OutboxMessage.kind == "notice",
                OutboxMessage.text.contains(f"#{ballot_id}"),
            )
        )
    assert language == "en"
