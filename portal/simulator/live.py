"""The simulator follows its conversation live: a server-sent event each time it changes.

The stream is this browser's own: it reads only the identities kept in the browser's signed
session (the ones it played), as the page does, so it can carry nothing of any other
conversation. Pub/sub only wakes it; it reads the conversation from the tables each time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from fastapi.sse import format_sse_event

from core.events.feed import EventFeed
from core.events.stream import HEARTBEAT, RETRY_MS
from core.runtime import Hub
from core.web.deps import HubDep
from portal.simulator import service as simulator_service

router = APIRouter(prefix="/simulator", include_in_schema=False)


def line_json(line: simulator_service.Line) -> dict[str, Any]:
    """Returns one line of the conversation as the page's script reads it."""
    return {
        "at": line.at.isoformat(),
        "direction": line.direction,
        "channel": line.channel,
        "text": line.text,
        "status": line.status,
        "keys": line.keys,
        "ticket": line.ticket_number,
    }


async def _snapshot(hub: Hub, identities: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    async with hub.session_factory() as session:
        lines = await simulator_service.conversation(db_session=session, identities=identities)
    return [line_json(line) for line in lines]


def _frame(lines: list[dict[str, Any]]) -> bytes:
    return format_sse_event(
        data_str=json.dumps(lines, ensure_ascii=False, separators=(",", ":")),
        event="conversation",
    )


async def follow_conversation(
    hub: Hub, feed: EventFeed, identities: list[tuple[str, str, str]]
) -> AsyncIterator[bytes]:
    """Yields the conversation now, then again whenever it changed; heartbeats between."""
    heartbeat = hub.settings.events_heartbeat_seconds
    yield format_sse_event(retry=RETRY_MS, comment="connected")
    change = feed.next_change()
    shown = await _snapshot(hub, identities)
    yield _frame(shown)
    last_sent = time.monotonic()
    while True:
        wait = max(0.0, heartbeat - (time.monotonic() - last_sent))
        woke = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(change.wait(), wait)
            woke = True
        change = feed.next_change()
        if not woke:
            last_sent = time.monotonic()
            yield HEARTBEAT
            continue
        lines = await _snapshot(hub, identities)
        if lines != shown:
            shown, last_sent = lines, time.monotonic()
            yield _frame(lines)


@router.get("/live")
async def simulator_live(request: Request, hub: HubDep) -> StreamingResponse:
    """Streams this browser's conversation whenever a message or a delivery changes it."""
    identities = simulator_service.identities(request.session)
    feed = await hub.event_feed()
    return StreamingResponse(
        follow_conversation(hub, feed, identities),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
