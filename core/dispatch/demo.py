"""The demo city's dispatch data: the default categories, who answers for what and where,
a gazetteer of its streets and landmarks, and staff for each step of the workflow."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import service as auth_service
from core.auth.enums import Role, ScopeKind
from core.backoffice import DemoContext
from core.dispatch.imports import IMPORTERS
from core.importing.service import run_import
from core.routing.models import Department

DEFAULTS = Path(__file__).parent / "defaults"

DEPARTMENTS = [
    ("greenery", {"en": "Parks and Greenery", "ru": "Озеленение", "zh": "园林绿化处"}),
    ("enforcement", {"en": "City Inspection", "ru": "Городская инспекция", "zh": "城管执法局"}),
    ("river_cleaning", {"en": "Riverside Cleaning", "ru": "Уборка Заречья", "zh": "河畔区环卫所"}),
]

RESPONSIBILITIES = """department,category,district,community,grid
roads,street_light,,,
roads,manhole_cover,,,
roads,road_not_clean,,,
sanitation,garbage,,,
sanitation,illegal_ad,,,
river_cleaning,garbage,river,,
housing,water_outage,,,
housing,heating,,,
housing,water_main,,,
greenery,tree_damage,,,
greenery,bench,,,
enforcement,road_occupation,,,
enforcement,illegal_building,,,
"""

GAZETTEER = """code,kind,name_en,name_ru,name_zh,aliases_en,aliases_ru,aliases_zh,lat,lon
lenin_st,street,Lenin Street,ул. Ленина,列宁街,Lenin St,улица Ленина|Ленина,列宁路,55.75,37.6
garden_st,street,Garden Street,Садовая ул.,花园街,Garden St,Садовая улица|Садовая,,55.75,37.606
embankment_rd,street,River Embankment,Речная наб.,河滨路,embankment,Речная набережная,,55.75,37.612
mira_ave,street,Mira Avenue,пр. Мира,和平大道,Mira Ave,проспект Мира,,55.75,37.618
market,landmark,Central Market,Центральный рынок,中央市场,market,рынок,市场|菜市场,55.754,37.606
station,landmark,Railway Station,Вокзал,火车站,station,ж/д вокзал,车站,55.758,37.612
pier,landmark,River Pier,Речной причал,码头,pier,причал,渡口,55.762,37.618
birch_grove,community,Birch Grove,Берёзовая роща,白桦林社区,,,,55.75,37.6
"""


async def load_dispatch_demo(*, db_session: AsyncSession, demo: DemoContext) -> None:
    """Loads the dispatch part of the demo city (after the city itself)."""
    db_session.add_all(Department(code=code, names=names) for code, names in DEPARTMENTS)
    await db_session.flush()
    await run_import(
        db_session=db_session,
        importers=IMPORTERS,
        what="dispatch_categories",
        text=(DEFAULTS / "categories.yaml").read_text(encoding="utf-8"),
        fmt="yaml",
    )
    await run_import(
        db_session=db_session,
        importers=IMPORTERS,
        what="responsibilities",
        text=RESPONSIBILITIES,
        fmt="csv",
    )
    await run_import(
        db_session=db_session, importers=IMPORTERS, what="gazetteer", text=GAZETTEER, fmt="csv"
    )
    if not demo.with_staff:
        return
    sanitation = await db_session.scalar(
        select(Department.id).where(Department.code == "sanitation")
    )
    for username, role, scope_kind, scope_id in (
        ("dispatcher", Role.DISPATCHER, ScopeKind.CITY, None),
        ("sanitation", Role.DEPARTMENT, ScopeKind.DEPARTMENT, sanitation),
        ("inspector", Role.INSPECTOR, ScopeKind.CITY, None),
        ("supervisor", Role.SUPERVISOR, ScopeKind.CITY, None),
    ):
        await auth_service.create_staff(
            db_session=db_session,
            username=username,
            password=f"{username}-demo",
            role=role,
            scope_kind=scope_kind,
            scope_id=scope_id,
        )
