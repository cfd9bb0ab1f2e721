"""Property complaints on PostgreSQL: intake routed through the contract register, the
integrity ranking, and the estates register page.

    python -m bench.complaints [--companies 2000] [--estates 20000] [--residents 40000]
                               [--events 200000] [--complaints 3000] [--concurrency 16]
                               [--repeat 5] [--ranking-requests 48] [--address 2]
                               [--no-redis]

The demo city plus bench.complaints_seed's registers (defaults: 2,000 companies, 20,000
estates of 5 buildings, 25,000 contracts of which 5,000 ended and 1,000 not yet started,
40,000 residents owning a flat each, 200,000 integrity events), seeded in bulk SQL.

1. Intake: ``--complaints`` SMS complaints (category "stairwell") from distinct residents
   through ``core.intake.service.receive``, each routed home building → estate → contract
   on the day → company, or to triage when the estate has no contract (one in 20); every
   one is checked against the company the seed's arithmetic gives. Beside it, in the same
   run with the same pool and tasks: the same intake of a general-triage message (category
   "other", no back-office work) from other residents, and the bare lookup building →
   estate → current contract → company as one SQL statement per complaint. A sequential
   sample gives CPU, wall time and SQL statements per message for both intakes. Then
   ``--address`` complaints from unknown phones that name a building's address (the
   gazetteer path), one at a time.
2. Ranking: ``integrity.scores()`` for every active company (``--repeat`` times, split into
   time in SQL and the rest), ``GET /api/v1/complaints/ranking.csv`` and ``/ranking``
   through the ASGI app (httpx.ASGITransport), ``--ranking-requests`` CSV requests at
   ``--concurrency`` with the ranking cache off (every request computes) and twenty times
   as many with it on (core.complaints.ranking), beside the bare limit: one hand-written
   GROUP BY over score_events with asyncpg. Every company's deductions, awards and upheld
   count are checked against it.
3. ``GET /api/v1/complaints/estates`` (500 estates, the API's default page) beside one SQL
   statement returning the same page with each estate's current contract and company.

Prints human-readable lines on stderr, then a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from bench import complaints_seed as seed
from bench.common import fresh_hub, run_concurrently
from bench.dispatch import _sequential
from bench.dispatch_seed import asyncpg_dsn, log
from channels.contract import Channel, InboundMessage
from core.auth import service as auth_service
from core.auth.enums import Role
from core.complaints import integrity
from core.complaints.ranking import ranking_cache
from core.complaints.service import local_day
from core.db import transaction, utcnow
from core.intake import service as intake
from core.runtime import Hub
from core.territory import places
from portal.app import create_app

COMPLAINT_TEXTS = [
    "Лифт не работает вторую неделю",
    "В подъезде не убирают, грязно",
    "楼道里垃圾没人清理",
    "Lift broken in entrance 2",
    "Подъезд не освещён, лампы перегорели",
]
GENERAL_TEXTS = [
    "Когда будет собрание жильцов?",
    "Question about the city website",
    "请问办事大厅几点开门",
]
BASE_URL = "http://bench.local"


def _percentile(ordered: Sequence[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


@dataclass
class Tally:
    """Latencies and elapsed seconds of one or more runs of the same action."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def figures(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        return {
            "count": len(ordered),
            "seconds": round(self.seconds, 2),
            "per_second": round(len(ordered) / self.seconds, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(_percentile(ordered, 0.95) * 1000, 1),
            "p99_ms": round(_percentile(ordered, 0.99) * 1000, 1),
        }


async def _measure(
    items: Sequence[object],
    action: Callable[[object], Awaitable[object]],
    concurrency: int,
    tally: Tally | None = None,
) -> Tally:
    """run_concurrently, keeping every latency (the common helper reports p50 and p99 only)."""
    tally = tally if tally is not None else Tally()
    latencies = tally.latencies

    async def timed(item: object) -> None:
        started = time.perf_counter()
        await action(item)
        latencies.append(time.perf_counter() - started)

    stats = await run_concurrently(items, timed, concurrency)
    tally.seconds += stats.seconds
    return tally


def _line(label: str, figures: dict[str, float]) -> str:
    return (
        f"{label}: {figures['count']:,} in {figures['seconds']:.2f} s ="
        f" {figures['per_second']:,.0f}/s, p50 {figures['p50_ms']} ms,"
        f" p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms"
    )


