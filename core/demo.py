"""The demo city: a small, believable place to try the hub on (names in en/ru/zh)."""

from __future__ import annotations

import logging
from datetime import date, time
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.auth import service as auth_service
from core.auth.enums import Role, ScopeKind
from core.backoffice import DemoContext
from core.db import utcnow
from core.installed import installed
from core.residents.enums import ContactKind
from core.residents.models import Contact, Resident
from core.routing.enums import BackOffice
from core.routing.models import Category, Department, RoutingRule, SlaPolicy
from core.sla.calendar import LimitUnit
from core.sla.models import CalendarDay, WorkCalendar
from core.territory import places
from core.territory.geometry import square_cell
from core.territory.models import (
    Account,
    Building,
    City,
    Community,
    District,
    GridCell,
    Premises,
    PremisesOwner,
)
from core.tickets import canned
from core.tickets.enums import Priority, TicketKind

logger = logging.getLogger("hub.demo")

CITY_CODE = "riverside"

DISTRICTS = [
    ("north", {"en": "North District", "ru": "Северный район", "zh": "北区"}),
    ("central", {"en": "Central District", "ru": "Центральный район", "zh": "中心区"}),
    ("river", {"en": "Riverside District", "ru": "Заречный район", "zh": "河畔区"}),
]
COMMUNITIES = [
    ("north", "birch", {"en": "Birch Grove", "ru": "Берёзовая роща", "zh": "白桦林社区"}),
    ("north", "mill", {"en": "Old Mill", "ru": "Старая мельница", "zh": "老磨坊社区"}),
    ("central", "square", {"en": "Market Square", "ru": "Рыночная площадь", "zh": "市场广场社区"}),
    ("central", "station", {"en": "Station Quarter", "ru": "Вокзальный квартал", "zh": "车站社区"}),
    ("river", "embankment", {"en": "Embankment", "ru": "Набережная", "zh": "滨江社区"}),
    ("river", "harbour", {"en": "Harbour", "ru": "Гавань", "zh": "港湾社区"}),
]
STREETS = [
    {"en": "Lenin Street", "ru": "ул. Ленина", "zh": "列宁街"},
    {"en": "Garden Street", "ru": "Садовая ул.", "zh": "花园街"},
    {"en": "River Embankment", "ru": "Речная наб.", "zh": "河滨路"},
    {"en": "Mira Avenue", "ru": "пр. Мира", "zh": "和平大道"},
]

DEPARTMENTS = [
    ("housing", {"en": "Housing Services", "ru": "ЖКХ", "zh": "住房服务处"}),
    ("roads", {"en": "Roads and Lighting", "ru": "Дороги и освещение", "zh": "道路照明处"}),
    ("sanitation", {"en": "Sanitation", "ru": "Санитарная очистка", "zh": "环卫处"}),
    ("billing", {"en": "Settlement Centre", "ru": "Расчётный центр", "zh": "结算中心"}),
    ("inspection", {"en": "Housing Inspection", "ru": "Жилищная инспекция", "zh": "物业监管科"}),
]

