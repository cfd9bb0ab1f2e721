"""One reader of ``ticket_events`` per process, fanning new rows out to every live stream.

Pub/sub only says "something changed"; the feed then reads the table from where it left off,
once for all the streams this process serves (two hundred consoles cost one query per wake,
not two hundred), and hands each stream the rows with their tickets, which the stream
filters by its caller's scope in memory.

Ids are handed out when a row is inserted but become visible when its transaction commits,
and transactions do not commit in id order: a reader that jumped past a missing id could
lose that event for good. So the feed only moves its horizon over contiguous ids; a missing
id holds everything after it until it appears or ``events_gap_grace_seconds`` pass (a
transaction that rolled back leaves a gap that never fills). Every id at or below the
horizon is final, which is what makes ``Last-Event-ID`` exact.

A transaction may also simply be slow (an import, a ballot blast) and commit after the
grace: the ids the horizon passed over are watched for ``LATE_SECONDS`` more, and an event
that turns up late is handed to every live stream then, marked late (sent without an SSE
id, so no browser's ``Last-Event-ID`` moves backwards). Only a stream that was away at that
very moment misses it; the ticket's history always has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi.sse import format_sse_event
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.config import Settings
from core.events.collector import TOPIC_BALLOTS, TOPIC_OUTBOX, TOPIC_PERSONAL, TOPIC_TICKETS
from core.events.frames import event_frame
from core.realtime import Broker
from core.tickets.models import Ticket, TicketEvent
from core.tickets.service import Scope

logger = logging.getLogger("hub.events")

# A missed wake-up (pub/sub reconnecting) delays events by at most this long.
MAX_POLL_SECONDS = 5.0
# Batches a stream may fall behind before it is told to read the table itself.
QUEUE_BATCHES = 256
# How long ids passed over by the horizon are watched for a transaction committing late,
# and how many at most (a mass rollback must not make every read an enormous IN list).
LATE_SECONDS = 600.0
LATE_IDS = 1_000


@dataclass(frozen=True)
class Batch:
    """New events (each with its ticket), and the horizon they bring the feed to."""

    events: Sequence[tuple[TicketEvent, Ticket]]
    horizon: int
    # Events whose transaction committed after the horizon passed their ids.
    late: bool = False
    # Each event's frame, built once here for every stream (streams only check scope).
    frames: tuple[bytes, ...] = ()
    # A frame for one staff member only (a call ringing for them), outside the event ids.
    personal: bool = False


# Put in a stream's queue instead of batches it was too slow to take: read the table.
RESYNC = Batch((), -1)


@dataclass(eq=False)
class Subscription:
    # The feed's horizon when the stream subscribed: it reads older events itself.
    start: int
    # Whose stream (a logged-in staff member's), for their personal frames; None for a key.
    staff_id: int | None = None
    queue: asyncio.Queue[Batch] = field(default_factory=lambda: asyncio.Queue(QUEUE_BATCHES))


async def read_events(
    *,
    db_session: AsyncSession,
    after: int,
    upto: int | None,
    limit: int,
    scope: Scope | None = None,
) -> list[tuple[TicketEvent, Ticket]]:
    """Returns events with ids in (after, upto] and their tickets, oldest first.

    ``scope`` restricts them exactly as it restricts the tickets list.
    """
    query = (
        select(TicketEvent, Ticket)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.id > after)
        .order_by(TicketEvent.id)
        .limit(limit)
    )
    if upto is not None:
        query = query.where(TicketEvent.id <= upto)
    if scope is not None:
        query = scope.apply(query)
    return [(row[0], row[1]) for row in (await db_session.execute(query)).all()]


class EventFeed:
    """Reads new ticket events after each wake-up and hands them to the subscribed streams."""

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        broker: Broker,
        settings: Settings,
    ) -> None:
        self._session_factory = session_factory
        self._broker = broker
        self._batch = settings.events_batch_size
        self._grace = settings.events_gap_grace_seconds
        self._poll = min(settings.events_heartbeat_seconds, MAX_POLL_SECONDS)
        self.horizon = 0
        self._subscriptions: set[Subscription] = set()
        # (the id before a gap, when the gap was first seen)
        self._gap: tuple[int, float] | None = None
        # Ids the horizon passed over uncommitted → when: a slow transaction may yet fill them.
        self._late: dict[int, float] = {}
        self._wake = asyncio.Event()
        # Replaced at every wake-up: watchers that read something other than ticket events
        # (the simulator's conversation) wait on it.
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._started = asyncio.Lock()

    async def start(self) -> None:
        """Starts listening and reading, from the newest event now in the table."""
        async with self._started:
            if self._tasks:
                return
            async with self._session_factory() as session:
                self.horizon = int(await session.scalar(select(func.max(TicketEvent.id))) or 0)
            self._tasks = [
                asyncio.create_task(self._listen(TOPIC_TICKETS)),
                asyncio.create_task(self._listen(TOPIC_OUTBOX)),
                asyncio.create_task(self._listen_personal()),
                asyncio.create_task(self._listen_ballots()),
                asyncio.create_task(self._run()),
            ]

    async def close(self) -> None:
        """Stops the feed's tasks."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    def subscribe(self, staff_id: int | None = None) -> Subscription:
        """Returns a subscription to every batch read from now on (and, for a staff
        member, to the frames meant for them alone)."""
        subscription = Subscription(start=self.horizon, staff_id=staff_id)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stops handing batches to a stream that ended."""
        self._subscriptions.discard(subscription)

    def next_change(self) -> asyncio.Event:
        """Returns an event set at the next wake-up on any topic.

        Taken before reading, so a change committed while the reader reads is not missed.
        """
        return self._changed

    async def _listen_personal(self) -> None:
        """Hands each personal frame (a call) to the streams of the one staff member it is
        for; nothing is read from the table, and nobody else's stream sees it."""
        while True:
            try:
                async for payload in self._broker.subscribe(TOPIC_PERSONAL):
                    self._deliver_personal(payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("personal events: pub/sub lost; reconnecting", exc_info=True)
                await asyncio.sleep(1)

    async def _listen_ballots(self) -> None:
        """Tells every stream that a ballot's tally changed (its id only: the console then
        reads the tally through a route that checks who may see it)."""
        while True:
            try:
                async for payload in self._broker.subscribe(TOPIC_BALLOTS):
                    ballot = payload.get("ballot")
                    if isinstance(ballot, int):
                        frame = format_sse_event(
                            data_str=json.dumps({"ballot": ballot}), event="ballot"
                        )
                        self._hand_out(Batch((), -1, frames=(frame,), personal=True), None)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("ballot events: pub/sub lost; reconnecting", exc_info=True)
                await asyncio.sleep(1)

    def _hand_out(self, batch: Batch, staff_id: int | None) -> None:
        """Puts a frame outside the event ids in the streams of ``staff_id`` (None: all)."""
        for subscription in self._subscriptions:
            if staff_id is None or subscription.staff_id == staff_id:
                with contextlib.suppress(asyncio.QueueFull):
                    subscription.queue.put_nowait(batch)

    def _deliver_personal(self, payload: dict[str, Any]) -> None:
        staff_id, event, data = payload.get("staff_id"), payload.get("event"), payload.get("data")
        if (
            not isinstance(staff_id, int)
            or not isinstance(event, str)
            or not isinstance(data, dict)
        ):
            return
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        batch = Batch((), -1, frames=(format_sse_event(data_str=body, event=event),), personal=True)
        self._hand_out(batch, staff_id)

    async def _listen(self, topic: str) -> None:
        while True:
            try:
                async for _ in self._broker.subscribe(topic):
                    self._wake.set()
                    changed, self._changed = self._changed, asyncio.Event()
                    changed.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis restarting: the poll keeps the streams going meanwhile.
                logger.warning("live events: lost the %s subscription; retrying", topic)
            await asyncio.sleep(self._poll)

    async def _run(self) -> None:
        while True:
            timeout = self._poll
            if self._gap is not None:
                timeout = min(timeout, max(0.01, self._gap[1] + self._grace - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            try:
                while await self._read_once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("live events: reading ticket_events failed; retrying")

    async def _read_once(self) -> bool:
        """Reads one batch past the horizon; returns whether a full batch was taken."""
        async with self._session_factory() as session:
            rows = await read_events(
                db_session=session, after=self.horizon, upto=None, limit=self._batch
            )
        taken = self._contiguous(rows)
        if taken:
            self.horizon = taken[-1][0].id
            self._publish(Batch(taken, self.horizon))
        if self._late:
            await self._read_late()
        return len(taken) == self._batch

    async def _read_late(self) -> None:
        """Hands over events that committed after the horizon had passed their ids."""
        now = time.monotonic()
        for event_id, since in list(self._late.items()):
            if now - since > LATE_SECONDS:
                del self._late[event_id]
        if not self._late:
            return
        async with self._session_factory() as session:
            rows = await session.execute(
                select(TicketEvent, Ticket)
                .join(Ticket, Ticket.id == TicketEvent.ticket_id)
                .where(TicketEvent.id.in_(list(self._late)))
                .order_by(TicketEvent.id)
            )
            found = [(row[0], row[1]) for row in rows.all()]
        if found:
            for event, _ticket in found:
                self._late.pop(event.id, None)
            logger.info("live events: %d event(s) committed late", len(found))
            self._publish(Batch(found, self.horizon, late=True))

    def _contiguous(
        self, rows: list[tuple[TicketEvent, Ticket]]
    ) -> list[tuple[TicketEvent, Ticket]]:
        """Returns the leading rows whose ids leave no gap younger than the grace period."""
        expected, taken = self.horizon + 1, []
        for row in rows:
            if row[0].id != expected:
                now = time.monotonic()
                if self._gap is None or self._gap[0] != expected - 1:
                    self._gap = (expected - 1, now)
                if now - self._gap[1] < self._grace:
                    break  # an earlier transaction may still commit this id
                logger.info("live events: ids %s-%s not committed yet", expected, row[0].id - 1)
                self._watch_late(range(expected, row[0].id), now)
            self._gap = None
            taken.append(row)
            expected = row[0].id + 1
        return taken

    def _watch_late(self, ids: range, now: float) -> None:
        """Keeps watching ids the horizon passes over, newest kept when there are many."""
        for event_id in ids[-LATE_IDS:]:
            self._late[event_id] = now
        while len(self._late) > LATE_IDS:
            del self._late[min(self._late)]

    def _publish(self, batch: Batch) -> None:
        if not self._subscriptions:
            return
        # Two hundred consoles would otherwise each build the same JSON for every event.
        frames = tuple(event_frame(e, t, late=batch.late) for e, t in batch.events)
        batch = Batch(batch.events, batch.horizon, batch.late, frames)
        for subscription in self._subscriptions:
            try:
                subscription.queue.put_nowait(batch)
            except asyncio.QueueFull:
                # Too slow to keep up: drop its backlog; it reads the table from its cursor.
                while not subscription.queue.empty():
                    subscription.queue.get_nowait()
                subscription.queue.put_nowait(RESYNC)