def _message(resident: int, body: str, category: str, prefix: str) -> InboundMessage:
    return InboundMessage(
        channel=Channel.SMS,
        sender_address=seed.resident_phone(resident),
        text=body,
        provider_message_id=f"{prefix}-{resident}",
        received_at=utcnow(),
        category_code=category,
    )


class StatementClock:
    """Counts the statements an engine runs and the time spent in them (sequential use)."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.count, self.seconds, self._started = engine, 0, 0.0, 0.0

    def _before(self, *_: object) -> None:
        self._started = time.perf_counter()

    def _after(self, *_: object) -> None:
        self.count += 1
        self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> StatementClock:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


async def intake_complaints(
    hub: Hub, sizes: seed.Sizes, offsets: seed.Offsets, args: argparse.Namespace
) -> dict[str, Any]:
    count, concurrency, profile = args.complaints, args.concurrency, args.profile
    warm = concurrency * 4
    residents = iter(range(1, sizes.residents + 1))

    def take(n: int) -> list[int]:
        return list(itertools.islice(residents, n))

    complaint_texts, general_texts = (
        itertools.cycle(COMPLAINT_TEXTS),
        itertools.cycle(GENERAL_TEXTS),
    )

    def complaints(ids: list[int]) -> list[InboundMessage]:
        return [_message(i, next(complaint_texts), "stairwell", "cm") for i in ids]

    def generals(ids: list[int]) -> list[InboundMessage]:
        return [_message(i, next(general_texts), "other", "gm") for i in ids]

    warm_c, measured_c, profile_c = complaints(take(warm)), take(count), take(profile)
    warm_g, measured_g, profile_g = generals(take(warm)), take(count), take(profile)
    taken: list[int] = []

    async def receive(item: object) -> None:
        assert isinstance(item, InboundMessage)
        result = await intake.receive(hub=hub, message=item)
        assert result.ticket_id is not None
        taken.append(result.ticket_id)

    today = local_day(hub.settings, utcnow())
    wrong_bare = 0

    async def route(item: object) -> None:
        nonlocal wrong_bare
        assert isinstance(item, int)
        building = 1 + ((item - 1) * seed.BUILDING_STEP) % sizes.buildings
        async with hub.engine.connect() as connection:
            row = (
                await connection.execute(
                    seed.ROUTE, {"on": today, "building": offsets.building + building}
                )
            ).one()
        wrong_bare += row[2] != seed.expected_company(item, sizes, offsets)

    await run_concurrently(warm_c, receive, concurrency)
    await run_concurrently(warm_g, receive, concurrency)
    bare = (await _measure(measured_c, route, concurrency)).figures()
    # Halves in the order A B B A, so a drift in the host's load weighs on both alike.
    general_tally, complaint_tally = Tally(), Tally()
    general_ids: list[int] = []
    complaint_ids: list[int] = []
    half = len(measured_c) // 2
    blocks = [
        (generals(measured_g[:half]), general_tally, general_ids),
        (complaints(measured_c[:half]), complaint_tally, complaint_ids),
        (complaints(measured_c[half:]), complaint_tally, complaint_ids),
        (generals(measured_g[half:]), general_tally, general_ids),
    ]
    for messages, tally, ids in blocks:
        first = len(taken)
        await _measure(messages, receive, concurrency, tally)
        ids.extend(taken[first:])
    general, complaint = general_tally.figures(), complaint_tally.figures()
    first = len(taken)
    sequential = {
        "complaint": await _sequential(hub, complaints(profile_c), receive),
        "general": await _sequential(hub, generals(profile_g), receive),
    }
    log(_line("bare SQL: building → estate → current contract → company", bare))
    log(_line("intake, general-triage message (category other)", general))
    log(_line("intake, complaint routed through the contract register", complaint))
    log(f"  one at a time, per message: {sequential}")

    every = [*taken[:warm], *complaint_ids, *taken[first : first + profile]]
    checked = await _check_routing(hub, sizes, offsets, every)
    async with hub.engine.connect() as connection:
        general_ok = (
            await connection.execute(seed.CHECK_GENERAL, {"ids": general_ids})
        ).scalar_one()
        notices = (await connection.execute(seed.COMPANY_NOTICES)).scalar_one()
    checked["general_tickets_with_home"] = general_ok
    checked["company_notices_queued"] = notices
    checked["bare_lookups_wrong"] = wrong_bare
    log(f"  check: {checked}")
    if (
        checked["wrong"]
        or wrong_bare
        or general_ok != len(general_ids)
        or notices != checked["with_company"]
    ):
        raise SystemExit(f"complaint routing check failed: {checked}")
    return {
        "concurrency": concurrency,
        "bare_route_sql": bare,
        "general_intake": general,
        "complaint_intake": complaint,
        "ratio_to_general": round(complaint["per_second"] / general["per_second"], 3),
        "sequential": sequential,
        "check": checked,
    }


async def _check_routing(
    hub: Hub, sizes: seed.Sizes, offsets: seed.Offsets, ticket_ids: list[int]
) -> dict[str, Any]:
    """Checks every complaint went to the company the seed says, or to triage."""
    async with hub.engine.connect() as connection:
        rows = (await connection.execute(seed.CHECK_COMPLAINTS, {"ids": ticket_ids})).all()
    with_company = triage = wrong = 0
    for resident_id, stage, company_id, reason, contract_id in rows:
        expected = seed.expected_company(resident_id - offsets.resident, sizes, offsets)
        if expected is None and stage == "triage" and reason == "no_contract":
            triage += 1
        elif stage == "with_company" and company_id == expected and contract_id is not None:
            with_company += 1
        else:
            wrong += 1
    wrong += len(ticket_ids) - len(rows)
    return {"complaints": len(rows), "with_company": with_company, "triage": triage, "wrong": wrong}


async def address_path(
    hub: Hub, sizes: seed.Sizes, offsets: seed.Offsets, count: int
) -> dict[str, Any]:
    """Complaints from unknown phones naming a building's address, one at a time."""
    if count <= 0:
        return {}
    seconds: list[float] = []
    right = 0
    for n in range(count):
        estate = 1 + (n * 7_717) % sizes.estates
        building = (estate - 1) * sizes.per_estate + 1 + n % sizes.per_estate
        message = InboundMessage(
            channel=Channel.SMS,
            sender_address=f"+7906{n:07d}",
            text=f"Лифт не работает, {seed.building_address(building)}",
            provider_message_id=f"addr-{n}",
            received_at=utcnow(),
            category_code="stairwell",
        )
        started = time.perf_counter()
        result = await intake.receive(hub=hub, message=message)
        seconds.append(time.perf_counter() - started)
        async with hub.engine.connect() as connection:
            row = (
                await connection.execute(
                    text("SELECT estate_id FROM complaints WHERE ticket_id = :id"),
                    {"id": result.ticket_id},
                )
            ).one()
        right += row[0] == offsets.estate + estate
    out = {
        "complaints": count,
        "estate_found": right,
        "mean_ms": round(statistics.fmean(seconds) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }
    log(f"intake, complaint from an unknown phone naming an address, one at a time: {out}")
    return out


async def ranking(hub: Hub, args: argparse.Namespace) -> dict[str, Any]:
    now = utcnow()
    since = now - timedelta(days=hub.settings.complaints_score_window_days)
    connection = await asyncpg.connect(asyncpg_dsn())
    try:
        active = int(await connection.fetchval(seed.ACTIVE_COMPANIES))
        await connection.fetch(seed.BARE_SUMS, since)
        bare_times, bare_rows = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            bare_rows = await connection.fetch(seed.BARE_SUMS, since)
            bare_times.append(time.perf_counter() - started)
        plan = json.loads(
            await connection.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + seed.BARE_SUMS, since)
        )
    finally:
        await connection.close()

    score_times: list[float] = []
    sql_seconds: list[float] = []
    statements = 0
    found: list[integrity.Score] = []
    for _ in range(args.repeat + 1):
        async with hub.session_factory() as session:
            with StatementClock(hub.engine.sync_engine) as clock:
                started = time.perf_counter()
                found = await integrity.scores(db_session=session, settings=hub.settings, now=now)
                score_times.append(time.perf_counter() - started)
        sql_seconds.append(clock.seconds)
        statements = clock.count
    score_times, sql_seconds = score_times[1:], sql_seconds[1:]  # the first one warms up

    check = _check_scores(found, bare_rows, active, hub)
    app = create_app(hub.settings, hub=hub, run_worker=False, prepare_database=False)
    transport = httpx.ASGITransport(app=app)
    http: dict[str, Any] = {}
    cache_seconds = ranking_cache(hub).ttl
    loaded: dict[str, Any] = {}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:

        async def fetch(_: object) -> None:
            (await client.get("/api/v1/complaints/ranking.csv")).raise_for_status()

        # Without the cache (every request computes, as before it existed), then with it.
        for label, ttl in (("uncached", 0.0), ("cached", cache_seconds or 10.0)):
            ranking_cache(hub).ttl = ttl
            ranking_cache(hub).invalidate()
            requests = list(range(args.ranking_requests * (1 if ttl <= 0 else 20)))
            loaded[label] = (await _measure(requests, fetch, args.concurrency)).figures()
            log(
                _line(
                    f"GET ranking.csv {label} (ttl {ttl} s), {args.concurrency} at once",
                    loaded[label],
                )
            )
        ranking_cache(hub).ttl = 0.0
        for path in ("/api/v1/complaints/ranking.csv", "/api/v1/complaints/ranking"):
            times = []
            for _ in range(args.repeat + 1):
                started = time.perf_counter()
                response = await client.get(path)
                times.append(time.perf_counter() - started)
                response.raise_for_status()
            rows = (
                len(response.text.splitlines()) - 1
                if path.endswith(".csv")
                else len(response.json())
            )
            if rows != active:
                raise SystemExit(f"{path} returned {rows} companies, {active} are active")
            http[path] = {
                "rows": rows,
                "bytes": len(response.content),
                "median_ms": round(statistics.median(times[1:]) * 1000, 1),
                "min_ms": round(min(times[1:]) * 1000, 1),
            }
            log(f"GET {path}: {http[path]}")
        ranking_cache(hub).ttl = cache_seconds

    out = {
        "active_companies": active,
        "bare_group_by_ms": _ms(bare_times),
        "bare_group_rows": len(bare_rows),
        "bare_plan": _scan(plan[0]["Plan"]),
        "bare_execution_ms": round(plan[0]["Execution Time"], 1),
        "scores_ms": _ms(score_times),
        "scores_sql_ms": _ms(sql_seconds),
        "scores_statements": statements,
        "http": http,
        "ranking_csv_concurrent": loaded,
        "check": check,
    }
    log(
        f"bare GROUP BY over score_events (asyncpg): {out['bare_group_by_ms']} ms"
        f" ({out['bare_plan']}, {out['bare_execution_ms']} ms in the server)"
    )
    log(
        f"integrity.scores(), {active:,} companies: {out['scores_ms']} ms, of which in SQL"
        f" {out['scores_sql_ms']} ms ({statements} statements)"
    )
    log(f"  check: {check}")
    return out


