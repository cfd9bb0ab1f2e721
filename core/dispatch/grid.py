"""Point → unit grid cell, through an in-memory spatial index (shapely's STRtree).

A city has tens of thousands of cells (31,000 in the benchmark); testing a point against
each polygon would cost milliseconds, the tree answers in microseconds. Each process keeps
one index per database and rebuilds it only when the cells changed.
"""

from __future__ import annotations

import asyncio
import math
import time as monotonic_time
import weakref
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import shapely
from shapely import STRtree
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.territory.models import Community, GridCell

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class CellHit:
    cell_id: int
    code: str
    community_id: int | None
    district_id: int | None


class GridIndex:
    """An immutable snapshot of the grid: cells, their polygons and the tree over them."""

    def __init__(self, cells: list[CellHit], geometries: list[str]) -> None:
        self.cells = cells
        polygons = shapely.from_geojson(np.array(geometries, dtype=object)) if cells else []
        self._polygons = np.asarray(polygons, dtype=object)
        self._tree = STRtree(self._polygons)

    def __len__(self) -> int:
        return len(self.cells)

    def locate(self, latitude: float, longitude: float) -> CellHit | None:
        """Returns the cell containing the point (on a shared edge, the first one loaded)."""
        if not (math.isfinite(latitude) and math.isfinite(longitude)):
            return None
        found = self._tree.query(shapely.Point(longitude, latitude), predicate="intersects")
        if len(found) == 0:
            return None
        return self.cells[int(found.min())]

    def locate_many(self, points: list[tuple[float, float]]) -> list[CellHit | None]:
        """Returns the cell of each (lat, lon) point, in one vectorised query."""
        if not points:
            return []
        lats, lons = np.array(points, dtype=float).T
        found = self._tree.query(shapely.points(lons, lats), predicate="intersects")
        hits: list[CellHit | None] = [None] * len(points)
        # found[0]: index of the point, found[1]: index of the cell; keep the first cell.
        for point_index, cell_index in sorted(zip(found[0], found[1], strict=True)):
            if hits[point_index] is None:
                hits[point_index] = self.cells[int(cell_index)]
        return hits


async def load_index(*, db_session: AsyncSession) -> GridIndex:
    """Returns a fresh index of every grid cell."""
    rows = (
        await db_session.execute(
            select(
                GridCell.id,
                GridCell.code,
                GridCell.community_id,
                Community.district_id,
                GridCell.geometry,
            )
            .outerjoin(Community, Community.id == GridCell.community_id)
            .order_by(GridCell.id)
        )
    ).all()
    cells = [CellHit(r[0], r[1], r[2], r[3]) for r in rows]
    # Parsing 31,000 polygons takes a moment: off the event loop.
    return await asyncio.to_thread(GridIndex, cells, [r[4] for r in rows])


async def _signature(db_session: AsyncSession) -> tuple[int, int | None, datetime | None]:
    row = (
        await db_session.execute(
            select(func.count(GridCell.id), func.max(GridCell.id), func.max(GridCell.updated_at))
        )
    ).one()
    return int(row[0]), row[1], row[2]


@dataclass
class _Cached:
    index: GridIndex
    signature: tuple[int, int | None, datetime | None]
    checked_at: float


_CACHE: dict[str, _Cached] = {}
# One rebuild at a time per database and event loop: at start-up a burst of requests would
# otherwise each build its own index of 31,000 cells, and all wait seconds for them.
_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


async def grid_index(*, db_session: AsyncSession, max_age: float = 30.0) -> GridIndex:
    """Returns this process's index of the grid, rebuilt when the cells have changed.

    The cheap signature query (count, last id, last change) runs at most every ``max_age``
    seconds; the index is rebuilt only when the signature moved.
    """
    key = str(db_session.get_bind().engine.url)
    cached = _CACHE.get(key)
    now = monotonic_time.monotonic()
    if cached is not None and now - cached.checked_at < max_age:
        return cached.index
    signature = await _signature(db_session)
    if cached is not None and cached.signature == signature:
        cached.checked_at = now
        return cached.index
    locks = _LOCKS.setdefault(asyncio.get_running_loop(), {})
    async with locks.setdefault(key, asyncio.Lock()):
        cached = _CACHE.get(key)
        if cached is not None and cached.signature == signature:
            return cached.index  # built by the request this one waited for
        cached = _Cached(await load_index(db_session=db_session), signature, now)
        _CACHE[key] = cached
    return cached.index


def invalidate() -> None:
    """Forgets every cached index (after an import in this process)."""
    _CACHE.clear()


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Returns the great-circle distance between two points in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def degree_box(latitude: float, longitude: float, radius_m: float) -> tuple[float, ...]:
    """Returns (min_lat, max_lat, min_lon, max_lon) around a point: an SQL pre-filter."""
    dlat = radius_m / 111_320.0
    dlon = radius_m / (111_320.0 * max(math.cos(math.radians(latitude)), 0.01))
    return latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon
