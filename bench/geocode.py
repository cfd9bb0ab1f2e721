"""Geocoding report texts against 100,000 buildings on PostgreSQL.

    python -m bench.geocode [--streets 1000] [--houses 100] [--messages 2000]
                            [--concurrency 16] [--whole-table 2] [--no-redis]

The demo city plus ``--streets`` × ``--houses`` buildings (defaults: 100,000), each with a
Russian, an English and a Chinese address ("ул. Каломиская, 17", "Kalomiford Street, 17",
"卡洛米街17号"), street names made of syllables so their first letters are shared the way
real ones are. The buildings are inserted in bulk SQL, then filed by
``core.territory.places.index_buildings`` (timed).

1. ``core.territory.geocode.geocode`` over ``--messages`` texts: one in two names a
   building's address (in one of the three languages, with other numbers around it), one
   in four names a landmark by an alias, one in four names no place but has numbers. Every
   answer is checked against the building or landmark the text names. Run one at a time
   (p50/p99, CPU and statements per message) and at ``--concurrency``, with a ticker that
   records how late the event loop woke (what other requests would have waited).
2. Beside it, in the same run and pool: the bare indexed lookup of a building by code
   (``SELECT … FROM buildings WHERE code = $1``), one at a time and at ``--concurrency``.
3. The whole-table geocoder this replaced (load every building and gazetteer row, match
   each name), ``--whole-table`` times, for the before figure.

Prints human-readable lines on stderr, then a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import select, text

from bench.common import fresh_hub, run_concurrently
from bench.dispatch import _sequential
from bench.dispatch_seed import log
from core.db import transaction
from core.runtime import Hub
from core.territory import places
from core.territory.geocode import Place, _contains, fold, geocode
from core.territory.models import Building, GazetteerEntry

SYLLABLES_RU = ["ка", "ло", "ми", "ре", "су", "та", "ве", "но", "ди", "зо"]
SYLLABLES_EN = ["ka", "lo", "mi", "re", "su", "ta", "ve", "no", "di", "zo"]
SYLLABLES_ZH = ["卡", "洛", "米", "列", "苏", "塔", "维", "诺", "迪", "佐"]
FIRST_ID = 1_000_000
SEED_BUILDINGS = """
INSERT INTO buildings (id, community_id, code, addresses, latitude, longitude, total_area)
SELECT :first + g, :community, 'GEO-' || g, a.value,
       55.60 + (g % 400) * 0.0005, 37.40 + (g / 400) * 0.0005, 5000
