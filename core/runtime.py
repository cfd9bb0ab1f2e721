"""One process's hub: settings, database, queue, pub/sub, and the channels it was handed.

The channels (and their senders) are built outside the core, by the composition root
(channels/installed.py), and given to ``open_hub``: the core imports no channel package.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis
from saq.queue.base import Queue
from saq.queue.redis import RedisQueue
from saq.types import Context
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from channels import registry as channel_registry
from channels.registry import ChannelRegistry
from core.backoffice import BackOffices
from core.config import Settings
from core.db import create_engine, create_session_factory
from core.events import collector
from core.events.collector import TOPIC_OUTBOX as TOPIC_OUTBOX
from core.events.collector import TOPIC_TICKETS as TOPIC_TICKETS
from core.events.feed import EventFeed
from core.jobs.memory_queue import MemoryQueue
from core.media.storage import Storage, storage_from_settings
from core.ratelimit import rate_storage
from core.realtime import Broker, InProcessBroker, RedisBroker
from core.routing.service import RoutingCache

logger = logging.getLogger("hub.runtime")

QUEUE_NAME = "hub"
BULK_QUEUE_NAME = "hub-bulk"


@dataclass
class Hub:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    queue: Queue
    bulk_queue: Queue
    broker: Broker
    # The installed channels: specs, senders, renderers (channels/installed.py).
    channels: ChannelRegistry
    routing: RoutingCache
    # Request-rate limits shared by every process (Redis) or kept in this one (embedded).
    limiter: MovingWindowRateLimiter
    # The installed back offices (core/installed.py), handed in by whoever builds the hub.
    offices: BackOffices
    redis: Redis | None = None
    # Where case photos are kept (a local folder or S3), chosen by HUB_MEDIA_STORAGE.
    media: Storage | None = None
    # What a back office keeps in this process between requests (the complaints ranking),
    # by a key of its own, made on first use: the hub itself knows no back office.
    caches: dict[str, Any] = field(default_factory=dict)
    _closed: bool = field(default=False, repr=False)
    # The reader of ticket_events behind this process's live streams, started on first use.
    _feed: EventFeed | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Effects registered on this hub's sessions (core.events.collector) run on its queue
        # and pub/sub once their transaction commits.
        collector.install(self.session_factory.kw["sync_session_class"], self)

    async def run_effects(self, effects: Sequence[collector.Effect]) -> None:
        """Runs what a commit set off: deliveries, jobs, then the wake-ups of live streams.

        Every live reader listens to both topics and then reads what changed, so one commit
        publishes one wake-up at most (a reply's commit touches a ticket and the outbox).
        """
        woken = False
        for effect in effects:
            if isinstance(effect, collector.Wake):
                if not woken:
                    woken = True
                    await self.publish(effect.topic, {})
                continue
            if isinstance(effect, collector.Announce):
                await self.publish(effect.topic, dict(effect.payload))
            elif isinstance(effect, collector.Deliver):
                await self.enqueue_deliveries(
                    effect.outbox_ids, bulk=effect.bulk, delay=effect.delay
                )
            elif isinstance(effect, collector.Job):
                await self.enqueue_job(effect.function, key=effect.key, **effect.kwargs)

    async def enqueue_deliveries(
        self, outbox_ids: Iterable[int], *, bulk: bool = False, delay: float | None = None
    ) -> None:
        """Hands committed outbox rows to the queue; a failure here loses nothing.

        Bulk notices go to their own queue so a blast never delays a reply. The rows are
        already committed, so if the queue is unreachable the periodic sweep finds them
        pending and enqueues them later.
        """
        queue = self.bulk_queue if bulk else self.queue
        scheduled = int(time.time() + delay) if delay else 0

        async def enqueue(outbox_id: int) -> None:
            try:
                await queue.enqueue(
                    "deliver_outbox",
                    outbox_id=outbox_id,
                    key=f"outbox:{outbox_id}",
                    retries=self.settings.outbox_max_attempts,
                    retry_delay=self.settings.outbox_retry_delay,
                    retry_backoff=True,
                    timeout=60,
                    scheduled=scheduled,
                )
            except Exception:
                logger.exception("could not enqueue outbox %s; the sweep will retry", outbox_id)

        ids = list(outbox_ids)
        # A blast is thousands of rows: enqueue a hundred at a time rather than one by one.
        for start in range(0, len(ids), 100):
            await asyncio.gather(*(enqueue(i) for i in ids[start : start + 100]))

    async def enqueue_job(self, function: str, *, key: str, **kwargs: Any) -> None:
        """Enqueues a background job now; a failure only logs, a periodic run catches up."""
        try:
            await self.queue.enqueue(function, key=key, timeout=300, **kwargs)
        except Exception:
            logger.exception("could not enqueue %s; its periodic run will catch up", function)

    async def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Publishes a live update; live views are a convenience, so failures only log."""
        try:
            await self.broker.publish(topic, payload)
        except Exception:
            logger.exception("could not publish to %s", topic)

    async def event_feed(self) -> EventFeed:
        """Returns this process's live event feed, started."""
        if self._feed is None:
            self._feed = EventFeed(
                session_factory=self.session_factory, broker=self.broker, settings=self.settings
            )
        await self._feed.start()
        return self._feed

    async def ping_redis(self) -> bool | None:
        """Returns whether Redis answers, or None when this hub runs without Redis."""
        if self.redis is None:
            return None
        try:
            return bool(await self.redis.ping())  # type: ignore[misc]
        except Exception:
            return False

    async def close(self) -> None:
        """Releases the queue, pub/sub and database connections."""
        if self._closed:
            return
        self._closed = True
        if self._feed is not None:
            await self._feed.close()
        await self.queue.disconnect()
        await self.bulk_queue.disconnect()
        await self.broker.close()
        await self.engine.dispose()


class HubContext(Context, total=False):
    """SAQ's job context with the hub the worker serves (every job function takes it)."""

    hub: Hub


async def open_hub(settings: Settings, *, channels: ChannelRegistry, offices: BackOffices) -> Hub:
    """Returns a hub wired for ``settings``: Redis-backed when configured, in-process if not."""
    engine = create_engine(settings)
    session_factory = create_session_factory(engine)
    # Services that must know a channel (a caller's notice going by SMS) find it here.
    channel_registry.bind(session_factory, channels)
    redis: Redis | None = None
    queue: Queue
    bulk_queue: Queue
    broker: Broker
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url)
        queue = RedisQueue(Redis.from_url(settings.redis_url), name=QUEUE_NAME)
        bulk_queue = RedisQueue(Redis.from_url(settings.redis_url), name=BULK_QUEUE_NAME)
        broker = RedisBroker(Redis.from_url(settings.redis_url))
    else:
        queue = MemoryQueue(name=QUEUE_NAME)
        bulk_queue = MemoryQueue(name=BULK_QUEUE_NAME)
        broker = InProcessBroker()
    await queue.connect()
    await bulk_queue.connect()
    return Hub(
        media=storage_from_settings(settings),
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        queue=queue,
        bulk_queue=bulk_queue,
        broker=broker,
        channels=channels,
        routing=RoutingCache(session_factory, settings.routing_cache_seconds),
        limiter=MovingWindowRateLimiter(rate_storage(settings.redis_url)),
        offices=offices,
        redis=redis,
    )
