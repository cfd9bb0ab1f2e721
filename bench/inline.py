"""Inline-answer latency: ``receive(..., inline=True)`` for callers who wait for the answer.

    python -m bench.inline [--callers 750] [--concurrency 1] [--no-redis]

Each caller is one resident on the web page (the portal's channel delivers inline, as the
kiosk's does, and also carries photos) and on the phone: a report typed on the page, a photo
added to it a moment later (a follow-up that joins the ticket), the ``status`` command, and a
call that picks a category by key (``menu_choice`` on the voice channel). Four messages per
caller, in that order, so the follow-up has the report to join; the callers run
``--concurrency`` at a time (1: the latency one waiting caller sees on an otherwise idle hub).

The bare limit, on the same engine, pool and concurrency: one INSERT + COMMIT of the raw
message (its JSON, as intake records it first) per message, the durable write that must
happen before any answer. Afterwards every inline answer is checked: its outbox row is
``sent`` (confirmed inline) and none is left for the stranded-row sweep.

Prints a JSON summary: p50/p95/p99 per kind and overall, beside the bare limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select, text

from bench.common import fresh_hub
from channels.contract import Attachment, Channel, InboundMessage
from core.db import utcnow
from core.intake import service as intake
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxStatus
from core.outbox.models import OutboxMessage
from core.runtime import Hub

REPORTS = (
    ("Lift broken in entrance 2", "en"),
    ("Не работает лифт в подъезде", "ru"),
    ("楼道里垃圾没人清理", "zh"),
    ("Street light out near the school", "en"),
    ("Мусор не вывозят неделю", "ru"),
    ("路灯不亮了", "zh"),
)
STATUS_WORDS = {"en": "status", "ru": "статус", "zh": "状态"}
# The voice channel's first menu (portal/simulator/channels.py VOICE.menu).
KEYS = ("1", "2", "3", "4", "5")


@dataclass(frozen=True)
class Sample:
    kind: str
    message: InboundMessage


def caller_messages(caller: int) -> list[Sample]:
    """Returns one caller's four messages: report, photo follow-up, command, phone call."""
    report, language = REPORTS[caller % len(REPORTS)]
    screen = f"web-session-{caller}"
    now = utcnow()

    def message(**fields: object) -> InboundMessage:
        return InboundMessage.model_validate({"received_at": now, "language": language, **fields})

    channel = Channel.WEB
    return [
        Sample(
            "report",
            message(
                channel=channel,
                sender_address=screen,
                text=report,
                provider_message_id=f"inline-{caller}-report",
            ),
        ),
        Sample(
            "photo",
            message(
                channel=channel,
                sender_address=screen,
                provider_message_id=f"inline-{caller}-photo",
                attachments=[
                    Attachment(
                        url=f"https://media.example.org/{caller}.jpg", content_type="image/jpeg"
                    )
                ],
            ),
        ),
        Sample(
            "command",
            message(
                channel=channel,
                sender_address=screen,
                text=STATUS_WORDS[language],
                provider_message_id=f"inline-{caller}-status",
            ),
        ),
        Sample(
            "call",
            message(
                channel=Channel.VOICE,
                sender_address=f"+7915{caller:07d}",
                menu_choice=KEYS[caller % len(KEYS)],
                provider_message_id=f"inline-{caller}-call",
            ),
        ),
    ]


def percentiles(values: list[float]) -> dict[str, float]:
    """Returns p50/p95/p99/max in milliseconds."""
    ordered = sorted(values)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000, 2)

    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def run_callers(hub: Hub, callers: range, concurrency: int) -> dict[str, object]:
    """Runs every caller's messages in order, ``concurrency`` callers at a time."""
    latencies: dict[str, list[float]] = defaultdict(list)
    intents: dict[str, Counter[str]] = defaultdict(Counter)
    inline_ids: list[int] = []
    pending = iter(callers)
    cpu_started, started = time.process_time(), time.perf_counter()

    async def lane() -> None:
        for caller in pending:
            for sample in caller_messages(caller):
                begun = time.perf_counter()
                result = await intake.receive(hub=hub, message=sample.message, inline=True)
                latencies[sample.kind].append(time.perf_counter() - begun)
                intents[sample.kind][str(result.intent)] += 1
                if not result.replies:
                    raise AssertionError(f"no inline answer to {sample.kind}: {result}")
                inline_ids.extend(reply.outbox_id for reply in result.replies)

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    every = [value for values in latencies.values() for value in values]
    return {
        "seconds": round(elapsed, 2),
        "per_second": round(len(every) / elapsed, 1),
        "cpu_ms_per_message": round(cpu / len(every) * 1000, 2),
        "all": percentiles(every),
        **{kind: percentiles(values) for kind, values in latencies.items()},
        "intents": {kind: dict(counter) for kind, counter in intents.items()},
        "_inline_ids": inline_ids,
    }


