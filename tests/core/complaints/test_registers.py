"""The complaints registers: imports of every kind (CSV and YAML, twice, bad rows refused
with nothing written), the register API, and who serves an estate on a given day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core.auth.enums import Role
from core.complaints import demo
from core.complaints.enums import Stage, TriageReason
from core.complaints.models import (
    Complaint,
    Indicator,
    Manager,
    PropertyCompany,
    ScoreRule,
    ScoreWeight,
    ServiceContract,
)
from core.complaints.service import contract_on, manager_conflicts
from core.db import transaction
from core.importing.service import ImportRejected, ImportReport
from core.imports import import_text
from core.intake.service import receive
from core.runtime import Hub
from core.territory.models import Building, Committee, Estate, EstateBuilding
from tests.core.dispatch.factories import staff_key
from tests.factories import inbound

API = "/api/v1/complaints"


async def load(hub: Hub, what: str, text: str, fmt: str = "csv") -> ImportReport:
    async with transaction(hub.session_factory) as session:
        return await import_text(db_session=session, what=what, text=text, fmt=fmt)


async def count(hub: Hub, model: type, *where: Any) -> int:
    async with hub.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def buildings_of(hub: Hub, estate_code: str) -> list[str]:
    async with hub.session_factory() as session:
        found = await session.scalars(
            select(Building.code)
            .join(EstateBuilding, EstateBuilding.building_id == Building.id)
            .join(Estate, Estate.id == EstateBuilding.estate_id)
            .where(Estate.code == estate_code)
            .order_by(Building.code)
        )
        return list(found)


def csv_import(what: str, text: str) -> tuple[str, str, str]:
    return what, text, "csv"


# A new company with an estate of its own (buildings b014 and b015 are in no estate).
NEW_REGISTERS = [
    csv_import(
        "companies",
        "code,name_en,name_ru,registration_number,qualification,phone,language\n"
        "dom,Dom Service,УК «Дом»,7701000003,2,+7 900 555-09-03,ru\n",
    ),
    csv_import(
        "managers",
        "company,full_name,certificate_number,certificate_valid_until,appointed_on,left_on\n"
        "dom,Anna Petrova,MGR-3003,2030-01-01,2026-01-10,\n",
    ),
    csv_import(
        "estates",
        "code,name_en,address_en,kind,community,area,buildings,facilities\n"
        "river_view,River View,Mira Ave 27–29,commercial,harbour,5000.5,b014|b015,parking|lift\n",
    ),
    csv_import(
        "contracts",
        "number,company,estate,starts_on,ends_on\nD-2026-02,dom,river_view,2026-02-01,\n",
    ),
    csv_import(
        "committees",
        "code,estate,name_en,chair_name,elected_on,term_ends_on\n"
        "river_2026,river_view,River View committee,Oleg Ivanov,2026-03-01,2031-02-28\n",
    ),
    csv_import(
        "indicators",
        "code,name_en,frequency,max_score,pass_score\nheating,Heating station,yearly,5,3\n",
    ),
    csv_import(
        "score_rules",
        "code,section,points,name_en\naward,good,7,Award\nlate_reply,bad,1.5,Late reply\n",
    ),
    csv_import("score_weights", "dimension,key,factor\nestate_kind,commercial,0.7\n"),
]


async def test_every_register_imports_from_csv_and_a_second_import_changes_nothing(
    hub: Hub,
) -> None:
    first = [await load(hub, what, text, fmt) for what, text, fmt in NEW_REGISTERS]
    assert [(r.created, r.updated, r.unchanged) for r in first] == [
        (1, 0, 0),
        (1, 0, 0),
        (1, 0, 0),
        (1, 0, 0),
        (1, 0, 0),
        (1, 0, 0),
        (2, 0, 0),
        (1, 0, 0),
    ]
    async with hub.session_factory() as session:
        company = await session.scalar(select(PropertyCompany).where(PropertyCompany.code == "dom"))
        estate = await session.scalar(select(Estate).where(Estate.code == "river_view"))
        contract = await session.scalar(
            select(ServiceContract).where(ServiceContract.number == "D-2026-02")
        )
        rule = await session.scalar(select(ScoreRule).where(ScoreRule.code == "late_reply"))
    assert company is not None and company.phone == "+79005550903"
    assert company.names == {"en": "Dom Service", "ru": "УК «Дом»"}
    assert estate is not None and estate.area == Decimal("5000.50")
    assert estate.kind == "commercial" and estate.building_count == 2
    assert estate.facilities == ["parking", "lift"]
    assert estate.addresses == {"en": "Mira Ave 27–29"}
    assert contract is not None and contract.estate_id == estate.id
    assert contract.company_id == company.id and contract.ends_on is None
    assert rule is not None and rule.section == "bad" and rule.points == Decimal("1.50")
    assert await buildings_of(hub, "river_view") == ["b014", "b015"]

    again = [await load(hub, what, text, fmt) for what, text, fmt in NEW_REGISTERS]
    assert all(r.created == 0 and r.updated == 0 for r in again), again
    assert [r.unchanged for r in again] == [1, 1, 1, 1, 1, 1, 2, 1]
    assert await buildings_of(hub, "river_view") == ["b014", "b015"]


async def test_the_demo_registers_imported_again_change_nothing(hub: Hub) -> None:
    tables = (PropertyCompany, Estate, EstateBuilding, ServiceContract, Manager, Committee)
    before = {model: await count(hub, model) for model in (*tables, Indicator)}
    reports = {
        what: await load(hub, what, text, fmt)
        for what, text, fmt in (
            ("companies", demo.COMPANIES, "csv"),
            ("estates", demo.ESTATES, "yaml"),
            ("contracts", demo.CONTRACTS, "csv"),
            ("managers", demo.MANAGERS, "csv"),
            ("committees", demo.COMMITTEES, "yaml"),
            ("indicators", demo.INDICATORS, "csv"),
        )
    }
    assert {what: (r.created, r.updated, r.unchanged) for what, r in reports.items()} == {
        "companies": (0, 0, 2),
        "estates": (0, 0, 3),
        "contracts": (0, 0, 3),
        "managers": (0, 0, 3),
        "committees": (0, 0, 1),
        "indicators": (0, 0, 4),
    }
    assert {model: await count(hub, model) for model in before} == before


ESTATE_YAML = """
- code: river_view
  names: {en: River View, ru: ЖК «Речной вид», zh: 河景}
  address: {en: Mira Ave 27–29, ru: пр. Мира 27–29}
  kind: mixed
  area: 7200
  buildings: [b014, b015]
  facilities: [parking]
