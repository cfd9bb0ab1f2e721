"""The point → cell index on its own: inside, outside, edges, and the vectorised form."""

from __future__ import annotations

from core.dispatch.grid import CellHit, GridIndex, degree_box, distance_m
from core.territory.geometry import square_cell


def _index() -> GridIndex:
    rows = [square_cell(55.75, 37.60 + 0.0016 * i, side_m=100) for i in range(3)]
    cells = [CellHit(i + 1, f"C{i}", None, None) for i in range(3)]
    return GridIndex(cells, [row["geometry"] for row in rows])


def test_points_find_their_cell_and_outside_points_none() -> None:
    index = _index()
    assert len(index) == 3
    assert index.locate(55.75, 37.60).code == "C0"  # type: ignore[union-attr]
    assert index.locate(55.75, 37.6032).code == "C2"  # type: ignore[union-attr]
    assert index.locate(55.76, 37.60) is None
    assert index.locate(float("nan"), 37.60) is None


def test_a_point_on_a_shared_edge_goes_to_one_cell_always() -> None:
    index = _index()
    # Cells are 100 m wide and 0.0016° (~100.3 m) apart here, so take a real shared edge.
    rows = [square_cell(55.0, 37.0, side_m=100)]
    min_lon = float(rows[0]["max_lon"])
    edge = GridIndex(
        [CellHit(1, "W", None, None), CellHit(2, "E", None, None)],
        [
            rows[0]["geometry"],
            square_cell(55.0, min_lon + (min_lon - 37.0), side_m=100)["geometry"],
        ],
    )
    assert edge.locate(55.0, min_lon).code == "W"  # type: ignore[union-attr]
    assert index.locate_many([]) == []


def test_many_points_at_once_agree_with_one_at_a_time() -> None:
    index = _index()
    points = [(55.75, 37.60), (55.76, 37.60), (55.75, 37.6016), (55.75, 37.6032)]
    assert index.locate_many(points) == [index.locate(*p) for p in points]


def test_distances_and_boxes() -> None:
    assert round(distance_m(55.75, 37.60, 55.751, 37.60)) == 111
    min_lat, max_lat, min_lon, max_lon = degree_box(55.75, 37.60, 100)
    assert distance_m(55.75, 37.60, max_lat, 37.60) >= 99
    assert distance_m(55.75, 37.60, 55.75, max_lon) >= 99
    assert min_lat < 55.75 < max_lat and min_lon < 37.60 < max_lon