async def bare_limit(hub: Hub, callers: range, concurrency: int) -> dict[str, object]:
    """Times one INSERT + COMMIT of each raw message, as many as intake took."""
    async with hub.engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE TABLE IF NOT EXISTS bench_raw (id bigserial PRIMARY KEY,"
                " payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
            )
        )
    latencies: list[float] = []
    pending = iter(callers)
    started = time.perf_counter()

    async def lane() -> None:
        for caller in pending:
            for sample in caller_messages(caller):
                begun = time.perf_counter()
                async with hub.engine.connect() as connection:
                    await connection.execute(
                        text("INSERT INTO bench_raw (payload) VALUES (CAST(:p AS jsonb))"),
                        {"p": sample.message.model_dump_json()},
                    )
                    await connection.commit()
                latencies.append(time.perf_counter() - begun)

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "seconds": round(elapsed, 2),
        "per_second": round(len(latencies) / elapsed, 1),
        "all": percentiles(latencies),
    }


async def check_inline(hub: Hub, outbox_ids: list[int]) -> dict[str, int]:
    """Counts the inline answers not confirmed as sent and those the sweep would pick up."""
    async with hub.session_factory() as session:
        unconfirmed = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.status != OutboxStatus.SENT)
        )
        stranded = await outbox_service.list_stranded(
            db_session=session, max_attempts=hub.settings.outbox_max_attempts, limit=100_000
        )
    ids = set(outbox_ids)
    return {
        "answers": len(ids),
        "not_sent": int(unconfirmed or 0),
        "swept": sum(1 for outbox_id, _bulk in stranded if outbox_id in ids),
    }


async def main(callers: int, concurrency: int, use_redis: bool) -> dict[str, object]:
    # The follow-up photo joins the report only within the continuation window (the
    # default 10 minutes; the shared scratch hub turns it off for the throughput benches).
    hub = await fresh_hub(concurrency=concurrency, use_redis=use_redis, continuation_minutes=10)
    try:
        # Warm-up callers (routing cache, statement caches, the pool) are not measured.
        warm = max(concurrency * 4, 20)
        await run_callers(hub, range(9_000_000, 9_000_000 + warm), concurrency)
        bare = await bare_limit(hub, range(callers), concurrency)
        load_before = os.getloadavg()
        measured = await run_callers(hub, range(callers), concurrency)
        load_after = os.getloadavg()
        checked = await check_inline(hub, measured.pop("_inline_ids"))  # type: ignore[arg-type]
    finally:
        await hub.close()
    ratio = (
        bare["all"]["p50_ms"] / measured["all"]["p50_ms"]  # type: ignore[index]
    )
    return {
        "python": platform.python_version(),
        "callers": callers,
        "messages": callers * 4,
        "concurrency": concurrency,
        "redis": use_redis,
        "load_average": {
            "before": [round(value, 2) for value in load_before],
            "after": [round(value, 2) for value in load_after],
        },
        "bare_insert_commit": bare,
        "inline": measured,
        "p50_ratio_bare_to_inline": round(ratio, 3),
        "inline_answers": checked,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--callers", type=int, default=750, help="four messages each")
    parser.add_argument("--concurrency", type=int, default=1, help="callers at a time")
    parser.add_argument("--no-redis", action="store_true")
    args = parser.parse_args()
    print(
        json.dumps(
            asyncio.run(main(args.callers, args.concurrency, not args.no_redis)),
            indent=2,
            ensure_ascii=False,
        )
    )
