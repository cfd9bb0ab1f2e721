"""Dispatch data imports: categories (CSV and YAML), responsibilities, gazetteer, grid."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from core.auth.enums import Role
from core.db import transaction
from core.dispatch.models import CaseCategory, TimeLimit
from core.importing.service import ImportRejected
from core.imports import import_text
from core.routing.models import Category
from core.runtime import Hub
from core.territory.models import GridCell
from tests.core.dispatch.factories import NOWHERE, case_of, report, staff_key

DEFAULTS = Path(__file__).parents[3] / "core" / "dispatch" / "defaults" / "categories.yaml"
HEADER = (
    "code,family,major,minor,name_en,name_ru,name_zh,"
    "limit_normal,unit_normal,limit_urgent,unit_urgent,attributes\n"
)


async def _import(hub: Hub, what: str, text: str, fmt: str = "csv") -> tuple[int, int, int]:
    async with transaction(hub.session_factory) as session:
        report_ = await import_text(db_session=session, what=what, text=text, fmt=fmt)
    return report_.created, report_.updated, report_.unchanged


async def test_the_default_categories_are_loaded_and_a_reimport_changes_nothing(hub: Hub) -> None:
    text = DEFAULTS.read_text(encoding="utf-8")
    assert await _import(hub, "dispatch_categories", text, "yaml") == (0, 0, 12)
    async with hub.session_factory() as session:
        details = await session.scalar(
            select(CaseCategory).join(Category).where(Category.code == "garbage")
        )
        limits = {
            (row.urgency, row.limit, row.unit)
            for row in await session.scalars(
                select(TimeLimit).where(TimeLimit.category_id == details.category_id)  # type: ignore[union-attr]
            )
        }
    assert details is not None and (details.family, details.major_code) == ("event", "01")
    assert limits == {("normal", 4, "working_hours"), ("urgent", 2, "working_hours")}


async def test_a_city_numbering_imports_from_csv(hub: Hub) -> None:
    attributes = json.dumps(
        [{"code": "size", "datatype": "number", "names": {"en": "Size, m²"}}]
    ).replace('"', '""')
    row = f'pothole,event,07,02,Pothole,Яма,坑洼,3,working_days,1,working_days,"{attributes}"\n'
    assert await _import(hub, "dispatch_categories", HEADER + row) == (1, 0, 0)
    assert await _import(hub, "dispatch_categories", HEADER + row) == (0, 0, 1)
    changed = row.replace(",3,working_days", ",5,working_days")
    assert await _import(hub, "dispatch_categories", HEADER + changed) == (0, 1, 0)

    # An imported category reaches dispatch even without a routing rule of its own.
    received = await report(hub, "Big pothole", category_code="pothole")
    ticket, case = await case_of(hub, received.ticket_id or 0)
    assert ticket.back_office == "dispatch" and case.stage == "accepted"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("x,thing,01,01,X,,,4,working_hours,,,", "family must be component or event"),
        ("x,event,1,01,X,,,4,working_hours,,,", "two-digit class codes"),
        ("x,event,01,01,X,,,,,,,", "normal-urgency time limit is required"),
        ("x,event,01,01,X,,,4,fortnights,,,", "unknown unit"),
        ("x,event,01,01,X,,,0,working_hours,,,", "from 1 to 10000 working_hours"),
        ("x,event,01,01,,,,4,working_hours,,,", "name_en is required"),
        ("x,event,01,01,X,,,4,working_hours,,,[{", "attributes is not valid JSON"),
        ("bad code!,event,01,01,X,,,4,working_hours,,,", "letters, digits"),
        ("bill_question,event,01,01,X,,,4,working_hours,,,", "not a city-case category"),
    ],
)
async def test_bad_category_rows_are_refused_with_a_reason(hub: Hub, row: str, reason: str) -> None:
    good = "fine,event,09,09,Fine,,,4,working_hours,,,\n"
    with pytest.raises(ImportRejected) as refused:
        await _import(hub, "dispatch_categories", HEADER + good + row + "\n")
    [(line, text)] = refused.value.report.rejected
    assert line == 3 and reason in text
    async with hub.session_factory() as session:
        assert await session.scalar(select(Category.id).where(Category.code == "fine")) is None


def _cells(*features: dict[str, object]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def _square(code: str, lat: float, lon: float, side: float = 0.0005) -> dict[str, object]:
    ring = [[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]
    return {
        "type": "Feature",
        "properties": {"code": code, "community": "birch"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


async def test_grid_cells_import_from_geojson_and_are_found_at_once(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    agent = await staff_key(hub, Role.AGENT)
    where = {"lat": NOWHERE[0], "lon": NOWHERE[1]}
    assert (
        await client.get("/api/v1/dispatch/locate", params=where, headers=agent)
    ).status_code == 404
    cells = _cells(_square("NEW001", NOWHERE[0] - 0.0002, NOWHERE[1] - 0.0002))
    admin = await staff_key(hub, Role.ADMIN)
    imported = await client.post(
        "/api/v1/dispatch/imports/grid",
        params={"format": "geojson"},
        content=cells,
        headers={**admin, "Content-Type": "text/plain"},
    )
    assert imported.status_code == 200 and imported.json()["created"] == 1
    found = await client.get("/api/v1/dispatch/locate", params=where, headers=agent)
    assert found.status_code == 200 and found.json()["code"] == "NEW001"


@pytest.mark.parametrize(
    ("feature", "reason"),
    [
        (
            {"properties": {"code": "P"}, "geometry": {"type": "Point", "coordinates": [37, 55]}},
            "Polygon",
        ),
        (
            {
                "properties": {"code": "B"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[37, 55], [37.01, 55.01], [37.01, 55], [37, 55.01], [37, 55]]],
                },
            },
            "valid",
        ),
        ({"properties": {"code": "N"}, "geometry": None}, "GeoJSON geometry"),
        (
            {**_square("C", 55.0, 37.0), "properties": {"code": "C", "community": "atlantis"}},
            "unknown community",
        ),
        ({"properties": {}, "geometry": _square("x", 55, 37)["geometry"]}, "missing: code"),
    ],
)
async def test_bad_cells_are_refused_and_nothing_is_written(
    hub: Hub, feature: dict[str, object], reason: str
) -> None:
    async with hub.session_factory() as session:
        before = await session.scalar(select(func.count()).select_from(GridCell))
    text = _cells(_square("OK1", 55.0, 37.0), {"type": "Feature", **feature})
    with pytest.raises(ImportRejected) as refused:
        await _import(hub, "grid", text, "geojson")
    [(line, text_)] = refused.value.report.rejected
    assert line == 2 and reason in text_
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(GridCell)) == before


async def test_unreadable_files_are_refused(hub: Hub) -> None:
    for what, text, fmt in (
        ("grid", "{not json", "geojson"),
        ("grid", '{"type": "Feature"}', "geojson"),
        ("dispatch_categories", "- [unclosed", "yaml"),
        ("dispatch_categories", "just a string", "yaml"),
    ):
        with pytest.raises(ImportRejected):
            await _import(hub, what, text, fmt)


async def test_gazetteer_and_responsibilities(hub: Hub) -> None:
    gazetteer = "code,kind,name_en,name_ru,name_zh,aliases,lat,lon\n"
    gazetteer += "fountain,landmark,Singing Fountain,Поющий фонтан,音乐喷泉,фонтан,55.754,37.6\n"
    assert await _import(hub, "gazetteer", gazetteer) == (1, 0, 0)
    received = await report(hub, "Мусор возле фонтана… у Поющего фонтана", at=None)
    ticket, _case = await case_of(hub, received.ticket_id or 0)
    assert (ticket.latitude, ticket.longitude) == (55.754, 37.6)

    with pytest.raises(ImportRejected) as refused:
        await _import(hub, "gazetteer", gazetteer.replace("55.754", "95"))
    assert "lat must be between" in refused.value.report.rejected[0][1]
    with pytest.raises(ImportRejected) as unknown:
        await _import(hub, "responsibilities", "department,category\nnobody,garbage\n")
    assert unknown.value.report.rejected == [(2, "unknown department 'nobody'")]
