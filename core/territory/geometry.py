"""Grid-cell geometry helpers (shapely does the geometry; this only shapes the rows)."""

from __future__ import annotations

import json
import math
from typing import Any

from shapely.geometry import Polygon, box, mapping, shape

_METRES_PER_DEGREE_LAT = 111_320.0


def cell_row(polygon: Polygon) -> dict[str, Any]:
    """Returns GridCell column values (GeoJSON and bounding box) for a polygon."""
    if not polygon.is_valid or polygon.is_empty:
        raise ValueError("a grid cell must be a valid, non-empty polygon")
    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    return {
        "geometry": json.dumps(mapping(polygon)),
        "min_lon": min_lon,
        "min_lat": min_lat,
        "max_lon": max_lon,
        "max_lat": max_lat,
    }


def square_cell(lat: float, lon: float, *, side_m: float) -> dict[str, Any]:
    """Returns the row values of a square cell of ``side_m`` metres centred on a point."""
    half_lat = side_m / 2 / _METRES_PER_DEGREE_LAT
    half_lon = side_m / 2 / (_METRES_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return cell_row(box(lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat))


def polygon_of(geometry_json: str) -> Polygon:
    """Returns the shapely polygon stored in a GridCell row."""
    geometry = shape(json.loads(geometry_json))
    if not isinstance(geometry, Polygon):
        raise ValueError("grid cells are polygons")
    return geometry
