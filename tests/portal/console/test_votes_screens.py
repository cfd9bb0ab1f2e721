"""Owners' committee screens: ballots, a live tally, publishing, closing with a reason."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from core.config import Settings
from core.runtime import Hub
from portal.app import create_app
from tests.core.events.sse import open_stream
from tests.core.votes.factories import owner_phone, reply
from tests.portal.console.helpers import console_login


@pytest.fixture
async def app(hub: Hub, settings: Settings) -> AsyncIterator[FastAPI]:
    yield create_app(settings, hub=hub, run_worker=False, prepare_database=False)


async def _ballots(client: httpx.AsyncClient) -> list[int]:
    listed = await client.get("/console/ballots")
    assert listed.status_code == 200
    return [int(n) for n in re.findall(r'href="/console/ballots/(\d+)"', listed.text)]


async def test_the_committee_publishes_a_draft_and_must_give_a_reason_to_close(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    token = await console_login(client, "committee")
    ids = await _ballots(client)
    assert len(ids) == 2
    pages = {i: (await client.get(f"/console/ballots/{i}")).text for i in ids}
    draft = next(i for i, text in pages.items() if 'value="publish"' in text)
    opened = next(i for i in ids if i != draft)
    published = await client.post(
        f"/console/ballots/{draft}/step", data={"csrf": token, "action": "publish"}
    )
    assert published.status_code == 303
    no_reason = await client.post(
        f"/console/ballots/{opened}/step", data={"csrf": token, "action": "close"}
    )
    assert no_reason.status_code == 409 and 'role="alert"' in no_reason.text
    await reply(hub, "1", sender=owner_phone(4, 2))
    tally = await client.get(f"/console/ballots/{opened}/tally")
    assert tally.status_code == 200 and "1 / 6" in tally.text


async def test_a_vote_tells_every_console_that_the_tally_changed(
    app: FastAPI, client: httpx.AsyncClient, hub: Hub
) -> None:
    await console_login(client, "committee")
    ids = await _ballots(client)
    cookie = {"cookie": f"hub_session={client.cookies['hub_session']}"}
    async with open_stream(app, "/api/v1/events", cookie) as stream:
        await stream.next_frame()
        await reply(hub, "1", sender=owner_phone(4, 3))
        frames = [e for e in await stream.events_until_quiet(1.0) if e.event == "ballot"]
    assert frames and json.loads(frames[0].data)["ballot"] in ids
    assert frames[0].id is None


async def test_an_agent_has_no_ballots_screen(client: httpx.AsyncClient) -> None:
    await console_login(client, "agent")
    assert (await client.get("/console/ballots")).status_code == 403


async def test_the_committee_writes_a_draft_and_a_bad_one_is_refused_beside_the_form(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from core.db import utcnow

    token = await console_login(client, "committee")
    form = await client.get("/console/ballots/new")
    assert form.status_code == 200 and 'name="rules"' in form.text
    city = utcnow().astimezone(ZoneInfo(hub.settings.timezone)).replace(second=0, microsecond=0)

    def when(days: int) -> str:
        return (city + timedelta(days=days)).replace(tzinfo=None).isoformat(timespec="minutes")

    fields = {
        "csrf": token,
        "building": "b001",
        "language": "ru",
        "title": "Детская площадка",
        "questions": "Построить детскую площадку?\nПокрасить скамейки?",
        "rules": re.search(r'value="(ru-housing-code[^"|]*\|default)"', form.text).group(1),  # type: ignore[union-attr]
        "notice_at": when(1),
        "opens_at": when(12),
        "closes_at": when(26),
    }
    too_soon = await client.post("/console/ballots", data={**fields, "opens_at": when(2)})
    assert too_soon.status_code == 422 and 'role="alert"' in too_soon.text
    assert "Покрасить скамейки?" in too_soon.text  # what was typed is kept
    long = await client.post("/console/ballots", data=fields)
    assert long.status_code == 422 and "confirm" in long.text  # two questions: 4 SMS parts
    written = await client.post("/console/ballots", data={**fields, "confirm_long": "yes"})
    assert written.status_code == 303, re.findall(r"role=.alert.[^>]*>([^<]*)", written.text)
    draft = await client.get(written.headers["location"])
    assert "Детская площадка" in draft.text and 'value="publish"' in draft.text