# code, kind, names, keywords, priority, department, SLA policy (the IVR's keys for them are
# the voice channel's own menu, not data of the category)
CATEGORIES = [
    (
        "water_outage",
        TicketKind.CITY_CASE,
        {"en": "No water", "ru": "Нет воды", "zh": "停水"},
        {
            "en": ["no water", "water outage"],
            "ru": ["нет воды", "отключили воду"],
            "zh": ["停水", "没水"],
        },
        Priority.HIGH,
        "housing",
        "urgent_24h",
    ),
    (
        "heating",
        TicketKind.CITY_CASE,
        {"en": "Heating", "ru": "Отопление", "zh": "供暖"},
        {
            "en": ["heating", "radiator", "cold flat"],
            "ru": ["отоплен", "батаре", "холодно"],
            "zh": ["暖气", "供暖"],
        },
        Priority.HIGH,
        "housing",
        "urgent_24h",
    ),
    (
        "street_light",
        TicketKind.CITY_CASE,
        {"en": "Street lighting", "ru": "Уличное освещение", "zh": "路灯"},
        {"en": ["street light", "lamp"], "ru": ["фонар", "освещени"], "zh": ["路灯"]},
        Priority.NORMAL,
        "roads",
        "standard_5d",
    ),
    (
        "garbage",
        TicketKind.CITY_CASE,
        {"en": "Exposed garbage", "ru": "Мусор", "zh": "暴露垃圾"},
        {"en": ["garbage", "rubbish", "trash"], "ru": ["мусор", "свалк"], "zh": ["垃圾"]},
        Priority.NORMAL,
        "sanitation",
        "garbage_4h",
    ),
    (
        "stairwell",
        TicketKind.PROPERTY_COMPLAINT,
        {"en": "Dirty stairwell or broken lift", "ru": "Подъезд или лифт", "zh": "楼道或电梯"},
        {
            "en": ["stairwell", "lift", "elevator"],
            "ru": ["подъезд", "лифт"],
            "zh": ["楼道", "电梯"],
        },
        Priority.NORMAL,
        "inspection",
        "standard_5d",
    ),
    (
        "bill_question",
        TicketKind.BILLING_INQUIRY,
        {"en": "Question about my bill", "ru": "Вопрос по квитанции", "zh": "账单问题"},
        {
            "en": ["bill", "invoice", "charge"],
            "ru": ["квитанц", "счёт", "начислен"],
            "zh": ["账单", "收费"],
        },
        Priority.NORMAL,
        "billing",
        "standard_5d",
    ),
    (
        "meter_reading",
        TicketKind.METER_READING,
        {"en": "Meter reading", "ru": "Показания счётчика", "zh": "抄表读数"},
        {"en": ["meter reading"], "ru": ["показани"], "zh": ["读数", "抄表"]},
        Priority.LOW,
        "billing",
        "standard_5d",
    ),
    (
        "other",
        TicketKind.GENERAL,
        {"en": "Other question", "ru": "Другой вопрос", "zh": "其他问题"},
        {},
        Priority.NORMAL,
        None,
        "standard_5d",
    ),
]

# code, limit, unit, names
SLA_POLICIES = [
    (
        "urgent_24h",
        24,
        LimitUnit.CALENDAR_HOURS,
        {"en": "Utilities: 24 hours", "ru": "Коммунальные: 24 часа", "zh": "水电气热：24小时"},
    ),
    (
        "garbage_4h",
        4,
        LimitUnit.WORKING_HOURS,
        {
            "en": "Exposed garbage: 4 working hours",
            "ru": "Мусор: 4 рабочих часа",
            "zh": "暴露垃圾：4个工作小时",
        },
    ),
    (
        "standard_5d",
        5,
        LimitUnit.WORKING_DAYS,
        {"en": "General: 5 working days", "ru": "Общие: 5 рабочих дней", "zh": "一般：5个工作日"},
    ),
]
BACK_OFFICE_OF = {
    TicketKind.BILLING_INQUIRY: BackOffice.BILLING,
    TicketKind.METER_READING: BackOffice.BILLING,
    TicketKind.CITY_CASE: BackOffice.DISPATCH,
    TicketKind.PROPERTY_COMPLAINT: BackOffice.COMPLAINTS,
    TicketKind.GENERAL: BackOffice.GENERAL,
}

# Russian non-working days for the demo window (the production-calendar decree is data).
HOLIDAYS_RU = [
    date(2026, 12, 31),
    *[date(2027, 1, d) for d in range(1, 9)],
    date(2027, 2, 23),
    date(2027, 3, 8),
    date(2027, 5, 3),
    date(2027, 5, 10),
    date(2027, 6, 14),
    date(2027, 11, 4),
]


async def _has_demo(db_session: AsyncSession) -> bool:
    return bool(await db_session.scalar(select(func.count()).where(City.code == CITY_CODE)))


