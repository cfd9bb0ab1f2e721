"""Which phones speak for which owners in an SMS ballot: joint owners, one number for two
owners, the ballot's SMS blast at opening, and a changed number that must be confirmed (by
staff who saw documents, or by the PIN on the owner's own bill) before it votes."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select, update

from core.auth.enums import Role
from core.billing.identity import set_pin
from core.db import transaction, utcnow
from core.importing.service import ImportOptions
from core.imports import import_text
from core.notices.models import Notice
from core.outbox.models import OutboxMessage
from core.residents.models import AccountContact, Contact
from core.runtime import Hub
from core.territory.models import Account, Building, Premises
from core.votes.enums import PhoneStatus
from core.votes.jobs import run_ballots
from core.votes.models import Ballot, BallotVote, BallotVoter, Owner, OwnerPhone
from tests.conftest import SECRET
from tests.core.votes.factories import (
    SPOUSE,
    ballot_body,
    committee_key,
    open_ballot_via_api,
    owner_phone,
    reply,
    shift_open,
)
from tests.factories import api_key

API = "/api/v1/votes"
NEW_PHONE = "+79003330001"
PIN = "4321"
COLUMNS = "building,premises,area,owner,owner_kind,owner_name,share,phones"


def demo_language(building: int, flat: int) -> str:
    """Returns the language the demo city gives the owner of a flat."""
    return ("ru", "en", "zh")[(building - 1 + flat) % 3]


async def votes_of(hub: Hub, ballot_id: int) -> list[BallotVote]:
    async with hub.session_factory() as session:
        return list(
            await session.scalars(
                select(BallotVote).where(BallotVote.ballot_id == ballot_id).order_by(BallotVote.id)
            )
        )


async def tally_question(
    client: httpx.AsyncClient, headers: dict[str, str], ballot_id: int
) -> dict[str, Any]:
    response = await client.get(f"{API}/ballots/{ballot_id}/tally", headers=headers)
    assert response.status_code == 200, response.text
    question: dict[str, Any] = response.json()["questions"][0]
    return question


async def only_reply(hub: Hub, text: str, sender: str) -> str:
    result = await reply(hub, text, sender=sender)
    assert result.ticket_id is None
    [answer] = result.replies
    return answer.text


async def flat_area(hub: Hub, building: str, flat: str) -> Decimal:
    async with hub.session_factory() as session:
        area = await session.scalar(
            select(Premises.area)
            .join(Building, Building.id == Premises.building_id)
            .where(Building.code == building, Premises.number == flat)
        )
    assert area is not None
    return Decimal(area)


async def import_owners(hub: Hub, rows: list[tuple[str, ...]]) -> None:
    """Imports owner register rows (building, flat, owner code, share, phones), the flat's
    area as it is."""
    lines = [COLUMNS]
    for building, flat, code, share, phones in rows:
        area = await flat_area(hub, building, flat)
        lines.append(f"{building},{flat},{area},{code},person,,{share},{phones}")
    async with transaction(hub.session_factory) as session:
        await import_text(
            db_session=session,
            what="owners",
            text="\n".join(lines) + "\n",
            fmt="csv",
            options=ImportOptions(region="RU"),
        )


async def phone_row(hub: Hub, owner_code: str, phone: str) -> OwnerPhone | None:
    async with hub.session_factory() as session:
        return await session.scalar(
            select(OwnerPhone)
            .join(Owner, Owner.id == OwnerPhone.owner_id)
            .where(Owner.code == owner_code, OwnerPhone.phone == phone)
        )


async def give_pin(hub: Hub, building: str, flat: str) -> str:
    """Sets a PIN on the account of a flat (as the settlement centre prints it on the bill);
    returns the account number."""
    async with transaction(hub.session_factory) as session:
        account = await session.scalar(
            select(Account)
            .join(Premises, Premises.id == Account.premises_id)
            .join(Building, Building.id == Premises.building_id)
            .where(Building.code == building, Premises.number == flat)
        )
        assert account is not None
        await set_pin(db_session=session, account=account, pin=PIN, secret=SECRET)
        return account.number


async def test_joint_owners_each_vote_their_own_share(hub: Hub, client: httpx.AsyncClient) -> None:
    # b001 flat 2 is owned half each by the demo owner and a spouse with their own phone.
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)

    spouse = await only_reply(hub, "１", SPOUSE)
    partial = await tally_question(client, headers, ballot_id)
    owner = await only_reply(hub, "2", owner_phone(1, 2))

    assert re.search(rf"[#№]{ballot_id}\b", spouse) and re.search(rf"[#№]{ballot_id}\b", owner)
    half = (await flat_area(hub, "b001", "2") / 2).quantize(Decimal("0.01"))
    options = {o["code"]: o for o in partial["options"]}
    assert options["1"]["heads"] == 1 and Decimal(options["1"]["area"]) == half
    assert options["2"]["heads"] == 0  # the spouse's reply does not vote for the co-owner
    rows = await votes_of(hub, ballot_id)
    assert [(r.address, r.option) for r in rows] == [(SPOUSE, "1"), (owner_phone(1, 2), "2")]
    assert rows[0].voter_id != rows[1].voter_id
    options = {o["code"]: o for o in (await tally_question(client, headers, ballot_id))["options"]}
    assert options["1"]["heads"] == 1 and Decimal(options["1"]["area"]) == half
    assert options["2"]["heads"] == 1 and Decimal(options["2"]["area"]) == half


async def test_a_number_registered_for_two_owners_votes_for_both(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    # The register now lists b001 flat 1 half each for its owner and a partner who gave
    # the same (landline-like) number.
    number = owner_phone(1, 1)
    await import_owners(
        hub,
        [
            ("b001", "1", "RS-b001-1", "1/2", number),
            ("b001", "1", "RS-b001-1-partner", "1/2", number),
        ],
    )
    partner_phone = await phone_row(hub, "RS-b001-1-partner", number)
    assert partner_phone is not None and partner_phone.status == PhoneStatus.VERIFIED
    headers = await committee_key(hub)
    created = await client.post(f"{API}/ballots", json=ballot_body(), headers=headers)
    ballot_id = int(created.json()["id"])
    await client.post(f"{API}/ballots/{ballot_id}/publish", headers=headers)
    blast = await shift_open(hub, ballot_id)

    async with hub.session_factory() as session:
        sent_to = list(
            await session.scalars(select(OutboxMessage.address).where(OutboxMessage.id.in_(blast)))
        )
    assert sent_to.count(number) == 1  # one SMS per phone, however many owners it has

    receipt = await only_reply(hub, "1", number)

    assert receipt.startswith(f"Vote #{ballot_id}: your answer is recorded (Agree).")
    assert receipt.endswith("Counted for 2 owners of this number.")
    rows = await votes_of(hub, ballot_id)
    assert len(rows) == 2 and len({r.voter_id for r in rows}) == 2
    assert {r.option for r in rows} == {"1"}
    options = {o["code"]: o for o in (await tally_question(client, headers, ballot_id))["options"]}
    assert options["1"]["heads"] == 2
    assert Decimal(options["1"]["area"]) == await flat_area(hub, "b001", "1")

    # Changing it changes both owners' votes.
    changed = await only_reply(hub, "3", number)
    assert "changed to Abstain" in changed and "Counted for 2 owners" in changed
    options = {o["code"]: o for o in (await tally_question(client, headers, ballot_id))["options"]}
    assert options["1"]["heads"] == 0 and options["3"]["heads"] == 2


async def _make_due(hub: Hub, ballot_id: int) -> None:
    """Moves a published ballot's dates so it opened a minute ago, as announced already."""
    now = utcnow()
    async with transaction(hub.session_factory) as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        delta = ballot.opens_at - (now - timedelta(minutes=1))
        await session.execute(
            update(Ballot)
            .where(Ballot.id == ballot_id)
            .values(
                notice_at=ballot.notice_at - delta,
                opens_at=ballot.opens_at - delta,
                closes_at=ballot.closes_at - delta,
                announced_at=now,
            )
        )


