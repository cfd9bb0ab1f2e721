"""The whole path once: a committee's ballot, SMS replies, the tally, the protocol."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx

from core.db import utcnow
from core.runtime import Hub
from core.votes.protocol import tally_from_audit
from tests.core.votes.factories import (
    SPOUSE,
    close_at,
    committee_key,
    open_ballot_via_api,
    owner_phone,
    reply,
)


async def test_sms_ballot_from_reply_to_protocol(hub: Hub, client: httpx.AsyncClient) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)
    first = await reply(hub, "1", sender=owner_phone(1, 1))
    assert "учтён" in first.replies[0].text or "recorded" in first.replies[0].text, first.replies
    changed = await reply(hub, "нет", sender=owner_phone(1, 1))
    print(changed.replies[0].text)
    spouse = await reply(hub, "１", sender=SPOUSE)
    print(spouse.replies[0].text)
    stranger = await reply(hub, "1", sender="+79009999999")
    print(stranger.replies[0].text)
    unclear = await reply(hub, "1 2", sender=owner_phone(2, 1))
    print(unclear.replies[0].text)
    tally = await client.get(f"/api/v1/votes/ballots/{ballot_id}/tally", headers=headers)
    assert tally.status_code == 200, tally.text
    print(tally.json())
    ids = await close_at(hub, ballot_id, utcnow() + timedelta(days=30))
    assert ids
    final = (await client.get(f"/api/v1/votes/ballots/{ballot_id}/tally", headers=headers)).json()
    audit = await client.get(f"/api/v1/votes/ballots/{ballot_id}/audit.csv", headers=headers)
    assert audit.status_code == 200
    rows = list(csv.DictReader(io.StringIO(audit.text)))
    again = tally_from_audit(rows)
    assert again[1]["outcome"] == final["questions"][0]["outcome"]
    protocol = await client.get(f"/api/v1/votes/ballots/{ballot_id}/protocol.html", headers=headers)
    assert protocol.status_code == 200, protocol.text
    assert "Протокол" in protocol.text
    late = await reply(hub, "1", sender=owner_phone(1, 2))
    print(late.replies[0].text)
    log = await client.get(f"/api/v1/votes/ballots/{ballot_id}/votes.csv", headers=headers)
    print(log.text)
