"""Data for bench.dispatch: a city-sized unit grid, random points on it, accepted cases,
and the bare limit of an auto-dispatch.

The grid is ``rows`` × ``cols`` squares of about 100 m × 100 m laid edge to edge (a
constant step in degrees, so the cell of a point is also plain arithmetic, which the
benchmark uses to check every answer). It lies south-west of the demo city's 20 cells and
does not overlap them. Each cell belongs to one of the demo communities (vertical
stripes), so cases in it get a community and a district, and the demo's responsibilities
(garbage in the river district goes to its own cleaning department) apply.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np
from shapely.geometry import box
from sqlalchemy import text

from bench.common import bench_database_url
from core.db import utcnow
from core.runtime import Hub
from core.territory.geometry import cell_row

SIDE_M = 100.0
METRES_PER_DEGREE_LAT = 111_320.0
CELL_COLUMNS = ("code", "community_id", "geometry", "min_lon", "min_lat", "max_lon", "max_lat")


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def asyncpg_dsn() -> str:
    return bench_database_url().replace("postgresql+asyncpg://", "postgresql://")


@dataclass(frozen=True)
class Grid:
    rows: int
    cols: int
    lat0: float = 55.40  # the south-west corner; the demo city is at 55.75, 37.60
    lon0: float = 37.30

    @property
    def dlat(self) -> float:
        return SIDE_M / METRES_PER_DEGREE_LAT

    @property
    def dlon(self) -> float:
        middle = self.lat0 + self.rows * self.dlat / 2
        return SIDE_M / (METRES_PER_DEGREE_LAT * math.cos(math.radians(middle)))

    def code(self, row: int, col: int) -> str:
        return f"BG{row:03d}{col:03d}"

    def rows_for(self, communities: list[int]) -> list[tuple[object, ...]]:
        """Returns the grid_cells rows (CELL_COLUMNS order), built by the product's helper."""
        now = datetime.now(UTC)
        result: list[tuple[object, ...]] = []
        for row in range(self.rows):
            south, north = self.lat0 + row * self.dlat, self.lat0 + (row + 1) * self.dlat
            for col in range(self.cols):
                west, east = self.lon0 + col * self.dlon, self.lon0 + (col + 1) * self.dlon
                values = cell_row(box(west, south, east, north))
                community = communities[col * len(communities) // self.cols]
                result.append(
                    (self.code(row, col), community, *(values[c] for c in CELL_COLUMNS[2:]), now)
                )
        return result

    def points(
        self, count: int, rng: np.random.Generator, margin: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Returns ``count`` uniform (lats, lons) over the grid widened by ``margin`` per side.

        With margin 0.05, (1 / 1.1)² ≈ 83 % of the points fall inside the grid.
        """
        height, width = self.rows * self.dlat, self.cols * self.dlon
        lats = rng.uniform(self.lat0 - margin * height, self.lat0 + (1 + margin) * height, count)
        lons = rng.uniform(self.lon0 - margin * width, self.lon0 + (1 + margin) * width, count)
        return lats, lons

    def expected(self, lats: np.ndarray, lons: np.ndarray) -> list[str | None]:
        """Returns the code of the cell each point falls in by arithmetic (None outside)."""
        rows = np.floor((lats - self.lat0) / self.dlat).astype(np.int64)
        cols = np.floor((lons - self.lon0) / self.dlon).astype(np.int64)
        inside = (rows >= 0) & (rows < self.rows) & (cols >= 0) & (cols < self.cols)
        return [
            self.code(int(r), int(c)) if ok else None
            for r, c, ok in zip(rows, cols, inside, strict=True)
        ]


async def insert_grid(grid: Grid) -> dict[str, float]:
    """COPYs the grid into grid_cells; returns the seconds spent building and writing."""
    connection = await asyncpg.connect(asyncpg_dsn())
    try:
        communities = [
            r[0] for r in await connection.fetch("SELECT id FROM communities ORDER BY id")
        ]
        started = time.perf_counter()
        records = grid.rows_for(communities)
        built = time.perf_counter()
        await connection.copy_records_to_table(
            "grid_cells", records=records, columns=[*CELL_COLUMNS, "updated_at"]
        )
        await connection.execute("ANALYZE grid_cells")
        written = time.perf_counter()
    finally:
        await connection.close()
    return {"cells": len(records), "build_s": built - started, "copy_s": written - built}


# bench.intake's bare limit: one single-row INSERT and COMMIT per item.
BARE_TABLE = (
    "CREATE TABLE bench_bare (id bigserial PRIMARY KEY, payload text NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now())"
)
BARE_INSERT = "INSERT INTO bench_bare (payload) VALUES (:p)"
CHECK_PLACED = (
    "SELECT t.id, g.code, c.stage FROM tickets AS t"
    " JOIN dispatch_cases AS c ON c.ticket_id = t.id"
    " LEFT JOIN grid_cells AS g ON g.id = t.grid_cell_id WHERE t.id = ANY(:ids)"
)

# Accepted cases as intake leaves them (ticket "new" in the dispatch back office, case
# "accepted"), each in a grid cell with its community and district, at the cell's centre.
# The 12 city-case categories in turn; one in ten urgent. One statement per set.
SEED_CASES = """
WITH cells AS (
    SELECT g.id, g.community_id, c.district_id, (g.min_lat + g.max_lat) / 2 AS lat,
           (g.min_lon + g.max_lon) / 2 AS lon, row_number() OVER (ORDER BY g.id) - 1 AS n
    FROM grid_cells g JOIN communities c ON c.id = g.community_id
    WHERE g.code LIKE 'BG%'
), kinds AS (
    SELECT array_agg(id ORDER BY id) AS ids FROM categories WHERE kind = 'city_case'
), picks AS (
    SELECT i, (i::bigint * 7919) % (SELECT count(*) FROM cells) AS n,
           k.ids[1 + i % array_length(k.ids, 1)] AS category_id
    FROM generate_series($1::int, $2::int) AS i, kinds AS k
), made AS (
    INSERT INTO tickets (channel, kind, category_id, summary, language, back_office, priority,
                         status, district_id, community_id, grid_cell_id, latitude, longitude,
                         overdue, escalation_level, created_at, updated_at)
    SELECT 'web', 'city_case', p.category_id, 'bench case ' || p.i, 'en', 'dispatch',
           CASE WHEN p.i % 10 = 0 THEN 'urgent' ELSE 'normal' END, 'new', c.district_id,
           c.community_id, c.id, c.lat, c.lon, false, 0, now(), now()
    FROM picks AS p JOIN cells AS c USING (n)
    ORDER BY p.i
    RETURNING id, priority
)
INSERT INTO dispatch_cases (ticket_id, stage, urgency, attributes, extensions, reworks, returns)
SELECT id, 'accepted', CASE WHEN priority = 'urgent' THEN 'urgent' ELSE 'normal' END, '{}',
       0, 0, 0
FROM made
RETURNING ticket_id
"""


async def seed_cases(sizes: dict[str, int]) -> tuple[dict[str, list[int]], float]:
    """Inserts one set of accepted cases per name; returns their ticket ids and the seconds."""
    connection = await asyncpg.connect(asyncpg_dsn())
    result: dict[str, list[int]] = {}
    started = time.perf_counter()
    try:
        first = 0
        for name, size in sizes.items():
            rows = await connection.fetch(SEED_CASES, first, first + size - 1)
            result[name] = sorted(r[0] for r in rows)
            if len(result[name]) != size:
                raise RuntimeError(f"seeded {len(result[name])} cases for {name}, wanted {size}")
            first += size
        await connection.execute("VACUUM ANALYZE tickets")
        await connection.execute("VACUUM ANALYZE dispatch_cases")
    finally:
        await connection.close()
    return result, time.perf_counter() - started


# The bare limit of one auto-dispatch: the same rows locked and written, nothing decided.
BARE_LOCK = (
    "SELECT t.id, t.status, c.stage FROM tickets AS t"
    " JOIN dispatch_cases AS c ON c.ticket_id = t.id WHERE t.id = :id FOR UPDATE"
)
BARE_TICKET = (
    "UPDATE tickets SET status = 'assigned', department_id = :department, due_at = :due,"
    " overdue = false, updated_at = :now WHERE id = :id"
)
BARE_CASE = (
    "UPDATE dispatch_cases SET stage = 'dispatched', registered_at = :now,"
    " dispatched_at = :now, handle_due_at = :due WHERE ticket_id = :id"
)
BARE_EVENTS = (
    "INSERT INTO ticket_events (ticket_id, kind, actor, data, created_at) VALUES"
    " (:id, 'stage_changed', 'bench', CAST(:registered AS json), :now),"
    " (:id, 'status_changed', 'system', CAST(:status AS json), :now),"
    " (:id, 'stage_changed', 'system', CAST(:dispatched AS json), :now)"
)


def bare_dispatch(hub: Hub, department: int) -> Callable[[object], Awaitable[None]]:
    """The bare limit of one auto-dispatch on PostgreSQL, through the hub's engine."""
    statements = [text(s) for s in (BARE_LOCK, BARE_TICKET, BARE_CASE)]
    events = text(BARE_EVENTS)

    async def bare(item: object) -> None:
        now = utcnow()
        values = {"id": item, "department": department, "due": now + timedelta(hours=4)}
        values |= {"now": now, "registered": '{"stage": "registered"}'}
        values |= {"status": '{"status": "assigned"}', "dispatched": '{"stage": "dispatched"}'}
        async with hub.engine.connect() as connection:
            for statement in statements:
                await connection.execute(statement, values)
            await connection.execute(events, values)
            await connection.commit()

    return bare


# Every set's cases must end dispatched, with a department and the same due time on the
# case and its ticket; a run that skipped or broke some cannot report a figure.
CHECK_DISPATCHED = """
SELECT count(*) FILTER (WHERE c.stage = 'dispatched' AND t.status = 'assigned'
                          AND t.department_id IS NOT NULL AND c.handle_due_at IS NOT NULL
                          AND t.due_at = c.handle_due_at AND c.registered_at IS NOT NULL),
       count(*),
       count(*) FILTER (WHERE cat.code = 'garbage' AND d.code = 'river'),
       count(*) FILTER (WHERE cat.code = 'garbage' AND d.code = 'river'
                          AND dep.code = 'river_cleaning'),
       (SELECT count(*) FROM ticket_events AS e WHERE e.ticket_id = ANY(:ids))
FROM tickets AS t
JOIN dispatch_cases AS c ON c.ticket_id = t.id
JOIN categories AS cat ON cat.id = t.category_id
JOIN districts AS d ON d.id = t.district_id
LEFT JOIN departments AS dep ON dep.id = t.department_id
WHERE t.id = ANY(:ids)
"""

CELLS = "SELECT geometry, min_lon, min_lat, max_lon, max_lat FROM grid_cells ORDER BY id"

# The SQL alternative to the in-memory index: the bounding-box pre-filter on grid_cells.
SQL_BBOX = (
    "SELECT id, code FROM grid_cells"
    " WHERE min_lon <= :x AND max_lon >= :x AND min_lat <= :y AND max_lat >= :y"
)
