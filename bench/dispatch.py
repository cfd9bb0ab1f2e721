"""City-case dispatch on PostgreSQL: grid lookups, intake of located reports, auto-dispatch.

    python -m bench.dispatch [--side 176] [--points 200000] [--reports 5000] [--cases 5000]
                             [--concurrency 8,16] [--intake-concurrency 16] [--no-redis]

The demo city plus a ``--side``² grid of ~100 m cells (176² = 30,976; bench.dispatch_seed).
1. Point → cell: ``load_index`` (3 times), ``GridIndex.locate`` one by one and
   ``locate_many`` over ``--points`` random points (~83 % inside), every answer checked by
   arithmetic; beside them the bare STRtree query on the same polygons, brute force numpy
   bbox and shapely ``contains_xy`` over every cell (a sample), the SQL bbox query per
   point, and ``grid_index`` with an empty cache hit by a full pool at once.
2. Intake: ``--reports`` city-case reports with a point and a category through
   ``core.intake.service.receive`` beside bench.intake's bare INSERT + COMMIT loop; each
   must become an accepted case in the right cell.
3. Auto-dispatch: per ``--concurrency`` level, ``--cases`` bulk-inserted accepted cases
   registered as the API view does (ticket + case FOR UPDATE, ``act(REGISTER)``, commit,
   publish), beside the bare limit on a twin set (same rows locked, both updated, 3 event
   rows, commit); then every case is counted: dispatched, department, due time. A
   sequential sample gives CPU, wall time and SQL statements per case for both.

Prints human-readable lines on stderr, then a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import numpy as np
import shapely
from shapely import STRtree
from sqlalchemy import event, text

from bench import dispatch_seed as seed
from bench.common import RunStats, fresh_hub, run_concurrently
from bench.dispatch_seed import Grid, log
from bench.intake import TEXTS
from channels.contract import Channel, InboundMessage, Location
from core.auth.enums import Role
from core.auth.service import Principal
from core.db import utcnow
from core.dispatch import actions, grid
from core.dispatch import service as dispatch_service
from core.dispatch.enums import Action
from core.intake import service as intake
from core.runtime import Hub
from core.tickets.numbers import format_public_number
from core.tickets.service import CITY_SCOPE

PRINCIPAL = Principal(actor="bench:dispatcher", role=Role.DISPATCHER, scope=CITY_SCOPE)
REGISTER = actions.ActionInput(action=Action.REGISTER)
CITY_CASES = ["garbage", "street_light", "manhole_cover", "road_not_clean", "illegal_ad", "bench"]


def _stats(stats: RunStats) -> dict[str, float]:
    return {k: round(getattr(stats, k), 2) for k in ("count", "per_second", "p50_ms", "p99_ms")}


def _rate(count: int, seconds: float) -> dict[str, float]:
    return {"count": count, "seconds": round(seconds, 3), "per_second": round(count / seconds)}


def _timed(label: str, count: int, work: Callable[[], object]) -> tuple[dict[str, float], Any]:
    started = time.perf_counter()
    result = work()
    figures = _rate(count, time.perf_counter() - started)
    log(f"{label}: {count:,} in {figures['seconds']:.3f} s = {figures['per_second']:,}/s")
    return figures, result


async def grid_lookups(hub: Hub, city: Grid, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    loads = []
    for _ in range(3):
        async with hub.session_factory() as session:
            started = time.perf_counter()
            index = await grid.load_index(db_session=session)
            loads.append(time.perf_counter() - started)
    async with hub.engine.connect() as connection:
        rows = (await connection.execute(text(seed.CELLS))).all()
    geometries = [r[0] for r in rows]
    started = time.perf_counter()
    grid.GridIndex(index.cells, geometries)
    parse_and_tree = time.perf_counter() - started
    polygons = shapely.from_geojson(np.array(geometries, dtype=object))
    tree = STRtree(polygons)
    out["cells"] = len(index)
    out["load_index_s"] = [round(s, 3) for s in loads]
    out["parse_and_tree_s"] = round(parse_and_tree, 3)
    log(
        f"load_index, {len(index):,} cells: {', '.join(f'{s:.2f}' for s in loads)} s"
        f" (parsing GeoJSON + STRtree: {parse_and_tree:.2f} s, the rest is the query)"
    )

    lats, lons = city.points(args.points, np.random.default_rng(args.seed), margin=0.05)
    expected = city.expected(lats, lons)
    pairs = list(zip(lats.tolist(), lons.tolist(), strict=True))
    inside = sum(code is not None for code in expected)
    out["points"], out["inside"] = len(pairs), inside

    def codes(hits: Sequence[grid.CellHit | None]) -> list[str | None]:
        return [hit.code if hit else None for hit in hits]

    out["locate"], single = _timed(
        "GridIndex.locate, one by one", len(pairs), lambda: [index.locate(a, o) for a, o in pairs]
    )
    out["locate_many"], many = _timed(
        "GridIndex.locate_many, all at once", len(pairs), lambda: index.locate_many(pairs)
    )
    out["wrong_locate"] = sum(a != b for a, b in zip(codes(single), expected, strict=True))
    out["wrong_locate_many"] = sum(a != b for a, b in zip(codes(many), expected, strict=True))
    out["tree_query"], _ = _timed(
        "bare STRtree.query per point",
        len(pairs),
        lambda: [tree.query(shapely.Point(o, a), predicate="intersects") for a, o in pairs],
    )
    out["tree_query_bulk"], _ = _timed(
        "bare STRtree.query, all points at once",
        len(pairs),
        lambda: tree.query(shapely.points(lons, lats), predicate="intersects"),
    )
    min_lon, min_lat, max_lon, max_lat = np.array([r[1:] for r in rows], dtype=float).T

    def brute(sample: list[tuple[float, float]]) -> list[np.ndarray]:
        return [
            np.flatnonzero((min_lon <= o) & (max_lon >= o) & (min_lat <= a) & (max_lat >= a))
            for a, o in sample
        ]

    out["brute_bbox"], found = _timed(
        "brute force numpy bbox over every cell", args.brute, lambda: brute(pairs[: args.brute])
    )
    out["contains_xy"], _ = _timed(
        "shapely contains_xy over every cell",
        args.contains,
        lambda: [
            np.flatnonzero(shapely.contains_xy(polygons, o, a)) for a, o in pairs[: args.contains]
        ],
    )
    out["wrong_brute"] = sum(
        (index.cells[int(f[0])].code if len(f) else None) != code
        for f, code in zip(found, expected, strict=False)
    )

    wrong_sql = 0
    async with hub.engine.connect() as connection:
        query = text(seed.SQL_BBOX)
        await connection.execute(query, {"x": pairs[0][1], "y": pairs[0][0]})
        started = time.perf_counter()
        for (lat, lon), code in zip(pairs[: args.sql], expected, strict=False):
            hits = (await connection.execute(query, {"x": lon, "y": lat})).all()
            wrong_sql += (hits[0][1] if hits else None) != code
        out["sql_bbox"] = _rate(args.sql, time.perf_counter() - started)
        plan = (
            await connection.execute(
                text("EXPLAIN (ANALYZE, FORMAT JSON) " + seed.SQL_BBOX),
                {"x": pairs[0][1], "y": pairs[0][0]},
            )
        ).scalar_one()
    out["wrong_sql"] = wrong_sql
    out["sql_plan"] = plan[0]["Plan"]["Node Type"]
    out["sql_execution_ms"] = round(plan[0]["Execution Time"], 2)
    log(
        f"SQL bbox query per point: {args.sql:,} in {out['sql_bbox']['seconds']:.2f} s ="
        f" {out['sql_bbox']['per_second']:,}/s ({out['sql_plan']},"
        f" {out['sql_execution_ms']} ms in the server)"
    )

    # A cold cache (a new process, or cells just changed) hit by a full pool at once.
    grid.invalidate()
    herd = hub.settings.db_pool_size

    async def fetch(_: int) -> grid.GridIndex:
        async with hub.session_factory() as session:
            return await grid.grid_index(db_session=session, max_age=30.0)

    started = time.perf_counter()
    built = await asyncio.gather(*(fetch(i) for i in range(herd)))
    out["cold_cache"] = {
        "requests": herd,
        "indexes_built": len({id(i) for i in built}),
        "seconds": round(time.perf_counter() - started, 2),
    }
    log(f"grid_index, empty cache, {herd} requests at once: {out['cold_cache']}")
    for key in ("wrong_locate", "wrong_locate_many", "wrong_brute", "wrong_sql"):
        if out[key]:
            raise SystemExit(f"{key}: {out[key]} points got the wrong cell")
    return out


async def intake_reports(hub: Hub, city: Grid, args: argparse.Namespace) -> dict[str, Any]:
    async with hub.engine.begin() as connection:
        await connection.execute(text(seed.BARE_TABLE))
    count, concurrency = args.reports, args.intake_concurrency
    warm, total = concurrency * 4, concurrency * 4 + args.reports + args.profile
    lats, lons = city.points(total, np.random.default_rng(args.seed + 1))
    expected = city.expected(lats, lons)
    now, texts, kinds = utcnow(), itertools.cycle(TEXTS), itertools.cycle(CITY_CASES)
    reports = [
        InboundMessage(
            channel=Channel.SMS,
            sender_address=f"+7913{i % max(1, count // 2):07d}",
            text=next(texts),
            provider_message_id=f"case-{i}",
            received_at=now,
            location=Location(latitude=lat, longitude=lon),
            category_code=next(kinds),
        )
        for i, (lat, lon) in enumerate(zip(lats.tolist(), lons.tolist(), strict=True))
    ]
    placed: dict[int, str | None] = {}

    async def receive(item: object) -> None:
        assert isinstance(item, InboundMessage)
        result = await intake.receive(hub=hub, message=item)
        assert result.ticket_id is not None
        placed[result.ticket_id] = expected[int(item.provider_message_id[5:])]

    async def insert_commit(item: object) -> None:
        async with hub.engine.connect() as connection:
            await connection.execute(text(seed.BARE_INSERT), {"p": str(item)})
            await connection.commit()

    await run_concurrently(reports[:warm], receive, concurrency)
    bare = await run_concurrently(list(range(count)), insert_commit, concurrency)
    stats = await run_concurrently(reports[warm : warm + count], receive, concurrency)
    sequential = await _sequential(hub, reports[warm + count :], receive)
    async with hub.engine.connect() as connection:
        rows = (await connection.execute(text(seed.CHECK_PLACED), {"ids": list(placed)})).all()
    right = sum(1 for r in rows if r[2] == "accepted" and r[1] == placed[r[0]])
    log(bare.line("bare INSERT+COMMIT"))
    log(stats.line("intake, city-case report with a point"))
    log(f"  one at a time, per report: {sequential}")
    log(f"  accepted cases in the right cell: {right} of {total}")
    if right != total:
        raise SystemExit(f"intake placed {right} of {total} reports in the right cell")
    return {
        "concurrency": concurrency,
        "bare_insert_commit": _stats(bare),
        "intake": _stats(stats),
        "ratio": round(stats.per_second / bare.per_second, 3),
        "sequential": sequential,
        "placed_right": right,
    }


def _register(hub: Hub) -> Callable[[object], Awaitable[None]]:
    async def register(item: object) -> None:
        assert isinstance(item, int)
        async with hub.session_factory() as session:
            ctx = actions.Context(PRINCIPAL, await hub.routing.get(), hub.settings, utcnow())
            ticket, case = await dispatch_service.get_in_scope(
                db_session=session, number=format_public_number(item), scope=CITY_SCOPE, lock=True
            )
            await actions.act(db_session=session, ticket=ticket, case=case, data=REGISTER, ctx=ctx)
            # The commit runs the queueing and the wake-up (core.events.collector), as in a view.
            await session.commit()

    return register


async def _sequential(
    hub: Hub, items: Sequence[object], action: Callable[[object], Awaitable[None]]
) -> dict[str, float]:
    """Runs one item at a time; returns wall and CPU ms and SQL statements per item."""
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(hub.engine.sync_engine, "before_cursor_execute", count)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        for item in items:
            await action(item)
    finally:
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        event.remove(hub.engine.sync_engine, "before_cursor_execute", count)
    n = max(1, len(items))
    return {
        "wall_ms": round(wall / n * 1000, 2),
        "cpu_ms": round(cpu / n * 1000, 2),
        "statements": round(statements / n, 1),
    }


async def auto_dispatch(hub: Hub, cases: int, levels: list[int], profile: int) -> dict[str, Any]:
    sizes = {"profile": profile, "profile_bare": profile}
    for level in levels:
        sizes |= {f"warm{level}": level * 4, f"bare{level}": cases, f"real{level}": cases}
    sets, seed_seconds = await seed.seed_cases(sizes)
    log(f"seeded {sum(sizes.values()):,} accepted cases in {seed_seconds:.1f} s")
    async with hub.engine.connect() as connection:
        sanitation = (
            await connection.execute(text("SELECT id FROM departments WHERE code = 'sanitation'"))
        ).scalar_one()
    register, bare = _register(hub), seed.bare_dispatch(hub, sanitation)
    out: dict[str, Any] = {"cases_per_level": cases, "seed_s": round(seed_seconds, 1)}
    for level in levels:
        await run_concurrently(sets[f"warm{level}"], register, level)
        bare_stats = await run_concurrently(sets[f"bare{level}"], bare, level)
        stats = await run_concurrently(sets[f"real{level}"], register, level)
        log(bare_stats.line(f"bare lock + 2 UPDATE + 3 events + COMMIT, {level} tasks"))
        log(stats.line(f"register + auto-dispatch, {level} tasks"))
        out[f"concurrency_{level}"] = {
            "bare": _stats(bare_stats),
            "dispatch": _stats(stats),
            "ratio": round(stats.per_second / bare_stats.per_second, 3),
        }
    out["sequential"] = {
        "dispatch": await _sequential(hub, sets["profile"], register),
        "bare": await _sequential(hub, sets["profile_bare"], bare),
    }
    log(f"one at a time, per case: {out['sequential']}")

    bare_sets = {name for name in sets if "bare" in name}
    dispatched = [i for name, ids in sets.items() if name not in bare_sets for i in ids]
    async with hub.engine.connect() as connection:
        good, total, river, river_right, events = (
            await connection.execute(text(seed.CHECK_DISPATCHED), {"ids": dispatched})
        ).one()
    out["check"] = {
        "cases": total,
        "dispatched_with_department_and_due": good,
        "river_garbage": river,
        "river_garbage_to_river_cleaning": river_right,
        "events_per_case": round(events / total, 2),
    }
    log(f"check: {out['check']}")
    if good != len(dispatched) or total != len(dispatched) or river != river_right:
        raise SystemExit(f"auto-dispatch check failed: {out['check']}")
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    levels = [int(level) for level in args.concurrency.split(",")]
    pool = max([*levels, args.intake_concurrency])
    load_before = os.getloadavg()
    hub = await fresh_hub(concurrency=pool, use_redis=not args.no_redis)
    try:
        async with hub.engine.connect() as connection:
            server = (await connection.execute(text("SHOW server_version"))).scalar()
        city = Grid(rows=args.side, cols=args.side)
        written = await seed.insert_grid(city)
        log(
            f"grid: {written['cells']:,} cells built in {written['build_s']:.1f} s,"
            f" COPYed in {written['copy_s']:.1f} s"
        )
        lookups = await grid_lookups(hub, city, args)
        reports = await intake_reports(hub, city, args)
        dispatch = await auto_dispatch(hub, args.cases, levels, args.profile)
    finally:
        await hub.close()
    return {
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": server,
            "shapely": shapely.__version__,
            # Other work on the host shows here; the benchmark alone keeps it near 1–2.
            "load_average_before_after": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        },
        "redis": not args.no_redis,
        "pool": pool,
        "grid": {"cells": written["cells"], "copy_s": round(written["copy_s"], 2)},
        "lookups": lookups,
        "intake": reports,
        "dispatch": dispatch,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--side", type=int, default=176, help="grid of side × side cells")
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--brute", type=int, default=2_000, help="points for the numpy test")
    parser.add_argument("--contains", type=int, default=200, help="points for contains_xy")
    parser.add_argument("--sql", type=int, default=1_000, help="points for the SQL query")
    parser.add_argument("--reports", type=int, default=5_000)
    parser.add_argument("--intake-concurrency", type=int, default=16)
    parser.add_argument("--cases", type=int, default=5_000, help="cases per concurrency level")
    parser.add_argument("--concurrency", default="8,16", help="comma-separated levels")
    parser.add_argument("--profile", type=int, default=300, help="cases run one at a time")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--no-redis", action="store_true")
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2, ensure_ascii=False))
