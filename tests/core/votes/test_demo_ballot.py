"""The demo city has a ballot open on the day it is loaded: a newcomer sees a vote in the
console and can answer it by SMS (b004's owners were sent the SMS ballot)."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from core.db import utcnow
from core.notices.models import Notice
from core.outbox.models import OutboxMessage
from core.runtime import Hub
from core.votes.models import BallotVote
from tests.core.votes.factories import committee_key, owner_phone, reply

API = "/api/v1/votes"


async def test_the_demo_has_a_ballot_open_today_with_its_sms_ballot_sent(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    listed = await client.get(f"{API}/ballots", params={"status": "open"}, headers=headers)
    assert listed.status_code == 200, listed.text
    [ballot] = listed.json()
    assert (ballot["scope"], ballot["building"], ballot["rule_set"]) == (
        "building",
        "b004",
        "ru-housing-code",
    )
    now = utcnow().isoformat()
    assert ballot["opens_at"] <= now < ballot["closes_at"]
    # The lifecycle froze its electorate: b004's six flats.
    assert ballot["voter_count"] == 6 and ballot["electorate_digest"]
    # The draft the committee can publish is still there too.
    drafts = await client.get(f"{API}/ballots", params={"status": "draft"}, headers=headers)
    assert len(drafts.json()) == 1

    async with hub.session_factory() as session:
        sent = set(
            await session.scalars(
                select(OutboxMessage.address)
                .join(Notice, Notice.id == OutboxMessage.notice_id)
                .where(Notice.scope_kind == "ballot", Notice.scope_id == ballot["id"])
            )
        )
    assert sent == {owner_phone(4, flat) for flat in range(1, 7)}

    answered = await reply(hub, "1", sender=owner_phone(4, 2))
    assert "#" + str(ballot["id"]) in answered.replies[0].text
    async with hub.session_factory() as session:
        votes = list(
            await session.scalars(select(BallotVote).where(BallotVote.ballot_id == ballot["id"]))
        )
    assert [v.option for v in votes] == ["1"]