def _scan(plan: dict[str, Any]) -> str:
    """Returns the node that reads the table (the plan's innermost)."""
    while plan.get("Plans"):
        plan = plan["Plans"][0]
    return str(plan["Node Type"])


def _ms(seconds: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(seconds) * 1000, 1),
        "min": round(min(seconds) * 1000, 1),
        "max": round(max(seconds) * 1000, 1),
    }


def _check_scores(
    found: list[integrity.Score], bare_rows: list[Any], active: int, hub: Hub
) -> dict[str, Any]:
    """Compares every company's deductions, awards and upheld count with the bare query."""
    sums: dict[tuple[int, str], Decimal] = {}
    upheld: dict[int, int] = {}
    for company_id, section, points, _count, upheld_count in bare_rows:
        sums[(company_id, section)] = Decimal(points)
        upheld[company_id] = upheld.get(company_id, 0) + int(upheld_count)
    cap = Decimal(str(hub.settings.complaints_good_cap))
    wrong = sum(
        score.bad != sums.get((score.company_id, "bad"), Decimal(0))
        or score.good != min(sums.get((score.company_id, "good"), Decimal(0)), cap)
        or score.upheld_complaints != upheld.get(score.company_id, 0)
        for score in found
    )
    ranked = [s.total for s in found if not s.blacklisted]
    out = {
        "companies": len(found),
        "wrong": wrong,
        "blacklisted_last": all(s.blacklisted for s in found[len(ranked) :]),
        "sorted": ranked == sorted(ranked, reverse=True),
        "total_min_max": [str(min(ranked)), str(max(ranked))] if ranked else [],
    }
    if wrong or len(found) != active or not out["sorted"] or not out["blacklisted_last"]:
        raise SystemExit(f"ranking check failed: {out}")
    return out


