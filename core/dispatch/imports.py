"""Imports of dispatch data: categories with their codes and limits, responsibilities, the
gazetteer, unit grid cells (GeoJSON) and evaluation weights.

They run in core.importing's framework: CSV, YAML or GeoJSON; one transaction; every bad row
reported; nothing written if any row is bad; rows matched on their key, so importing the
same file twice changes nothing. Columns: docs/import-formats.md.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from shapely.errors import GEOSException
from shapely.geometry import Polygon, shape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.dispatch import grid
from core.dispatch.enums import Family, Urgency
from core.dispatch.evaluation import DEFAULT_WEIGHTS
from core.dispatch.models import CaseCategory, IndicatorWeight, Responsibility, TimeLimit
from core.i18n import LANGUAGES
from core.importing.service import ImportOptions, ImportReport, RowImporter, names_of, upsert
from core.routing.enums import BackOffice
from core.routing.models import Category, Department, RoutingRule
from core.sla.calendar import LimitUnit
from core.territory import places
from core.territory.enums import GazetteerKind
from core.territory.geometry import cell_row
from core.territory.models import Community, District, GazetteerEntry, GridCell
from core.tickets.enums import Priority, TicketKind

MAX_LIMIT = {
    LimitUnit.WORKING_HOURS: 10_000,
    LimitUnit.WORKING_DAYS: 1_000,
    LimitUnit.CALENDAR_HOURS: 50_000,
}
_CLASS_CODE = re.compile(r"^\d{2}$")
_ATTRIBUTE_TYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")


def _cell(row: dict[str, str], column: str, *, required: bool = True, limit: int = 32) -> str:
    value = (row.get(column) or "").strip()
    if required and not value:
        raise ValueError(f"{column} is required")
    if len(value) > limit:
        raise ValueError(f"{column} is longer than {limit} characters")
    return value


def _per_language(row: dict[str, str], prefix: str) -> dict[str, str]:
    return {
        lang: value[:500]
        for lang in ("en", "ru", "zh")
        if (value := (row.get(f"{prefix}_{lang}") or "").strip())
    }


def _float(row: dict[str, str], column: str, low: float, high: float) -> float:
    raw = _cell(row, column)
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise ValueError(f"{column} is not a number: {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{column} must be between {low} and {high}")
    return value


async def _id_of(db_session: AsyncSession, model: Any, code: str, what: str) -> int | None:
    if not code:
        return None
    found = await db_session.scalar(select(model.id).where(model.code == code))
    if found is None:
        raise ValueError(f"unknown {what} {code!r}")
    return int(found)


def _limits(row: dict[str, str]) -> dict[Urgency, tuple[int, str]]:
    """Reads the time limits: a ``limits`` JSON cell (YAML) or limit_/unit_ columns (CSV)."""
    raw: dict[str, Any] = {}
    if (row.get("limits") or "").strip():
        try:
            raw = json.loads(row["limits"])
        except ValueError:
            raise ValueError("limits is not valid JSON") from None
        if not isinstance(raw, dict):
            raise ValueError("limits maps an urgency to [amount, unit]")
    for urgency in Urgency:
        amount = (row.get(f"limit_{urgency}") or "").strip()
        if amount:
            raw[urgency] = [amount, (row.get(f"unit_{urgency}") or "").strip()]
    limits: dict[Urgency, tuple[int, str]] = {}
    for key, value in raw.items():
        try:
            urgency = Urgency(key)
        except ValueError:
            raise ValueError(f"unknown urgency {key!r} (normal or urgent)") from None
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError(f"the {urgency} limit is [amount, unit]")
        try:
            amount_value = int(str(value[0]))
        except ValueError:
            raise ValueError(f"the {urgency} limit is not a whole number") from None
        unit = str(value[1] or LimitUnit.WORKING_HOURS)
        if unit not in LimitUnit.ALL:
            raise ValueError(f"unknown unit {unit!r} ({', '.join(LimitUnit.ALL)})")
        # Ten years of working time is the calendar's horizon; no city limit comes close.
        if not 0 < amount_value <= MAX_LIMIT[unit]:
            raise ValueError(f"the {urgency} limit must be from 1 to {MAX_LIMIT[unit]} {unit}")
        limits[urgency] = (amount_value, unit)
    if Urgency.NORMAL not in limits:
        raise ValueError("a normal-urgency time limit is required")
    return limits


def _attributes(row: dict[str, str]) -> list[dict[str, Any]]:
    """Reads Open311 attributes: a JSON list of {code, datatype, required, names, values}."""
    text = (row.get("attributes") or "").strip()
    if not text:
        return []
    try:
        items = json.loads(text)
    except ValueError:
        raise ValueError("attributes is not valid JSON") from None
    if not isinstance(items, list):
        raise ValueError("attributes is a list")
    seen: set[str] = set()
    attributes = []
    for order, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not _CODE.match(str(item.get("code", ""))):
            raise ValueError(f"attribute {order} needs a code of letters, digits, _ . -")
        code = str(item["code"])
        if code in seen:
            raise ValueError(f"attribute {code!r} appears twice")
        seen.add(code)
        datatype = str(item.get("datatype", "string"))
        if datatype not in _ATTRIBUTE_TYPES:
            raise ValueError(f"attribute {code!r}: unknown datatype {datatype!r}")
        values = item.get("values") or []
        if datatype.endswith("valuelist") and not values:
            raise ValueError(f"attribute {code!r} is a list and needs values")
        names = item.get("names") or {}
        if not isinstance(names, dict) or not names.get("en"):
            raise ValueError(f"attribute {code!r} needs names with at least en")
        attributes.append(
            {
                "code": code,
                "datatype": datatype,
                "required": bool(item.get("required", False)),
                "names": names,
                "values": [
                    {"key": str(v["key"]), "names": v.get("names") or {"en": str(v["key"])}}
                    for v in values
                    if isinstance(v, dict) and "key" in v
                ],
                "order": order,
            }
        )
    return attributes


async def _category_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    code = _cell(row, "code")
    if not _CODE.match(code):
        raise ValueError("code may hold letters, digits, _ . - only")
    try:
        family = Family(_cell(row, "family"))
    except ValueError:
        raise ValueError("family must be component or event") from None
    major, minor = _cell(row, "major"), _cell(row, "minor")
    if not (_CLASS_CODE.match(major) and _CLASS_CODE.match(minor)):
        raise ValueError("major and minor are two-digit class codes (01, 12…)")
    priority = Priority(_cell(row, "priority", required=False) or Priority.NORMAL)
    limits = _limits(row)
    keywords = {
        lang: [w.strip() for w in (row.get(f"keywords_{lang}") or "").split("|") if w.strip()]
        for lang in ("en", "ru", "zh")
    }
    existing = await db_session.scalar(select(Category).where(Category.code == code))
    if existing is not None and existing.kind != TicketKind.CITY_CASE:
        raise ValueError(f"category {code!r} exists and is not a city-case category")
    category_values = {
        "kind": TicketKind.CITY_CASE,
        "names": names_of(row),
        "keywords": {k: v for k, v in keywords.items() if v},
        "default_priority": priority,
        "active": (row.get("active") or "1").strip() != "0",
    }
    # One file row is one category: its three tables' changes count once, in ``report``.
    parts = ImportReport()
    await upsert(db_session, parts, Category, {"code": code}, category_values)
    category_id = await db_session.scalar(select(Category.id).where(Category.code == code))
    assert category_id is not None
    await upsert(
        db_session,
        parts,
        CaseCategory,
        {"category_id": category_id},
        {
            "family": family,
            "major_code": major,
            "minor_code": minor,
            "group_names": _per_language(row, "group"),
            "conditions": _per_language(row, "conditions"),
            "attributes": _attributes(row),
        },
    )
    for urgency, (amount, unit) in limits.items():
        await upsert(
            db_session,
            parts,
            TimeLimit,
            {"category_id": category_id, "urgency": urgency},
            {"limit": amount, "unit": unit},
        )
    await ensure_dispatch_rule(db_session)
    if existing is None:
        report.created += 1
    elif parts.created or parts.updated:
        report.updated += 1
    else:
        report.unchanged += 1


DISPATCH_RULE = "city cases → dispatch"


async def ensure_dispatch_rule(db_session: AsyncSession) -> None:
    """Makes sure city cases reach the dispatch back office even when a category has no
    routing rule of its own (an imported category would otherwise fall to triage)."""
    exists = await db_session.scalar(
        select(RoutingRule.id).where(RoutingRule.match_kind == TicketKind.CITY_CASE).limit(1)
    )
    if exists is None:
        db_session.add(
            RoutingRule(
                position=9000,
                name=DISPATCH_RULE,
                match_kind=TicketKind.CITY_CASE,
                back_office=BackOffice.DISPATCH,
            )
        )
        await db_session.flush()


async def _responsibility_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    department_id = await _id_of(db_session, Department, _cell(row, "department"), "department")
    lookup = {
        "category_id": await _id_of(
            db_session, Category, _cell(row, "category", required=False), "category"
        ),
        "district_id": await _id_of(
            db_session, District, _cell(row, "district", required=False), "district"
        ),
        "community_id": await _id_of(
            db_session, Community, _cell(row, "community", required=False), "community"
        ),
        "grid_cell_id": await _id_of(
            db_session, GridCell, _cell(row, "grid", required=False), "grid cell"
        ),
    }
    await upsert(db_session, report, Responsibility, lookup, {"department_id": department_id})


async def _gazetteer_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    try:
        kind = GazetteerKind(_cell(row, "kind"))
    except ValueError:
        raise ValueError("kind must be street, community or landmark") from None
    code = _cell(row, "code", limit=64)
    await upsert(
        db_session,
        report,
        GazetteerEntry,
        {"code": code},
        {
            "kind": kind,
            "names": names_of(row),
            "aliases": _aliases(row),
            "latitude": _float(row, "lat", -90, 90),
            "longitude": _float(row, "lon", -180, 180),
        },
    )
    entry_id = await db_session.scalar(select(GazetteerEntry.id).where(GazetteerEntry.code == code))
    if entry_id is not None:
        await places.index_gazetteer(db_session=db_session, entry_ids=[entry_id])


def _aliases(row: dict[str, str]) -> dict[str, list[str]]:
    """Returns a row's aliases per language: ``aliases_<lang>`` columns, and ``aliases`` for
    those of no particular language; each a list separated by "|"."""
    found = {}
    for language, column in (("*", "aliases"), *((lang, f"aliases_{lang}") for lang in LANGUAGES)):
        said = [a.strip()[:200] for a in (row.get(column) or "").split("|") if a.strip()]
        if said:
            found[language] = said
    return found


async def _grid_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    code = _cell(row, "code")
    try:
        geometry = shape(json.loads(row.get("geometry") or "null"))
    except (ValueError, TypeError, AttributeError, KeyError, GEOSException):
        raise ValueError("geometry is not a GeoJSON geometry") from None
    if not isinstance(geometry, Polygon):
        raise ValueError("a grid cell's geometry must be a Polygon")
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise ValueError("coordinates must be longitude, latitude in WGS84")
    community_id = await _id_of(
        db_session, Community, _cell(row, "community", required=False), "community"
    )
    try:
        values = cell_row(geometry)
    except ValueError as exc:
        raise ValueError(f"{exc} (self-intersecting?)") from None
    await upsert(
        db_session, report, GridCell, {"code": code}, {"community_id": community_id, **values}
    )
    # Cells changed: this process rebuilds its index on the next lookup.
    grid.invalidate()


async def _weight_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    code = _cell(row, "code")
    if code not in DEFAULT_WEIGHTS:
        raise ValueError(f"unknown indicator {code!r} ({', '.join(DEFAULT_WEIGHTS)})")
    try:
        weight = Decimal(_cell(row, "weight"))
    except InvalidOperation:
        raise ValueError("weight is not a number") from None
    if not weight.is_finite() or not 0 <= weight <= 1000:
        raise ValueError("weight must be from 0 to 1000")
    bad = (row.get("bad") or "").strip().lower()
    if bad not in ("", "0", "1", "true", "false"):
        raise ValueError("bad must be 0/1 or true/false")
    await upsert(
        db_session,
        report,
        IndicatorWeight,
        {"code": code},
        {"weight": weight, "bad": bad in ("1", "true") if bad else DEFAULT_WEIGHTS[code][1]},
    )


IMPORTERS: dict[str, tuple[RowImporter, tuple[str, ...]]] = {
    "dispatch_categories": (_category_row, ("code", "family", "major", "minor", "name_en")),
    "responsibilities": (_responsibility_row, ("department",)),
    "gazetteer": (_gazetteer_row, ("code", "kind", "name_en", "lat", "lon")),
    "grid": (_grid_row, ("code", "geometry")),
    "indicator_weights": (_weight_row, ("code", "weight")),
}