"""
COMMITTEE_YAML = """
- code: river_2026
  estate: river_view
  names: {en: River View committee, ru: Совет дома «Речной вид»}
  chair_name: Oleg Ivanov
  elected_on: 2026-03-01
  term_ends_on: 2031-02-28
"""


async def test_estates_and_committees_import_from_yaml_and_again_unchanged(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    assert (await load(hub, "estates", ESTATE_YAML, "yaml")).created == 1
    assert (await load(hub, "committees", COMMITTEE_YAML, "yaml")).created == 1
    assert (await load(hub, "estates", ESTATE_YAML, "yaml")).unchanged == 1
    assert (await load(hub, "committees", COMMITTEE_YAML, "yaml")).unchanged == 1
    assert await buildings_of(hub, "river_view") == ["b014", "b015"]

    agent = await staff_key(hub, Role.AGENT)
    committees = (await client.get(f"{API}/committees", headers=agent)).json()
    assert {
        "code": "river_2026",
        "estate": "river_view",
        "names": {"en": "River View committee", "ru": "Совет дома «Речной вид»"},
        "elected_on": "2026-03-01",
        "term_ends_on": "2031-02-28",
    } in committees
    estates = {e["code"]: e for e in (await client.get(f"{API}/estates", headers=agent)).json()}
    assert estates["river_view"]["addresses"] == {"en": "Mira Ave 27–29", "ru": "пр. Мира 27–29"}
    assert estates["river_view"]["building_count"] == 2
    assert estates["river_view"]["company"] is None  # no contract yet


async def test_yaml_codes_and_numbers_are_kept_as_written(hub: Hub) -> None:
    # Russian INNs of the Republic of Adygea begin with 01; estate codes may be digits.
    await load(
        hub,
        "companies",
        "- {code: adygea, names: {en: Adygea Housing}, registration_number: 0105012345}\n",
        "yaml",
    )
    await load(hub, "estates", "- {code: 0107, names: {en: Block 107}, area: 1200}\n", "yaml")
    async with hub.session_factory() as session:
        number = await session.scalar(
            select(PropertyCompany.registration_number).where(PropertyCompany.code == "adygea")
        )
        codes = set(await session.scalars(select(Estate.code)))
    assert number == "0105012345"
    assert "0107" in codes


async def test_an_estate_file_names_its_buildings_and_lets_the_others_go(hub: Hub) -> None:
    await load(hub, "estates", ESTATE_YAML, "yaml")
    fewer = ESTATE_YAML.replace("[b014, b015]", "[b015]")
    assert (await load(hub, "estates", fewer, "yaml")).updated == 1
    assert await buildings_of(hub, "river_view") == ["b015"]
    # b014 is free again, so another estate may take it.
    other = "code,name_en,area,buildings\nmira,Mira,100,b014\n"
    assert (await load(hub, "estates", other)).created == 1
    assert await buildings_of(hub, "mira") == ["b014"]


@pytest.mark.parametrize(
    ("what", "text", "fmt", "model", "rejected"),
    [
        pytest.param(
            "contracts",
            "number,company,estate,starts_on,ends_on\n"
            "M-2026-01,comfort,old_mill,2026-01-01,\n"
            "X-1,nobody,old_mill,2030-01-01,\n",
            "csv",
            ServiceContract,
            [(3, "unknown company 'nobody'")],
            id="unknown company",
        ),
        pytest.param(
            "contracts",
            "number,company,estate,starts_on,ends_on\n"
            "M-2026-01,comfort,old_mill,2026-01-01,\n"
            "X-1,uyut,old_mill,2026-13-01,\n",
            "csv",
            ServiceContract,
            [(3, "starts_on is not a date (YYYY-MM-DD): '2026-13-01'")],
            id="bad date",
        ),
        pytest.param(
            "contracts",
            "number,company,estate,starts_on,ends_on\n"
            "M-2026-01,comfort,old_mill,2026-01-01,\n"
            "X-1,uyut,gardens,2019-05-01,2019-04-30\n",
            "csv",
            ServiceContract,
            [(3, "ends_on is before starts_on")],
            id="ends before it starts",
        ),
        pytest.param(
            "contracts",
            "number,company,estate,starts_on,ends_on\n"
            "M-2026-01,comfort,old_mill,2026-01-01,\n"
            "X-1,uyut,north_park,2030-01-01,\n"
            "X-2,uyut,old_mill,2025-12-31,2025-12-31\n"
            "X-3,uyut,gardens,2019-01-01,2021-01-01\n"
            "X-4,uyut,old_mill,2027-01-01,\n",
            "csv",
            ServiceContract,
            [
                (3, "overlaps contract 'C-2022-07' of estate 'north_park'"),
                (4, "overlaps contract 'U-2019-03' of estate 'old_mill'"),
                (5, "overlaps contract 'U-2021-01' of estate 'gardens'"),
                # The file's own earlier row counts too.
                (6, "overlaps contract 'M-2026-01' of estate 'old_mill'"),
            ],
            id="overlapping contracts of one estate",
        ),
        pytest.param(
            "estates",
            "code,name_en,area,buildings\nriver_view,River View,5000,b014\nmira,Mira,100,b001\n",
            "csv",
            Estate,
            [(3, "building 'b001' is in estate 'gardens' already")],
            id="building in another estate",
        ),
        pytest.param(
            "estates",
            "- {code: river_view, names: {en: River View}, area: 5000, buildings: [b014]}\n"
            "- {code: mira, names: {en: Mira}, buildings: [b015]}\n"
            "- {code: atlantis, names: {en: Atlantis}, area: 1, buildings: [b999]}\n",
            "yaml",
            Estate,
            [(2, "missing: area"), (3, "unknown building 'b999'")],
            id="yaml estates",
        ),
        pytest.param(
            "committees",
            "- {code: c1, estate: gardens, names: {en: C1}, elected_on: 2026-01-01}\n"
            "- {code: c2, estate: atlantis, names: {en: C2}, elected_on: 2026-01-01}\n"
            "- {code: c3, estate: gardens, names: {en: C3}, elected_on: 2026-01-01,"
            " term_ends_on: 2025-01-01}\n",
            "yaml",
            Committee,
            [(2, "unknown estate 'atlantis'"), (3, "term_ends_on is before elected_on")],
            id="yaml committees",
        ),
        pytest.param(
            "indicators",
            "code,name_en,frequency,max_score,pass_score\n"
            "heating,Heating,yearly,5,3\n"
            "roofs,Roofs,weekly,5,3\n"
            "doors,Doors,monthly,10,11\n",
            "csv",
            Indicator,
            [
                (3, "frequency must be one of monthly, quarterly, half_yearly, yearly"),
                (4, "pass_score must be from 0 to 10"),
            ],
            id="bad frequency and pass over max",
        ),
        pytest.param(
            "score_rules",
            "code,section,points,name_en\n"
            "late_reply,bad,1.5,Late reply\n"
            "award,bad,5,Award as a deduction\n"
            "overdue_rectification,good,5,Overdue as a bonus\n",
            "csv",
            ScoreRule,
            [
                (3, "rule 'award' belongs to the good section"),
                (4, "rule 'overdue_rectification' belongs to the bad section"),
            ],
            id="built-in rule in the wrong section",
        ),
        pytest.param(
            "score_weights",
            "dimension,key,factor\n"
            "estate_kind,commercial,0.7\n"
            "estate_kind,villa,1\n"
            "area_from,big,0.9\n"
            "area_from,12.5,0.9\n"
            "area_from,-100,0.9\n"
            "size,100,0.9\n",
            "csv",
            ScoreWeight,
            [
                (3, "an estate_kind key is one of residential, commercial, mixed"),
                (4, "an area_from key is a floor area in m²"),
                (5, "an area_from key is a whole number of m², 0 or more"),
                (6, "an area_from key is a whole number of m², 0 or more"),
                (7, "dimension must be one of estate_kind, area_from"),
            ],
            id="bad weight keys",
        ),
        pytest.param(
            "companies",
            "code,name_en,registration_number\ndom,Dom,7701000003\nkopia,Kopia,7701000001\n",
            "csv",
            PropertyCompany,
            [(3, "registration number 7701000001 belongs to company 'uyut'")],
            id="registration number of another company",
        ),
        pytest.param(
            "managers",
            "company,full_name,certificate_number,appointed_on,left_on\n"
            "uyut,Anna Petrova,MGR-3003,2026-01-10,\n"
            "nobody,Ivan Petrov,MGR-3004,2026-01-10,\n"
            "uyut,Ivan Petrov,MGR-3005,2026-01-10,2025-01-01\n",
            "csv",
            Manager,
            [(3, "unknown company 'nobody'"), (4, "left_on is before appointed_on")],
            id="managers",
        ),
    ],
)
async def test_bad_rows_are_refused_with_their_line_and_nothing_is_written(
    hub: Hub, what: str, text: str, fmt: str, model: type, rejected: list[tuple[int, str]]
) -> None:
    before = await count(hub, model)
    with pytest.raises(ImportRejected) as refused:
        await load(hub, what, text, fmt)
    assert refused.value.report.rejected == rejected
    # The good row went nowhere either: all or nothing.
    assert await count(hub, model) == before


async def test_a_refused_estate_file_keeps_the_buildings_as_they_were(hub: Hub) -> None:
    text = "code,name_en,area,buildings\ngardens,Riverside Gardens,18500.50,b001\nmira,M,1,zz\n"
    with pytest.raises(ImportRejected):
        await load(hub, "estates", text)
    assert await buildings_of(hub, "gardens") == ["b001", "b002", "b003", "b004", "b005"]


async def test_imports_over_the_api_are_for_city_admins_only(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    body = "code,name_en,registration_number\ndom,Dom Service,7701000003\n"
    for headers in (
        await staff_key(hub, Role.AGENT),
        await staff_key(hub, Role.INSPECTOR),
        await staff_key(hub, Role.SUPERVISOR, district="north"),
    ):
        refused = await client.post(
            f"{API}/imports/companies",
            content=body,
            headers={**headers, "Content-Type": "text/plain"},
        )
        assert refused.status_code == 403
    assert await count(hub, PropertyCompany, PropertyCompany.code == "dom") == 0

    admin = {**await staff_key(hub, Role.ADMIN), "Content-Type": "text/plain"}
    url = f"{API}/imports/companies"
    assert (await client.post(url, content=body, headers=admin)).json() == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
    }
    assert (await client.post(url, content=body, headers=admin)).json() == {
        "created": 0,
        "updated": 0,
        "unchanged": 1,
    }
    renamed = body.replace("Dom Service", "Dom Service Ltd")
    assert (await client.post(url, content=renamed, headers=admin)).json()["updated"] == 1

    yaml_estate = await client.post(
        f"{API}/imports/estates", params={"format": "yaml"}, content=ESTATE_YAML, headers=admin
    )
    assert yaml_estate.status_code == 200 and yaml_estate.json()["created"] == 1

    bad = await client.post(
        f"{API}/imports/contracts",
        content="number,company,estate,starts_on\nX-1,dom,river_view,someday\n",
        headers=admin,
    )
    assert bad.status_code == 422
    assert bad.json()["detail"] == [
        {"line": 2, "reason": "starts_on is not a date (YYYY-MM-DD): 'someday'"}
    ]
    # Only the complaints registers import here; another domain's kind is unknown too.
    for kind in ("sauna", "departments"):
        missing = await client.post(f"{API}/imports/{kind}", content="code\nx\n", headers=admin)
        assert missing.status_code == 404


async def test_estates_show_todays_company_and_contract(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    agent = await staff_key(hub, Role.AGENT)
    estates = (await client.get(f"{API}/estates", headers=agent)).json()
    assert [(e["code"], e["company"], e["contract"]) for e in estates] == [
        ("gardens", "uyut", "U-2021-01"),
        ("north_park", "comfort", "C-2022-07"),
        # Its contract ended on 2025-12-31: nobody serves it now.
        ("old_mill", None, None),
    ]
    gardens = estates[0]
    assert gardens["building_count"] == 5 and gardens["kind"] == "residential"
    assert Decimal(gardens["area"]) == Decimal("18500.50")

    served_by_uyut = await client.get(f"{API}/estates", params={"company": "uyut"}, headers=agent)
    assert [e["code"] for e in served_by_uyut.json()] == ["gardens"]
    unknown = await client.get(f"{API}/estates", params={"company": "nobody"}, headers=agent)
    assert unknown.status_code == 422

    inspector = await staff_key(hub, Role.INSPECTOR)
    contracts = (await client.get(f"{API}/contracts", headers=inspector)).json()
    assert [(c["number"], c["ends_on"]) for c in contracts] == [
        ("C-2022-07", None),
        ("U-2021-01", None),
        ("U-2019-03", "2025-12-31"),
    ]
    # The register of contracts and companies is the authority's, not the call centre's.
    assert (await client.get(f"{API}/contracts", headers=agent)).status_code == 403
    assert (await client.get(f"{API}/companies", headers=agent)).status_code == 403


async def test_a_manager_in_two_companies_is_flagged_until_they_leave_one(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    inspector = await staff_key(hub, Role.INSPECTOR)
    conflicts = await client.get(f"{API}/managers/conflicts", headers=inspector)
    assert conflicts.json() == [
        {
            "certificate_number": "MGR-1001",
            "full_name": "Irina Sokolova",
            "companies": ["comfort", "uyut"],
        }
    ]
    await load(
        hub,
        "managers",
        "company,full_name,certificate_number,appointed_on,left_on\n"
        "comfort,Irina Sokolova,MGR-1001,2024-02-01,2025-06-30\n",
    )
    assert (await client.get(f"{API}/managers/conflicts", headers=inspector)).json() == []
    # On a day she still held both posts, she was in conflict.
    async with hub.session_factory() as session:
        then = await manager_conflicts(db_session=session, on=date(2025, 6, 30))
        after = await manager_conflicts(db_session=session, on=date(2025, 7, 1))
    assert [(c.certificate_number, c.company_codes) for c in then] == [
        ("MGR-1001", ["comfort", "uyut"])
    ]
    assert after == []


async def test_contract_on_picks_the_contract_of_the_day_across_a_handover(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await load(
        hub,
        "contracts",
        "number,company,estate,starts_on,ends_on\nM-2026-01,comfort,old_mill,2026-01-01,\n",
    )
    async with hub.session_factory() as session:
        old_mill = await session.scalar(select(Estate.id).where(Estate.code == "old_mill"))
        assert old_mill is not None

        async def number_on(day: date) -> str | None:
            found = await contract_on(db_session=session, estate_id=old_mill, on=day)
            return found.number if found else None

        assert await number_on(date(2019, 2, 28)) is None
        assert await number_on(date(2019, 3, 1)) == "U-2019-03"
        assert await number_on(date(2025, 12, 31)) == "U-2019-03"
        assert await number_on(date(2026, 1, 1)) == "M-2026-01"
        assert await number_on(date(2040, 1, 1)) == "M-2026-01"

    agent = await staff_key(hub, Role.AGENT)
    estates = {e["code"]: e for e in (await client.get(f"{API}/estates", headers=agent)).json()}
    assert (estates["old_mill"]["company"], estates["old_mill"]["contract"]) == (
        "comfort",
        "M-2026-01",
    )


async def test_a_resident_complaint_follows_the_contract_register(hub: Hub) -> None:
    # b011 flat 1 lives in old_mill, whose only contract has ended: triage.
    before = await receive(hub=hub, message=inbound("Не работает лифт", sender="+79001000061"))
    async with hub.session_factory() as session:
        complaint = await session.get(Complaint, before.ticket_id)
    assert complaint is not None and complaint.stage == Stage.TRIAGE
    assert complaint.triage_reason == TriageReason.NO_CONTRACT and complaint.company_id is None

    await load(
        hub,
        "contracts",
        "number,company,estate,starts_on,ends_on\nM-2026-01,comfort,old_mill,2026-01-01,\n",
    )
    after = await receive(hub=hub, message=inbound("Грязно в подъезде", sender="+79001000062"))
    async with hub.session_factory() as session:
        complaint = await session.get(Complaint, after.ticket_id)
        comfort = await session.scalar(
            select(PropertyCompany.id).where(PropertyCompany.code == "comfort")
        )
        contract = await session.scalar(
            select(ServiceContract.id).where(ServiceContract.number == "M-2026-01")
        )
    assert complaint is not None and complaint.stage == Stage.WITH_COMPANY
    assert (complaint.company_id, complaint.contract_id) == (comfort, contract)
