"""Geocoding a report's text through the gazetteer and the buildings' addresses.

The demo city: Lenin Street 1, 9, 17, 25, 33 (b001, b005, …); the market and the station
are landmarks with names and aliases in English, Russian and Chinese.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from core.db import transaction
from core.imports import import_text
from core.runtime import Hub
from core.territory import places
from core.territory.geocode import Place, _contains, fold, geocode, message_keys, name_key
from core.territory.models import Building, Community

MARKET = (55.754, 37.606)
STATION = (55.758, 37.612)


async def _geocode(hub: Hub, text: str) -> Place | None:
    async with hub.session_factory() as session:
        return await geocode(db_session=session, text=text)


@pytest.mark.parametrize(
    ("text", "point", "name"),
    [
        # An English landmark named the way people say it, not by its full name.
        ("Rubbish piled up near the station", STATION, "Railway Station"),
        ("Broken bench by the train station", STATION, "Railway Station"),
        # A Russian alias, inflected as the sentence needs.
        ("Мусор возле рынка, третий день", MARKET, "Центральный рынок"),
        ("Яма на дороге у ж/д вокзала", STATION, "Вокзал"),
        # Chinese: people say 车站 for the station and 菜市场 for the market.
        ("车站门口有垃圾", STATION, "火车站"),
        ("菜市场旁边路灯不亮", MARKET, "中央市场"),
    ],
)
async def test_landmarks_are_found_by_their_aliases_in_each_language(
    hub: Hub, text: str, point: tuple[float, float], name: str
) -> None:
    place = await _geocode(hub, text)
    assert place is not None, text
    assert (place.latitude, place.longitude, place.kind) == (*point, "landmark")
    # The place is named by its proper name in the alias's language, not the alias said.
    assert place.name == name


async def test_aliases_per_language_come_through_the_gazetteer_import(hub: Hub) -> None:
    csv_text = (
        "code,kind,name_en,name_ru,name_zh,aliases,aliases_en,aliases_ru,aliases_zh,lat,lon\n"
        "zoo,landmark,City Zoo,Городской зоопарк,城市动物园,,the zoo|zoo gates,зоопарк,"
        "动物园,55.76,37.61\n"
    )
    async with transaction(hub.session_factory) as session:
        report = await import_text(db_session=session, what="gazetteer", text=csv_text, fmt="csv")
    assert (report.created, report.rejected) == (1, [])
    for text, name in (
        ("A fallen tree at the zoo gates", "City Zoo"),
        ("Упало дерево у зоопарка", "Городской зоопарк"),
        ("动物园门口倒了一棵树", "城市动物园"),
    ):
        place = await _geocode(hub, text)
        assert place is not None and (place.latitude, place.longitude) == (55.76, 37.61), text
        assert place.name == name

    # A new edition of the row replaces its aliases: the old ones no longer place anything.
    async with transaction(hub.session_factory) as session:
        await import_text(
            db_session=session,
            what="gazetteer",
            text=csv_text.replace("the zoo|zoo gates", "menagerie"),
            fmt="csv",
        )
    assert await _geocode(hub, "A fallen tree at the zoo gates") is None
    menagerie = await _geocode(hub, "A fallen tree by the menagerie")
    assert menagerie is not None and menagerie.name == "City Zoo"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Мусор у дома ул. Ленина, 1", "b001"),
        ("Протекает крыша, ул. Ленина 17, подъезд 2", "b009"),
        ("Water leak at Lenin Street, 33", "b017"),
        ("列宁街25号漏水", "b013"),
        # Only the street: the address is written in another order, or the house (15 is on
        # Mira Avenue) is not on Lenin Street; 1 must not be read out of 17.
        ("Water leak at 33 Lenin Street", None),
        ("Мусор у ул. Ленина 15", None),
        ("Мусор у ул. Ленина 177", None),
    ],
)
async def test_a_building_is_found_by_its_address_and_house_number(
    hub: Hub, text: str, code: str | None
) -> None:
    place = await _geocode(hub, text)
    if code is None:
        assert place is None or place.kind != "building"
        return
    assert place is not None and place.kind == "building", text
    async with hub.session_factory() as session:
        found = await session.scalar(select(Building.code).where(Building.id == place.building_id))
    assert found == code


async def test_geocoding_reads_only_the_buildings_the_text_can_name(hub: Hub) -> None:
    # Three hundred more buildings on another street.
    async with transaction(hub.session_factory) as session:
        community_id = await session.scalar(select(Community.id).limit(1))
        assert community_id is not None
        extra = [
            Building(
                community_id=community_id,
                code=f"x{n:04d}",
                addresses={"en": f"Bench Street, {n}", "ru": f"ул. Стендовая, {n}"},
                latitude=55.7,
                longitude=37.5,
                total_area=Decimal("100"),
            )
            for n in range(1, 301)
        ]
        session.add_all(extra)
        await session.flush()
        extra_ids = [b.id for b in extra]
        await places.index_buildings(db_session=session, building_ids=extra_ids)

    loaded: list[object] = []
    statements: list[str] = []

    def on_load(target: object, _context: object) -> None:
        loaded.append(target)

    def on_execute(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(Building, "load", on_load)
    event.listen(hub.engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        place = await _geocode(hub, "Мусор: ул. Ленина 9 и ул. Стендовая 250")
    finally:
        event.remove(Building, "load", on_load)
        event.remove(hub.engine.sync_engine, "before_cursor_execute", on_execute)
    # Both buildings are named; the longer name wins. No building row was read whole, and
    # the only statements were the pre-filtered look-ups.
    assert place is not None and place.building_id == extra_ids[249]
    assert loaded == []
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert 1 <= len(selects) <= 2
    # Every read is of the name index, by key (SQLite quotes the column, PostgreSQL not).
    by_key = re.compile(r'FROM place_names .*place_names\."?key"? IN \(', re.S)
    assert all(by_key.search(s) for s in selects)

    bench_only = await _geocode(hub, "Stairwell dirty, Bench Street, 123")
    assert bench_only is not None and bench_only.kind == "building"
    async with hub.session_factory() as session:
        code = await session.scalar(
            select(Building.code).where(Building.id == bench_only.building_id)
        )
    assert code == "x0123"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("ул. Ленина, 5", "мусор у дома ул ленина 5 во дворе"),
        ("Поющий фонтан", "Мусор возле фонтана… у Поющего фонтана"),
        ("ул. 8 Марта, 12", "Протечка: ул. 8 Марта, 12, кв. 3"),
        ("Lenin Street, 15", "pothole at Lenin Street 15 by 2 cars"),
        ("15", "дом 15"),
        ("ж/д вокзал", "у ж/д вокзала"),
        ("列宁街1号", "列宁街1号楼下有垃圾"),
        ("码头", "码头边上"),
        ("桥", "桥下"),
        ("1号楼", "小区1号楼电梯坏了"),
        ("Ёлочная ул., 3", "ёлочная ул 3"),
    ],
)
def test_a_name_found_in_a_text_is_filed_under_one_of_the_texts_keys(name: str, text: str) -> None:
    # The pre-filter may only narrow: whatever matching would find, the keys reach.
    haystack, needle = fold(text), fold(name)
    assert _contains(haystack, needle)
    assert name_key(name) in message_keys(haystack)
