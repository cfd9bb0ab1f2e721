"""The live event stream: the ticket events a staff member may see, as server-sent events.

Each event goes out with ``id:`` its ``ticket_events.id``, so a client that reconnects with
``Last-Event-ID`` gets exactly what it missed: the stream always reads the table (first
from the cursor up to the feed's horizon, then the feed's batches), and pub/sub only wakes
it. Events are filtered by the caller's territorial scope with the same ``Scope`` that
restricts the tickets list: ``apply`` on the catch-up query, ``allows`` on live batches.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi.sse import format_sse_event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.events.feed import RESYNC, EventFeed, Subscription, read_events
from core.events.frames import event_frame
from core.tickets.service import Scope

# How long a browser waits before reconnecting after the stream drops (milliseconds).
RETRY_MS = 3000
HEARTBEAT = format_sse_event(comment="heartbeat")


@dataclass
class _Position:
    cursor: int
    last_sent: float


async def _catch_up(
    session_factory: async_sessionmaker[AsyncSession],
    scope: Scope,
    position: _Position,
    upto: int,
    batch: int,
) -> AsyncIterator[bytes]:
    """Yields the events in (cursor, upto] from the table, a bounded page at a time."""
    while position.cursor < upto:
        async with session_factory() as session:
            rows = await read_events(
                db_session=session, after=position.cursor, upto=upto, limit=batch, scope=scope
            )
        for event, ticket in rows:
            position.last_sent = time.monotonic()
            yield event_frame(event, ticket)
        position.cursor = rows[-1][0].id if len(rows) == batch else upto


async def follow(
    *,
    feed: EventFeed,
    session_factory: async_sessionmaker[AsyncSession],
    scope: Scope,
    after: int | None,
    heartbeat: float,
    batch: int,
    staff_id: int | None = None,
) -> AsyncIterator[bytes]:
    """Yields server-sent events: those after ``after`` (else from now on), then live ones.

    Ends only when the client goes (the response cancels it); waits on the feed, never spins.
    """
    subscription: Subscription = feed.subscribe(staff_id)
    try:
        # A cursor beyond every event (kept from a database since restored, or made up)
        # would silence the stream for good: it resumes from now instead.
        start = subscription.start
        cursor = start if after is None or after > start else after
        position = _Position(cursor=cursor, last_sent=time.monotonic())
        yield format_sse_event(retry=RETRY_MS, comment="connected")
        async for frame in _catch_up(session_factory, scope, position, subscription.start, batch):
            yield frame
        while True:
            wait = heartbeat - (time.monotonic() - position.last_sent)
            try:
                received = await asyncio.wait_for(subscription.queue.get(), max(0.0, wait))
            except TimeoutError:
                position.last_sent = time.monotonic()
                yield HEARTBEAT
                continue
            if received.personal:
                position.last_sent = time.monotonic()
                yield received.frames[0]
                continue
            if received is RESYNC:
                async for frame in _catch_up(session_factory, scope, position, feed.horizon, batch):
                    yield frame
                continue
            # One write per batch: the frames the feed built, those in this caller's scope.
            chunk = b"".join(
                frame
                for (event, ticket), frame in zip(received.events, received.frames, strict=True)
                if (received.late or event.id > position.cursor) and scope.allows(ticket)
            )
            if chunk:
                position.last_sent = time.monotonic()
                yield chunk
            position.cursor = max(position.cursor, received.horizon)
    finally:
        feed.unsubscribe(subscription)
