import pytest
from sqlalchemy import func, select

from core.db import transaction
from core.importing.service import ImportRejected
from core.imports import import_csv
from core.routing.enums import BackOffice
from core.routing.models import Category, RoutingRule
from core.routing.service import FALLBACK_ROUTE, RoutingTable
from core.runtime import Hub


def rule(position: int, **fields: object) -> RoutingRule:
    return RoutingRule(
        id=position,
        position=position,
        name=f"r{position}",
        back_office=fields.pop("back_office", "general"),
        **fields,
    )


def test_first_matching_rule_wins_and_empty_columns_match_anything() -> None:
    table = RoutingTable(
        rules=[
            rule(1, match_category_id=7, match_district_id=2, department_id=20),
            rule(2, match_category_id=7, department_id=10),
            rule(3, match_kind="billing_inquiry", back_office=BackOffice.BILLING),
            rule(4),
        ]
    )
    assert (
        table.match(kind="city_case", category_id=7, district_id=2, community_id=None).department_id
        == 20
    )
    assert (
        table.match(kind="city_case", category_id=7, district_id=3, community_id=None).department_id
        == 10
    )
    assert (
        table.match(
            kind="billing_inquiry", category_id=None, district_id=None, community_id=None
        ).back_office
        == "billing"
    )
    assert (
        table.match(kind="general", category_id=None, district_id=None, community_id=None).rule_id
        == 4
    )


def test_no_rule_at_all_falls_back_to_triage() -> None:
    assert (
        RoutingTable().match(kind="general", category_id=None, district_id=None, community_id=None)
        == FALLBACK_ROUTE
    )


def test_keywords_pick_the_category_with_most_hits_in_any_language() -> None:
    water = Category(
        id=1,
        code="water",
        kind="city_case",
        names={},
        active=True,
        keywords={"ru": ["нет воды"], "en": ["no water"], "zh": ["停水"]},
    )
    heat = Category(
        id=2,
        code="heat",
        kind="city_case",
        names={},
        active=True,
        keywords={"ru": ["отоплен", "батаре", "холодно"]},
    )
    table = RoutingTable(categories={1: water, 2: heat})
    assert table.classify_text("НЕТ ВОДЫ третий день") is water
    assert table.classify_text("小区停水了") is water
    assert table.classify_text("Холодно, батареи ледяные, отопление не работает") is heat
    assert table.classify_text("Hello") is None


async def test_a_keyword_inside_another_word_is_no_match(hub: Hub) -> None:
    table = await hub.routing.get()
    # "tree" is inside "street": an English street problem is not a fallen tree.
    for text in (
        "Streetlight not working near the station",
        "The street light is out near the railway station",
        "near the station the light is out",
    ):
        found = table.classify_text(text)
        assert found is not None and found.code == "street_light", (text, found)
    # Nothing on "our street" is about trees (the old substring vote said it was).
    assert table.classify_text("Something is wrong on our street") is None
    tree = table.classify_text("A tree fell on the path")
    assert tree is not None and tree.code == "tree_damage"
    # Stems still find their word's endings, and Chinese needs no spaces.
    lamp = table.classify_text("Фонарь не горит у вокзала")
    assert lamp is not None and lamp.code == "street_light"
    chinese = table.classify_text("车站附近路灯不亮")
    assert chinese is not None and chinese.code == "street_light"


CATEGORIES = """\
code,kind,name_en,name_ru,name_zh,keywords_en,keywords_ru,keywords_zh,priority
ice,city_case,Ice on the pavement,Гололёд,路面结冰,ice|slippery,гололёд|скользко,结冰,high
"""
RULES = """\
position,name,match_kind,match_category,match_district,back_office,department,sla_policy,priority
5,ice in north,,ice,north,dispatch,roads,urgent_24h,urgent
"""


async def test_csv_import_is_idempotent_and_applies_without_code(hub: Hub) -> None:
    async with transaction(hub.session_factory) as session:
        first = await import_csv(db_session=session, what="categories", text=CATEGORIES)
        rules = await import_csv(db_session=session, what="routing", text=RULES)
    async with transaction(hub.session_factory) as session:
        again = await import_csv(db_session=session, what="categories", text=CATEGORIES)
        rules_again = await import_csv(db_session=session, what="routing", text=RULES)
    assert (first.created, again.created, again.unchanged) == (1, 0, 1)
    assert (rules.created, rules_again.unchanged) == (1, 1)

    table = await hub.routing.get()
    ice = table.category_by_code("ice")
    assert ice is not None
    assert table.classify_text("Гололёд, очень скользко у подъезда") is ice
    route = table.match(
        kind="city_case",
        category_id=ice.id,
        district_id=next(r.match_district_id for r in table.rules if r.name == "ice in north"),
        community_id=None,
    )
    assert route.rule_name == "ice in north" and route.priority == "urgent"


async def test_a_file_with_bad_rows_imports_nothing_and_says_why(hub: Hub) -> None:
    bad = (
        CATEGORIES + "snow,weather,Snow,,,,,,\n,city_case,No code,,,,,,\n"
        "hail,city_case,Hail,,,,,,whenever\n"
    )
    async with hub.session_factory() as session:
        before = await session.scalar(select(func.count()).select_from(Category))
    with pytest.raises(ImportRejected) as caught:
        async with transaction(hub.session_factory) as session:
            await import_csv(db_session=session, what="categories", text=bad)
    reasons = dict(caught.value.report.rejected)
    assert set(reasons) == {3, 4, 5}
    assert "weather" in reasons[3] and "code is required" in reasons[4]
    assert "whenever" in reasons[5]
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Category)) == before

    with pytest.raises(ImportRejected) as missing:
        async with transaction(hub.session_factory) as session:
            await import_csv(db_session=session, what="routing", text="name\nx\n")
    assert "missing columns: position, back_office" in missing.value.report.rejected[0][1]
