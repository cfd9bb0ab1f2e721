"""The complaints part of the demo city: two companies, their estates and contracts (one
of them ended, so its estate's complaints go to triage), managers (one person in both
companies, which the register flags), a committee and an indicator catalogue."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import service as auth_service
from core.auth.enums import Role, ScopeKind
from core.backoffice import DemoContext
from core.complaints.imports import IMPORTERS
from core.complaints.models import PropertyCompany
from core.importing.service import run_import

COMPANIES = (
    "code,name_en,name_ru,name_zh,registration_number,qualification,qualification_valid_until,phone,language\n"
    "uyut,Uyut Housing,УК «Уют»,舒适物业,7701000001,1,2030-12-31,+79005550901,ru\n"
    "comfort,Comfort Service,УК «Комфорт-Сервис»,康福物业,7701000002,2,2024-06-30,+79005550902,ru\n"
)
# Buildings b001–b005, b006–b010 and b011–b013 of the demo city.
ESTATES = """
- code: gardens
  names: {en: Riverside Gardens, ru: ЖК «Речные сады», zh: 河畔花园}
  address: {en: Lenin St 1–9, ru: ул. Ленина 1–9}
  kind: residential
  area: 18500.50
  buildings: [b001, b002, b003, b004, b005]
  facilities: [lift, playground, parking]
- code: north_park
  names: {en: North Park, ru: ЖК «Северный парк», zh: 北园}
  address: {en: Garden St 11–19, ru: Садовая ул. 11–19}
  kind: residential
  area: 21000
  buildings: [b006, b007, b008, b009, b010]
  facilities: [lift, security]
- code: old_mill
  names: {en: Old Mill, ru: «Старая мельница», zh: 老磨坊}
  address: {en: River Emb. 21–25, ru: Речная наб. 21–25}
  kind: mixed
  area: 9400
  buildings: [b011, b012, b013]
  facilities: [parking]
"""
CONTRACTS = (
    "number,company,estate,starts_on,ends_on\n"
    "U-2021-01,uyut,gardens,2021-01-01,\n"
    "C-2022-07,comfort,north_park,2022-07-01,\n"
    "U-2019-03,uyut,old_mill,2019-03-01,2025-12-31\n"
)
MANAGERS = (
    "company,full_name,certificate_number,certificate_valid_until,appointed_on,left_on\n"
    "uyut,Irina Sokolova,MGR-1001,2029-05-01,2021-01-01,\n"
    "comfort,Pavel Orlov,MGR-2002,2028-01-01,2022-07-01,\n"
    "comfort,Irina Sokolova,MGR-1001,2029-05-01,2024-02-01,\n"
)
COMMITTEES = """
- code: gardens_2024
  estate: gardens
  names: {en: Riverside Gardens owners' committee, ru: Совет дома «Речные сады», zh: 河畔花园业委会}
  elected_on: 2024-04-20
  term_ends_on: 2029-04-19
"""
INDICATORS = (
    "code,name_en,name_ru,name_zh,frequency,max_score,pass_score\n"
    "stairwells,Clean stairwells,Чистота подъездов,楼道清洁,monthly,10,6\n"
    "lifts,Lifts in service,Исправность лифтов,电梯运行,monthly,10,8\n"
    "yards,Yard and greenery,Двор и озеленение,庭院绿化,quarterly,10,6\n"
    "fire_safety,Fire safety,Пожарная безопасность,消防安全,half_yearly,10,8\n"
)


async def load_complaints_demo(*, db_session: AsyncSession, demo: DemoContext) -> None:
    """Loads the complaints registers of the demo city (after the city itself)."""
    for what, text, fmt in (
        ("companies", COMPANIES, "csv"),
        ("estates", ESTATES, "yaml"),
        ("contracts", CONTRACTS, "csv"),
        ("managers", MANAGERS, "csv"),
        ("committees", COMMITTEES, "yaml"),
        ("indicators", INDICATORS, "csv"),
    ):
        await run_import(db_session=db_session, importers=IMPORTERS, what=what, text=text, fmt=fmt)
    if not demo.with_staff:
        return
    username = "company"
    uyut = await db_session.scalar(select(PropertyCompany.id).where(PropertyCompany.code == "uyut"))
    await auth_service.create_staff(
        db_session=db_session,
        username=username,
        password=f"{username}-demo",
        role=Role.COMPANY,
        scope_kind=ScopeKind.COMPANY,
        scope_id=uyut,
        language="ru",
    )
