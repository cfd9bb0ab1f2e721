"""The complaints API names what its codes stand for, in the caller's language (issue 16)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from core.auth import service as auth_service
from core.auth.enums import Role, ScopeKind
from core.complaints.models import PropertyCompany
from core.db import transaction
from core.runtime import Hub
from tests.core.complaints.factories import complain, resident_of
from tests.core.dispatch.factories import staff_key
from tests.core.test_list_queries import counted

API = "/api/v1/complaints/complaints"


async def _company_login(client: httpx.AsyncClient, hub: Hub, *, language: str) -> None:
    """Logs in as a staff member of the company uyut who reads ``language``."""
    async with transaction(hub.session_factory) as session:
        uyut = await session.scalar(
            select(PropertyCompany.id).where(PropertyCompany.code == "uyut")
        )
        await auth_service.create_staff(
            db_session=session,
            username=f"uyut-{language}",
            password="uyut-secret-1",
            role=Role.COMPANY,
            scope_kind=ScopeKind.COMPANY,
            scope_id=uyut,
            language=language,
        )
    login = await client.post(
        "/api/v1/session", json={"username": f"uyut-{language}", "password": "uyut-secret-1"}
    )
    assert login.status_code == 200, login.text


@pytest.mark.parametrize(
    ("language", "stage", "company", "estate", "category"),
    [
        (
            "en",
            "With the property company",
            "Uyut Housing",
            "Riverside Gardens",
            "Dirty stairwell or broken lift",
        ),
        ("ru", "В управляющей компании", "УК «Уют»", "ЖК «Речные сады»", "Подъезд или лифт"),
        ("zh", "物业公司处理中", "舒适物业", "河畔花园", "楼道或电梯"),
    ],
    ids=["en", "ru", "zh"],
)
async def test_a_company_reads_its_complaint_in_its_language(
    client: httpx.AsyncClient,
    hub: Hub,
    language: str,
    stage: str,
    company: str,
    estate: str,
    category: str,
) -> None:
    number = (
        await complain(hub, "Не работает лифт в подъезде", sender=resident_of(1))
    ).ticket_number
    await _company_login(client, hub, language=language)

    detail = (await client.get(f"{API}/{number}")).json()
    # The codes stay for programs; the names sit beside them.
    assert (detail["stage"], detail["company"], detail["estate"]) == (
        "with_company",
        "uyut",
        "gardens",
    )
    assert detail["stage_name"] == stage
    assert detail["company_name"] == company and detail["estate_name"] == estate
    assert detail["category"] == "stairwell" and detail["category_name"] == category

    listing = (await client.get(API)).json()["items"]
    [item] = [c for c in listing if c["number"] == number]
    assert (item["stage_name"], item["company_name"], item["estate_name"]) == (
        stage,
        company,
        estate,
    )


async def test_an_api_key_reads_english_and_no_company_has_no_name(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    # Old Mill's contract has ended: the estate is known, no company answers for it yet.
    number = (
        await complain(hub, "Не работает лифт в подъезде", sender=resident_of(11))
    ).ticket_number
    key = await staff_key(hub, Role.INSPECTOR)

    detail = (await client.get(f"{API}/{number}", headers=key)).json()
    assert detail["stage"] == "triage" and detail["stage_name"] == "Finding who is responsible"
    assert detail["company"] is None and detail["company_name"] is None
    assert detail["estate"] == "old_mill" and detail["estate_name"] == "Old Mill"


async def test_the_names_of_a_page_are_read_once_for_the_page(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    # Two companies, two estates: per-item lookups would run more statements for more items.
    for building in (1, 2, 6):
        await complain(hub, "Не работает лифт в подъезде", sender=resident_of(building))
    key = await staff_key(hub, Role.INSPECTOR)
    counts = []
    for limit in (1, 500):
        async with counted(hub) as statements:
            page = await client.get(f"{API}?limit={limit}", headers=key)
        assert page.status_code == 200, page.text
        counts.append(len(statements))
    names = {(c["company_name"], c["estate_name"]) for c in page.json()["items"]}
    assert names == {("Uyut Housing", "Riverside Gardens"), ("Comfort Service", "North Park")}
    assert counts[0] == counts[1]
