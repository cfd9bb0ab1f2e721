"""The simulator page follows its own conversation live, and nobody else's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from core.config import Settings
from core.intake import service as intake_service
from core.jobs.tasks import deliver_outbox
from core.outbox.models import OutboxMessage
from core.runtime import Hub
from portal.app import create_app
from tests.core.events.sse import open_stream
from tests.factories import inbound
from tests.portal.test_simulator import page, send

MINE = "+79005550177"
SOMEONE_ELSE = "+79005550178"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"events_heartbeat_seconds": 0.3})


@pytest.fixture
async def app(hub: Hub, settings: Settings) -> AsyncIterator[FastAPI]:
    yield create_app(settings, hub=hub, run_worker=False, prepare_database=False)


async def test_the_page_receives_its_conversation_live(
    client: httpx.AsyncClient, app: FastAPI, hub: Hub
) -> None:
    _, csrf, message_id = await page(client)
    sent = await send(
        client, csrf=csrf, message_id=message_id, channel="sms", address=MINE, text="Lift broken"
    )
    assert sent.status_code == 303
    cookie = {"Cookie": f"hub_session={client.cookies['hub_session']}"}
    async with open_stream(app, "/simulator/live", cookie) as stream:
        assert stream.status == 200
        first = json.loads((await stream.next_event()).data)
        assert [line["text"] for line in first if line["direction"] == "in"] == ["Lift broken"]
        # Another resident writes: this browser's stream says nothing.
        await intake_service.receive(hub=hub, message=inbound("Pothole", sender=SOMEONE_ELSE))
        assert await stream.events_until_quiet(1.0) == []
        # The hub's answer to this browser goes out: the page sees its status change.
        (reply,) = [line for line in first if line["direction"] == "out"]
        assert reply["status"] == "pending"
        async with hub.session_factory() as session:
            (outbox_id,) = await session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.address == MINE)
            )
        assert await deliver_outbox({"hub": hub}, outbox_id=outbox_id) == "sent"
        update = json.loads((await stream.next_event()).data)
    assert [line["status"] for line in update if line["direction"] == "out"] == ["sent"]
    assert not any("Pothole" in line["text"] for line in update)


async def test_a_browser_that_played_nobody_gets_an_empty_conversation(app: FastAPI) -> None:
    async with open_stream(app, "/simulator/live") as stream:
        assert json.loads((await stream.next_event()).data) == []
        beat = await stream.next_frame(2.0)
    assert beat.comments == ["heartbeat"]