async def load_demo(
    *,
    db_session: AsyncSession,
    with_staff: bool,
    billing_secret: str | None = None,
    today: date | None = None,
) -> bool:
    """Loads the demo city unless it is already there; returns whether it loaded."""
    if await _has_demo(db_session):
        return False
    districts, communities = await _load_territory(db_session)
    buildings = await _load_buildings(db_session, communities)
    await _load_households(db_session, buildings)
    policies = await _load_service_levels(db_session)
    await _load_routing(db_session, policies)
    await canned.load_demo(db_session=db_session)
    if with_staff:
        await _load_staff(db_session, districts)
    await db_session.flush()
    # Then each installed back office's part, in the order their specs ask for (each reads
    # the city's buildings, flats or owners; votes builds on complaints' estate).
    demo = DemoContext(with_staff, billing_secret, today or utcnow().date())
    for load_back_office_demo in installed().demo_loaders():
        await load_back_office_demo(db_session=db_session, demo=demo)
    logger.info("demo city loaded")
    return True


async def _load_territory(
    db_session: AsyncSession,
) -> tuple[dict[str, District], list[Community]]:
    """Adds the city, its districts and communities; returns the districts by code and the
    communities in COMMUNITIES order."""
    city = City(code=CITY_CODE, names={"en": "Riverside", "ru": "Заречье", "zh": "河畔市"})
    db_session.add(city)
    await db_session.flush()
    districts = {
        code: District(city_id=city.id, code=code, names=names) for code, names in DISTRICTS
    }
    db_session.add_all(districts.values())
    await db_session.flush()
    communities = [
        Community(district_id=districts[d].id, code=c, names=n) for d, c, n in COMMUNITIES
    ]
    db_session.add_all(communities)
    await db_session.flush()
    return districts, communities