async def estates_page(hub: Hub, args: argparse.Namespace) -> dict[str, Any]:
    """GET /api/v1/complaints/estates (default page of 500) beside one SQL statement."""
    async with transaction(hub.session_factory) as session:
        _, key = await auth_service.create_api_key(
            db_session=session, name="bench", role=Role.SUPERVISOR
        )
    app = create_app(hub.settings, hub=hub, run_worker=False, prepare_database=False)
    times: list[float] = []
    body: list[dict[str, Any]] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers={"X-API-Key": key}
    ) as client:
        with StatementClock(hub.engine.sync_engine) as clock:
            for _ in range(args.repeat + 1):
                started = time.perf_counter()
                response = await client.get("/api/v1/complaints/estates")
                times.append(time.perf_counter() - started)
                response.raise_for_status()
                body = response.json()
    today = local_day(hub.settings, utcnow())
    connection = await asyncpg.connect(asyncpg_dsn())
    try:
        await connection.fetch(seed.BARE_ESTATES, today, len(body))
        bare_times, rows = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            rows = await connection.fetch(seed.BARE_ESTATES, today, len(body))
            bare_times.append(time.perf_counter() - started)
    finally:
        await connection.close()
    same = [(e["code"], e["contract"], e["company"]) for e in body] == [tuple(r) for r in rows]
    out = {
        "estates": len(body),
        "same_as_bare": same,
        "statements_per_request": round(clock.count / len(times), 1),
        "sql_ms_per_request": round(clock.seconds / len(times) * 1000, 1),
        "request_ms": _ms(times[1:]),
        "bare_ms": _ms(bare_times),
    }
    log(f"GET /api/v1/complaints/estates: {out}")
    if not same:
        raise SystemExit("the estates page differs from the bare query")
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    sizes = seed.Sizes(
        companies=args.companies,
        estates=args.estates,
        per_estate=args.per_estate,
        residents=args.residents,
        events=args.events,
    )
    needed = 2 * (args.complaints + args.profile + 4 * args.concurrency)
    if needed > sizes.residents:
        raise SystemExit(f"--residents must be at least {needed} for these sizes")
    load_before = os.getloadavg()
    hub = await fresh_hub(concurrency=args.concurrency, use_redis=not args.no_redis)
    try:
        async with hub.engine.connect() as connection:
            server = (await connection.execute(text("SHOW server_version"))).scalar()
        started = time.perf_counter()
        offsets, seeded = await seed.seed(sizes, utcnow())
        seeded["seconds"] = round(time.perf_counter() - started, 1)
        log(f"seeded in {seeded['seconds']} s: {seeded['counts']}")
        # Raw SQL inserts bypass the geocoder's index: file the seeded addresses.
        started = time.perf_counter()
        async with transaction(hub.session_factory) as session:
            await places.index_buildings(db_session=session)
        seeded["places_index_s"] = round(time.perf_counter() - started, 1)
        taken = await intake_complaints(hub, sizes, offsets, args)
        taken["address_path"] = await address_path(hub, sizes, offsets, args.address)
        ranked = await ranking(hub, args)
        estates = await estates_page(hub, args)
    finally:
        await hub.close()
    return {
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": server,
            "load_average_before_after": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        },
        "redis": not args.no_redis,
        "pool": args.concurrency,
        "seed": seeded,
        "intake": taken,
        "ranking": ranked,
        "estates_page": estates,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--companies", type=int, default=2_000)
    parser.add_argument("--estates", type=int, default=20_000)
    parser.add_argument("--per-estate", type=int, default=5, help="buildings per estate")
    parser.add_argument("--residents", type=int, default=40_000)
    parser.add_argument("--events", type=int, default=200_000, help="integrity events")
    parser.add_argument("--complaints", type=int, default=3_000, help="per intake run")
    parser.add_argument("--concurrency", type=int, default=16, help="tasks and pool size")
    parser.add_argument("--profile", type=int, default=200, help="messages run one at a time")
    parser.add_argument("--address", type=int, default=2, help="complaints naming an address")
    parser.add_argument("--repeat", type=int, default=5, help="timings of each ranking read")
    parser.add_argument("--ranking-requests", type=int, default=48)
    parser.add_argument("--no-redis", action="store_true")
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2, ensure_ascii=False))