QUESTION = {
    "en": "Build a playground?",
    "ru": "Построить детскую площадку?",
    "zh": "建儿童游乐场？",
}
HOW_TO_REPLY = {
    "en": "Reply 1 Agree, 2 Disagree, 3 Abstain.",
    "ru": "Ответьте: 1 За, 2 Против, 3 Воздержался.",
    "zh": "请回复：1 同意, 2 不同意, 3 弃权。",
}


async def test_the_sms_ballot_goes_once_to_each_verified_phone_in_its_language(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    # In b001, the ballot's building: flat 4 sent STOP; flat 6 reads Chinese now, whatever
    # the resident's language (Russian); flat 3 changed numbers, and the new one is not
    # confirmed yet.
    stopped, switched, changed = owner_phone(1, 4), owner_phone(1, 6), owner_phone(1, 3)
    await reply(hub, "STOP", sender=stopped)
    async with transaction(hub.session_factory) as session:
        await session.execute(
            update(Contact).where(Contact.value == switched).values(language="zh")
        )
    await import_owners(hub, [("b001", "3", "RS-b001-3", "1", NEW_PHONE)])
    created = await client.post(f"{API}/ballots", json=ballot_body(), headers=headers)
    ballot_id = int(created.json()["id"])
    published = await client.post(f"{API}/ballots/{ballot_id}/publish", headers=headers)
    assert published.status_code == 200, published.text
    await _make_due(hub, ballot_id)

    assert await run_ballots({"hub": hub}) == 1

    async with hub.session_factory() as session:
        # This ballot's notices only: the demo city has a ballot of its own open already.
        rows = list(
            await session.scalars(
                select(OutboxMessage)
                .join(Notice, Notice.id == OutboxMessage.notice_id)
                .where(
                    OutboxMessage.kind == "notice",
                    Notice.scope_kind == "ballot",
                    Notice.scope_id == ballot_id,
                )
                .order_by(OutboxMessage.id)
            )
        )
        notice = await session.get(Notice, rows[0].notice_id)
        ballot = await session.get(Ballot, ballot_id)
    assert ballot is not None and ballot.status == "open"
    assert notice is not None and notice.scope_kind == "ballot" and notice.scope_id == ballot_id
    expected = {
        owner_phone(1, f): demo_language(1, f)
        for f in range(1, 7)
        if owner_phone(1, f) not in (stopped, changed)
    }
    assert expected[switched] == "ru"
    expected[switched] = "zh"
    by_phone = {row.address: row for row in rows}
    assert len(rows) == len(by_phone)  # each phone once
    assert set(by_phone) == {*expected, SPOUSE}
    assert notice.recipients == len(rows)
    for phone, row in by_phone.items():
        language = expected.get(phone, row.language)
        assert row.language == language, phone
        assert row.notice_id == notice.id and row.status == "pending"
        assert QUESTION[language] in row.text and HOW_TO_REPLY[language] in row.text
        assert f"{ballot_id}" in row.text
        assert await hub.bulk_queue.job(f"outbox:{row.id}") is not None
        assert await hub.queue.job(f"outbox:{row.id}") is None
    assert "Reply 0 for details." in by_phone[owner_phone(1, 1)].text

    # The opening step runs once: a repeated run sends nothing more.
    await run_ballots({"hub": hub})
    async with hub.session_factory() as session:
        again = await session.scalars(
            select(OutboxMessage.id)
            .join(Notice, Notice.id == OutboxMessage.notice_id)
            .where(OutboxMessage.kind == "notice", Notice.scope_id == ballot_id)
        )
        assert len(list(again)) == len(rows)


async def test_several_questions_are_sent_with_per_question_codes(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    questions = [
        {"matter": "default", "texts": {"en": "Build a playground?", "ru": "Площадка?"}},
        {"matter": "default", "texts": {"en": "Paint the fence?", "ru": "Забор?"}},
    ]
    ballot_id = await open_ballot_via_api(
        hub, client, headers, questions=questions, confirm_long=True
    )

    async with hub.session_factory() as session:
        text = await session.scalar(
            select(OutboxMessage.text).where(
                OutboxMessage.kind == "notice", OutboxMessage.address == owner_phone(1, 1)
            )
        )
    assert text is not None
    assert f"Owners' vote #{ballot_id}" in text
    assert "Q1. Build a playground?" in text and "Q2. Paint the fence?" in text
    assert "Choices: 1 Agree, 2 Disagree, 3 Abstain." in text
    assert "Reply question and choice numbers, e.g. 11 22." in text


async def _change_phone_of_b001_1(hub: Hub) -> None:
    await import_owners(hub, [("b001", "1", "RS-b001-1", "1", NEW_PHONE)])


async def test_a_changed_number_votes_only_after_staff_confirm_it(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)
    await _change_phone_of_b001_1(hub)
    pending = await phone_row(hub, "RS-b001-1", NEW_PHONE)
    assert pending is not None and pending.status == PhoneStatus.PENDING
    assert await phone_row(hub, "RS-b001-1", owner_phone(1, 1)) is None

    refused = await only_reply(hub, "1", NEW_PHONE)
    old = await only_reply(hub, "1", owner_phone(1, 1))

    assert refused.startswith(f"Vote #{ballot_id}: this number was changed")
    assert "must be confirmed before it can vote" in refused
    assert "not in the owners' register" in old
    assert await votes_of(hub, ballot_id) == []

    # The committee is a party to its votes: confirming numbers is the authority's.
    body = {"phone": NEW_PHONE, "reference": "passport seen"}
    url = f"{API}/owners/RS-b001-1/phones/confirm"
    assert (await client.post(url, json=body, headers=headers)).status_code == 403
    headers = await api_key(hub, Role.SUPERVISOR)
    confirmed = await client.post(url, json=body, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    [phone] = confirmed.json()["phones"]
    assert phone["status"] == "verified" and phone["verified_by"].startswith("apikey:")
    stored = await phone_row(hub, "RS-b001-1", NEW_PHONE)
    assert stored is not None and stored.reference == "passport seen"
    twice = await client.post(
        f"{API}/owners/RS-b001-1/phones/confirm",
        json={"phone": NEW_PHONE, "reference": "passport seen"},
        headers=headers,
    )
    assert twice.status_code == 409

    receipt = await only_reply(hub, "1", NEW_PHONE)

    assert receipt.startswith(f"Vote #{ballot_id}: your answer is recorded (Agree).")
    [row] = await votes_of(hub, ballot_id)
    assert row.address == NEW_PHONE and row.option == "1"
    async with hub.session_factory() as session:
        voter = await session.get(BallotVoter, row.voter_id)
    assert voter is not None and "b001 1" in voter.units


async def test_a_changed_number_is_confirmed_by_the_pin_on_the_owners_bill(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)
    account = await give_pin(hub, "b001", "1")
    await _change_phone_of_b001_1(hub)
    assert "must be confirmed" in await only_reply(hub, "1", NEW_PHONE)

    await reply(hub, f"ACCOUNT {account} {PIN}", sender=NEW_PHONE)
    receipt = await only_reply(hub, "1", NEW_PHONE)

    assert receipt.startswith(f"Vote #{ballot_id}: your answer is recorded (Agree).")
    assert [(r.address, r.option) for r in await votes_of(hub, ballot_id)] == [(NEW_PHONE, "1")]
    stored = await phone_row(hub, "RS-b001-1", NEW_PHONE)
    assert stored is not None and stored.status == PhoneStatus.VERIFIED
    assert stored.verified_by == "account_pin"


async def test_the_pin_of_another_owners_bill_does_not_confirm_a_number(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)
    account = await give_pin(hub, "b002", "1")
    await _change_phone_of_b001_1(hub)

    await reply(hub, f"ACCOUNT {account} {PIN}", sender=NEW_PHONE)
    answer = await only_reply(hub, "1", NEW_PHONE)

    async with hub.session_factory() as session:
        linked = await session.scalar(select(AccountContact.id))
    assert linked is not None  # the PIN was right, for b002's bill
    assert "must be confirmed" in answer
    assert await votes_of(hub, ballot_id) == []
    stored = await phone_row(hub, "RS-b001-1", NEW_PHONE)
    assert stored is not None and stored.status == PhoneStatus.PENDING


async def test_a_pin_proven_before_the_number_was_added_does_not_confirm_it(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)
    account = await give_pin(hub, "b001", "1")
    # Whoever holds the number proved the bill before the register named the number.
    await reply(hub, f"ACCOUNT {account} {PIN}", sender=NEW_PHONE)
    await _change_phone_of_b001_1(hub)

    answer = await only_reply(hub, "1", NEW_PHONE)

    assert "must be confirmed" in answer
    assert await votes_of(hub, ballot_id) == []