async def _load_buildings(db_session: AsyncSession, communities: list[Community]) -> list[Building]:
    """Adds 20 buildings on a 5×4 grid of points, each in its own unit grid cell, and
    indexes their addresses for geocoding."""
    base_lat, base_lon = 55.75, 37.60
    buildings: list[Building] = []
    for index in range(20):
        community = communities[index % len(communities)]
        street = STREETS[index % len(STREETS)]
        number = 2 * index + 1
        lat = base_lat + (index // 5) * 0.004
        lon = base_lon + (index % 5) * 0.006
        buildings.append(
            Building(
                community_id=community.id,
                code=f"b{index + 1:03d}",
                addresses={
                    lang: f"{name}, {number}" if lang != "zh" else f"{name}{number}号"
                    for lang, name in street.items()
                },
                latitude=lat,
                longitude=lon,
                total_area=Decimal("0"),
            )
        )
        db_session.add(
            GridCell(
                code=f"RS{index + 1:04d}",
                community_id=community.id,
                **square_cell(lat, lon, side_m=100),
            )
        )
    db_session.add_all(buildings)
    await db_session.flush()
    await places.index_buildings(db_session=db_session, building_ids=[b.id for b in buildings])
    return buildings


async def _load_households(db_session: AsyncSession, buildings: list[Building]) -> None:
    """Adds six flats per building, each with an owner who has a phone and an account."""
    # Rows are added in batches so the whole city is a handful of round trips.
    flats: list[tuple[Premises, Resident]] = []
    for index, building in enumerate(buildings):
        for flat in range(1, 7):
            area = Decimal(38 + (flat * 7 + index * 3) % 45) + Decimal("0.40")
            building.total_area = (building.total_area or Decimal("0")) + area
            flats.append(
                (
                    Premises(building_id=building.id, number=str(flat), area=area),
                    Resident(
                        display_name=f"Owner {index + 1}-{flat}",
                        language=("ru", "en", "zh")[(index + flat) % 3],
                    ),
                )
            )
    db_session.add_all([item for pair in flats for item in pair])
    await db_session.flush()
    for serial, (premises, resident) in enumerate(flats):
        db_session.add_all(
            [
                Contact(
                    resident_id=resident.id,
                    kind=ContactKind.PHONE,
                    value=f"+7900100{serial + 1:04d}",
                    verified=True,
                    language=resident.language,
                ),
                PremisesOwner(premises_id=premises.id, resident_id=resident.id),
                Account(
                    number=f"{7700001 + serial}",
                    premises_id=premises.id,
                    holder_id=resident.id,
                    registered_residents=1 + serial % 3,
                ),
            ]
        )


async def _load_service_levels(db_session: AsyncSession) -> dict[str, SlaPolicy]:
    """Adds the city's working calendar with its holidays and the SLA policies over it;
    returns the policies by code (added, flushed with the routing that names them)."""
    calendar = WorkCalendar(
        code="city",
        timezone="Europe/Moscow",
        day_start=time(9),
        day_end=time(18),
        weekend_days=[6, 7],
    )
    db_session.add(calendar)
    await db_session.flush()
    db_session.add_all(
        CalendarDay(calendar_id=calendar.id, day=d, is_working=False, note="public holiday")
        for d in HOLIDAYS_RU
    )
    policies = {
        code: SlaPolicy(
            code=code, calendar_id=calendar.id, resolution_limit=limit, unit=unit, names=names
        )
        for code, limit, unit, names in SLA_POLICIES
    }
    db_session.add_all(policies.values())
    return policies


async def _load_routing(db_session: AsyncSession, policies: dict[str, SlaPolicy]) -> None:
    """Adds the departments, the categories and one routing rule per category, then the
    catch-all rule that sends everything else to triage."""
    departments = {code: Department(code=code, names=names) for code, names in DEPARTMENTS}
    db_session.add_all(departments.values())
    await db_session.flush()
    position = 10
    for code, kind, names, keywords, priority, dept, policy in CATEGORIES:
        category = Category(
            code=code,
            kind=kind,
            names=names,
            keywords=keywords,
            default_priority=priority,
        )
        db_session.add(category)
        await db_session.flush()
        db_session.add(
            RoutingRule(
                position=position,
                name=f"{code} → {dept or 'triage'}",
                match_category_id=category.id,
                back_office=BACK_OFFICE_OF[kind],
                department_id=departments[dept].id if dept else None,
                sla_policy_id=policies[policy].id,
            )
        )
        position += 10
    db_session.add(
        RoutingRule(
            position=10_000,
            name="everything else → triage",
            back_office=BackOffice.GENERAL,
            sla_policy_id=policies["standard_5d"].id,
        )
    )


async def _load_staff(db_session: AsyncSession, districts: dict[str, District]) -> None:
    """Adds the city-wide demo logins (the back offices add their own)."""
    billing = await db_session.scalar(select(Department.id).where(Department.code == "billing"))
    # Well-known demo logins exist only in the embedded mode (see README).
    for username, role, scope_kind, scope_id in (
        ("admin", Role.ADMIN, ScopeKind.CITY, None),
        ("agent", Role.AGENT, ScopeKind.CITY, None),
        ("agent2", Role.AGENT, ScopeKind.CITY, None),
        ("north", Role.DISPATCHER, ScopeKind.DISTRICT, districts["north"].id),
        # The settlement centre's operator: billing's staff are its department's.
        ("billing", Role.DEPARTMENT, ScopeKind.DEPARTMENT, billing),
    ):
        await auth_service.create_staff(
            db_session=db_session,
            username=username,
            password=f"{username}-demo",
            role=role,
            scope_kind=scope_kind,
            scope_id=scope_id,
        )


async def load_demo_if_empty(
    *,
    session_factory: async_sessionmaker[AsyncSession],
    with_staff: bool = True,
    billing_secret: str | None = None,
) -> bool:
    """Loads the demo in its own transaction; safe to call on every start.

    With ``billing_secret`` (the key account PINs are hashed with) the demo flats are
    billed too; tests and benchmarks leave it out and set up billing their own way.
    """
    async with session_factory() as session, session.begin():
        return await load_demo(
            db_session=session, with_staff=with_staff, billing_secret=billing_secret
        )
