"""Intake throughput on PostgreSQL, beside the bare INSERT + COMMIT limit of the same pool.

    python -m bench.intake [--messages 10000] [--concurrency 16] [--no-redis]

Both runs use the hub's own engine (same pool size, same driver) and the same number of
concurrent tasks; the bare run is a single-row INSERT and COMMIT per item, the floor of any
work that must be durable before a provider is answered.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import platform
from collections.abc import Awaitable, Callable

from sqlalchemy import text

from bench.common import (
    fresh_hub,
    run_concurrently,
)
from channels.contract import Channel, InboundMessage
from core.db import utcnow
from core.intake import service as intake
from core.runtime import Hub

TEXTS = [
    "Нет воды с утра, Садовая 3",
    "Street light out near the school",
    "楼道里垃圾没人清理",
    "Батареи холодные, отопление не работает",
    "Question about my bill for October",
    "Lift broken in entrance 2",
    "路灯不亮了",
    "Мусор не вывозят неделю",
]


def messages(count: int, senders: int) -> list[InboundMessage]:
    """Returns ``count`` distinct messages from ``senders`` phones, some repeat senders."""
    now = utcnow()
    texts = itertools.cycle(TEXTS)
    return [
        InboundMessage(
            channel=Channel.SMS,
            sender_address=f"+7911{i % senders:07d}",
            text=next(texts),
            provider_message_id=f"bench-{i}",
            received_at=now,
        )
        for i in range(count)
    ]


async def main(count: int, concurrency: int, use_redis: bool) -> dict[str, object]:
    hub = await fresh_hub(concurrency=concurrency, use_redis=use_redis)
    try:
        async with hub.engine.begin() as connection:
            await connection.execute(
                text(
                    "CREATE TABLE bench_bare (id bigserial PRIMARY KEY, payload text NOT NULL,"
                    " created_at timestamptz NOT NULL DEFAULT now())"
                )
            )

        # Warm the pool and the routing cache so neither run pays for start-up.
        await run_concurrently(messages(concurrency * 4, concurrency), _warm(hub), concurrency)

        async def bare(item: object) -> None:
            async with hub.engine.connect() as connection:
                await connection.execute(
                    text("INSERT INTO bench_bare (payload) VALUES (:p)"), {"p": str(item)}
                )
                await connection.commit()

        bare_stats = await run_concurrently(list(range(count)), bare, concurrency)

        batch = messages(count, senders=count // 2)

        async def receive(item: object) -> None:
            assert isinstance(item, InboundMessage)
            await intake.receive(hub=hub, message=item)

        intake_stats = await run_concurrently(batch, receive, concurrency)
        async with hub.engine.connect() as connection:
            tickets = (await connection.execute(text("SELECT count(*) FROM tickets"))).scalar()
    finally:
        await hub.close()
    return {
        "python": platform.python_version(),
        "concurrency": concurrency,
        "redis": use_redis,
        "bare": bare_stats.line("bare INSERT+COMMIT"),
        "intake": intake_stats.line("intake"),
        "ratio": round(intake_stats.per_second / bare_stats.per_second, 3),
        "tickets_created": tickets,
    }


def _warm(hub: Hub) -> Callable[[object], Awaitable[None]]:
    async def receive(item: object) -> None:
        assert isinstance(item, InboundMessage)
        warm = item.model_copy(update={"provider_message_id": "warm-" + item.provider_message_id})
        await intake.receive(hub=hub, message=warm)

    return receive


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-redis", action="store_true")
    args = parser.parse_args()
    print(
        json.dumps(
            asyncio.run(main(args.messages, args.concurrency, not args.no_redis)),
            indent=2,
            ensure_ascii=False,
        )
    )
