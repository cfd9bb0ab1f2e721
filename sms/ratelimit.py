"""Sending rate per number or messaging service, shared by every worker through Redis.

The `limits` library keeps a moving window per key (in Redis across processes, in memory
when embedded). Bulk notices draw from a smaller window as well, so a blast never uses
the last share of the rate: replies to residents always find room.
"""

from __future__ import annotations

import asyncio
import time

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter

from core.ratelimit import rate_storage


def _item(per_second: float) -> RateLimitItem:
    if per_second >= 1:
        return RateLimitItemPerSecond(int(per_second))
    return RateLimitItemPerMinute(max(1, round(per_second * 60)))


class SendingRate:
    def __init__(self, *, per_second: float, reply_reserve: float, redis_url: str | None) -> None:
        if per_second <= 0 or not 0 <= reply_reserve < 1:
            raise ValueError("the rate must be positive and the reserve a fraction below 1")
        self._all = _item(per_second)
        self._bulk = _item(per_second * (1 - reply_reserve))
        self._limiter = MovingWindowRateLimiter(rate_storage(redis_url))

    async def acquire(self, key: str, *, bulk: bool) -> None:
        """Waits until one message may go out on ``key``."""
        # Bulk takes its own, smaller allowance first (hit is atomic, so many workers never
        # overshoot it), then waits for a slot in the overall rate like everyone else.
        while bulk and not await self._limiter.hit(self._bulk, "bulk", key):
            await self._wait(self._bulk, "bulk", key)
        while not await self._limiter.hit(self._all, "all", key):
            await self._wait(self._all, "all", key)

    async def _wait(self, item: RateLimitItem, *identifiers: str) -> None:
        stats = await self._limiter.get_window_stats(item, *identifiers)
        await asyncio.sleep(min(1.0, max(0.005, stats.reset_time - time.time())))