FROM json_array_elements(CAST(:addresses AS json)) WITH ORDINALITY AS a(value, g)
"""
LANDMARKS = [
    ("Rubbish piled up near the station", "station"),
    ("Мусор возле рынка, третий день", "market"),
    ("车站门口有垃圾", "station"),
    ("Lamp out by the pier", "pier"),
]
NO_PLACE = [
    "Подъезд 2, лифт не работает с 3 мая, 14 этаж",
    "Call me back after 5 pm, flat 12",
    "请在3点以后回电话，12楼",
]


def street(n: int) -> tuple[str, str, str]:
    """Returns street ``n``'s name in Russian, English and Chinese (three syllables)."""
    digits = (n // 100 % 10, n // 10 % 10, n % 10)
    return (
        "".join(SYLLABLES_RU[d] for d in digits).capitalize(),
        "".join(SYLLABLES_EN[d] for d in digits).capitalize(),
        "".join(SYLLABLES_ZH[d] for d in digits),
    )


def addresses(n_street: int, house: int) -> dict[str, str]:
    ru, en, zh = street(n_street)
    # Endings as real names have them: the matcher forgives a word's last two letters
    # (Russian inflection), so names differing only there would be one name to it.
    return {
        "ru": f"ул. {ru}ская, {house}",
        "en": f"{en}ford Street, {house}",
        "zh": f"{zh}街{house}号",
    }


async def seed_buildings(hub: Hub, streets: int, houses: int) -> dict[str, Any]:
    every = [addresses(s, h) for s in range(streets) for h in range(1, houses + 1)]
    async with transaction(hub.session_factory) as session:
        community = await session.scalar(text("SELECT min(id) FROM communities"))
        started = time.perf_counter()
        await session.execute(
            text(SEED_BUILDINGS),
            {
                "first": FIRST_ID,
                "community": community,
                "addresses": json.dumps(every, ensure_ascii=False),
            },
        )
        inserted = time.perf_counter() - started
        started = time.perf_counter()
        filed = await places.index_buildings(
            db_session=session, building_ids=list(range(FIRST_ID + 1, FIRST_ID + len(every) + 1))
        )
        indexed = time.perf_counter() - started
    async with hub.engine.begin() as connection:
        await connection.execute(text("ANALYZE buildings"))
        await connection.execute(text("ANALYZE place_names"))
    figures = {
        "buildings": len(every),
        "names_filed": filed,
        "insert_s": round(inserted, 2),
        "index_s": round(indexed, 2),
    }
    log(f"seed: {figures}")
    return figures


def messages(count: int, streets: int, houses: int, seed: int) -> list[tuple[str, Any]]:
    """Returns (text, expected) pairs: a building id, a landmark code, or None."""
    rng = random.Random(seed)
    out: list[tuple[str, Any]] = []
    landmarks, no_place = itertools.cycle(LANDMARKS), itertools.cycle(NO_PLACE)
    for n in range(count):
        if n % 2 == 0:
            s, h = rng.randrange(streets), rng.randint(1, houses)
            named = addresses(s, h)
            building = FIRST_ID + s * houses + h
            text_ = rng.choice(
                [
                    f"Протекает крыша, {named['ru']}, подъезд {rng.randint(1, 6)}",
                    f"Water leak at {named['en']}, flat {rng.randint(1, 200)}",
                    f"{named['zh']}{rng.randint(1, 9)}单元漏水",
                ]
            )
            out.append((text_, building))
        elif n % 4 == 1:
            out.append(next(landmarks))
        else:
            out.append((next(no_place), None))
    return out


def _pct(ordered: Sequence[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _figures(latencies: list[float], seconds: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "count": len(ordered),
        "per_second": round(len(ordered) / seconds, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(_pct(ordered, 0.99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def _timed_run(
    items: Sequence[object], action: Callable[[object], Awaitable[object]], concurrency: int
) -> tuple[dict[str, float], float]:
    """Runs ``action`` over ``items``; returns latency figures and the event loop's worst lag."""
    latencies: list[float] = []
    lag, running = 0.0, True

    async def ticker() -> None:
        nonlocal lag
        while running:
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            lag = max(lag, time.perf_counter() - before - 0.001)

    async def timed(item: object) -> None:
        started = time.perf_counter()
        await action(item)
        latencies.append(time.perf_counter() - started)

    tick = asyncio.create_task(ticker())
    stats = await run_concurrently(items, timed, concurrency)
    running = False
    await tick
    return _figures(latencies, stats.seconds), round(lag * 1000, 2)


async def geocoding(hub: Hub, args: argparse.Namespace) -> dict[str, Any]:
    async with hub.session_factory() as session:
        points = {
            code: (lat, lon)
            for code, lat, lon in await session.execute(
                select(GazetteerEntry.code, GazetteerEntry.latitude, GazetteerEntry.longitude)
            )
        }
    pairs = messages(args.messages, args.streets, args.houses, args.seed)
    wrong: list[tuple[str, Any, Place | None]] = []

    async def locate(item: object) -> None:
        assert isinstance(item, tuple)
        text_, expected = item
        async with hub.session_factory() as session:
            place = await geocode(db_session=session, text=text_)
        if expected is None:
            ok = place is None
        elif isinstance(expected, int):
            ok = place is not None and place.building_id == expected
        else:
            ok = place is not None and (place.latitude, place.longitude) == points[expected]
        if not ok:
            wrong.append((text_, expected, place))

    bare_codes = [
        f"GEO-{1 + (n * 7_919) % (args.streets * args.houses)}" for n in range(len(pairs))
    ]

    async def bare(item: object) -> None:
        async with hub.engine.connect() as connection:
            row = (
                await connection.execute(
                    text("SELECT id, latitude, longitude FROM buildings WHERE code = :code"),
                    {"code": item},
                )
            ).first()
        assert row is not None

    await run_concurrently(pairs[:200], locate, args.concurrency)  # warm the pool and caches
    wrong.clear()
    out: dict[str, Any] = {}
    # Bare, geocode, geocode, bare: a drift in the host's load weighs on both alike.
    half = len(pairs) // 2
    for label, items, action, concurrency in (
        ("bare_one_at_a_time", bare_codes[:half], bare, 1),
        ("geocode_one_at_a_time", pairs[:half], locate, 1),
        ("geocode_concurrent", pairs[half:], locate, args.concurrency),
        ("bare_concurrent", bare_codes[half:], bare, args.concurrency),
    ):
        figures, lag = await _timed_run(items, action, concurrency)
        out[label] = {**figures, "event_loop_worst_lag_ms": lag}
        log(f"{label}: {out[label]}")
    out["sequential_profile"] = {
        "geocode": await _sequential(hub, pairs[:300], locate),
        "bare": await _sequential(hub, bare_codes[:300], bare),
    }
    log(f"  one at a time, per message: {out['sequential_profile']}")
    out["wrong"] = len(wrong)
    if wrong:
        raise SystemExit(f"geocoding check failed ({len(wrong)}), e.g. {wrong[:3]}")
    return out


async def whole_table(hub: Hub, pairs: list[tuple[str, Any]], runs: int) -> dict[str, Any]:
    """The geocoder as it was: every building and gazetteer name matched against the text."""
    if runs <= 0:
        return {}
    seconds = []
    for text_, expected in pairs[:runs]:
        started = time.perf_counter()
        haystack, found = fold(text_), None
        async with hub.session_factory() as session:
            for building in await session.scalars(select(Building)):
                for address in (building.addresses or {}).values():
                    if _contains(haystack, fold(address)):
                        found = building.id
            for entry in await session.scalars(select(GazetteerEntry)):
                for name in (entry.names or {}).values():
                    _contains(haystack, fold(name))
        seconds.append(time.perf_counter() - started)
        assert expected is None or not isinstance(expected, int) or found == expected
    out = {"runs": runs, "mean_s": round(statistics.fmean(seconds), 2)}
    log(f"whole-table geocoder (before): {out}")
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    hub = await fresh_hub(concurrency=args.concurrency, use_redis=not args.no_redis)
    try:
        async with hub.engine.connect() as connection:
            server = (await connection.execute(text("SHOW server_version"))).scalar()
        seeded = await seed_buildings(hub, args.streets, args.houses)
        measured = await geocoding(hub, args)
        pairs = messages(args.whole_table * 2, args.streets, args.houses, args.seed + 1)
        before = await whole_table(hub, pairs[::2], args.whole_table)
    finally:
        await hub.close()
    return {
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": server,
            "load_average_before_after": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        },
        "seed": seeded,
        "concurrency": args.concurrency,
        "geocoding": measured,
        "whole_table_before": before,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streets", type=int, default=1_000)
    parser.add_argument("--houses", type=int, default=100, help="houses per street")
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--whole-table", type=int, default=2, help="runs of the old geocoder")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--no-redis", action="store_true")
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2, ensure_ascii=False))
