"""Files buildings' addresses and gazetteer names under their geocoding keys.

The geocoder reads ``place_names`` only (core.territory.geocode), so every writer of an
address or a gazetteer row calls one of these: the demo, the gazetteer import, the
migration that created the table, and bulk loaders after raw SQL inserts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.territory.geocode import name_key
from core.territory.models import Building, GazetteerEntry, PlaceName

# Ids per statement (SQLite's oldest parameter limit is 999) and rows per bulk insert.
_IDS_PER_QUERY = 500
_ROWS_PER_INSERT = 5000


def _rows(names: Iterator[tuple[str | None, str]], owner: dict[str, int]) -> list[dict[str, Any]]:
    seen: set[tuple[str | None, str]] = set()
    rows = []
    for language, raw in names:
        name = raw.strip()[:200]
        key = name_key(name)
        if key is None or (language, name) in seen:
            continue
        seen.add((language, name))
        rows.append({**owner, "language": language, "name": name, "key": key})
    return rows


def building_rows(building_id: int, addresses: Mapping[str, str] | None) -> list[dict[str, Any]]:
    """Returns the place_names rows of one building's addresses."""
    names = ((lang, address) for lang, address in (addresses or {}).items() if address)
    return _rows(names, {"building_id": building_id})


def gazetteer_rows(
    entry_id: int, names: Mapping[str, str] | None, aliases: Mapping[str, Sequence[str]] | None
) -> list[dict[str, Any]]:
    """Returns the place_names rows of one gazetteer entry: its names, then its aliases."""

    def every() -> Iterator[tuple[str | None, str]]:
        yield from ((lang, name) for lang, name in (names or {}).items() if name)
        for lang, said in (aliases or {}).items():
            yield from ((None if lang == "*" else lang, alias) for alias in said if alias)

    return _rows(every(), {"gazetteer_id": entry_id})


async def _replace(
    db_session: AsyncSession, column: Any, ids: Sequence[int], rows: list[dict[str, Any]]
) -> None:
    for start in range(0, len(ids), _IDS_PER_QUERY):
        await db_session.execute(
            delete(PlaceName).where(column.in_(ids[start : start + _IDS_PER_QUERY]))
        )
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        await db_session.execute(insert(PlaceName), rows[start : start + _ROWS_PER_INSERT])


async def index_buildings(
    *, db_session: AsyncSession, building_ids: Sequence[int] | None = None
) -> int:
    """Refiles the addresses of the given buildings (all when None); returns names filed."""
    query = select(Building.id, Building.addresses).order_by(Building.id)
    if building_ids is not None:
        found: list[Any] = []
        for start in range(0, len(building_ids), _IDS_PER_QUERY):
            chunk = building_ids[start : start + _IDS_PER_QUERY]
            found.extend((await db_session.execute(query.where(Building.id.in_(chunk)))).all())
    else:
        await db_session.execute(delete(PlaceName).where(PlaceName.building_id.is_not(None)))
        found = list((await db_session.execute(query)).all())
    rows = [
        row for building_id, addresses in found for row in building_rows(building_id, addresses)
    ]
    await _replace(db_session, PlaceName.building_id, list(building_ids or ()), rows)
    return len(rows)


async def index_gazetteer(
    *, db_session: AsyncSession, entry_ids: Sequence[int] | None = None
) -> int:
    """Refiles the names and aliases of the given gazetteer entries (all when None)."""
    query = select(GazetteerEntry.id, GazetteerEntry.names, GazetteerEntry.aliases)
    if entry_ids is not None:
        query = query.where(GazetteerEntry.id.in_(entry_ids))
    else:
        await db_session.execute(delete(PlaceName).where(PlaceName.gazetteer_id.is_not(None)))
    rows = [
        row
        for entry_id, names, aliases in (await db_session.execute(query)).all()
        for row in gazetteer_rows(entry_id, names, aliases)
    ]
    await _replace(db_session, PlaceName.gazetteer_id, list(entry_ids or ()), rows)
    return len(rows)
