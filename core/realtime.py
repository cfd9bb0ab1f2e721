"""Publish/subscribe for live updates: Redis across processes, in-process when embedded."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, Protocol

from redis.asyncio import Redis


class Broker(Protocol):
    async def publish(self, topic: str, payload: dict[str, Any]) -> None: ...

    def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]: ...

    async def close(self) -> None: ...


class InProcessBroker:
    """Fans messages out to subscribers in this process (the embedded mode)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    async def publish(self, topic: str, payload: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            # A slow browser must not block intake: drop its oldest update instead.
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(payload)

    async def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)
        self._subscribers.setdefault(topic, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[topic].discard(queue)

    async def close(self) -> None:
        self._subscribers.clear()


class RedisBroker:
    """Redis pub/sub, so every web process sees what any worker published."""

    def __init__(self, redis: Redis, prefix: str = "hub:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def publish(self, topic: str, payload: dict[str, Any]) -> None:
        await self._redis.publish(self._prefix + topic, json.dumps(payload, default=str))

    async def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self._prefix + topic)
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield json.loads(message["data"])
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()

    async def close(self) -> None:
        await self._redis.aclose()
