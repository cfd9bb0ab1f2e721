"""CSV files as spreadsheets and old systems write them: every import reads or refuses them.

A bare carriage return is a line ending to some programs (classic Mac OS, some exports)
and a stray character to others; either way an import answers, never with a 500.
"""

import httpx
import pytest

from core.auth.enums import Role
from core.runtime import Hub
from tests.core.billing.factories import setup_billing
from tests.factories import api_key

# One import of each family, with a header that names its required columns.
FAMILIES = {
    "/api/v1/billing/imports/suppliers": "code,name_en",
    "/api/v1/billing/statements": "external_id,account,paid_on,amount",
    "/api/v1/dispatch/imports/gazetteer": "code,kind,name_en,lat,lon",
    "/api/v1/complaints/imports/companies": "code,name_en",
    "/api/v1/votes/imports/owners": "building,premises,owner",
}


@pytest.mark.parametrize("url", FAMILIES)
async def test_a_carriage_return_inside_a_header_is_refused_with_a_reason(
    client: httpx.AsyncClient, hub: Hub, url: str
) -> None:
    headers = {**await api_key(hub, Role.ADMIN), "Content-Type": "text/plain"}
    header = FAMILIES[url]
    broken = header.replace(",", "\r,", 1)  # a CR where no line can end
    answer = await client.post(url, content=f"{broken}\n", headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["line"] == 1
    assert "missing columns" in answer.json()["detail"][0]["reason"]


async def test_carriage_returns_as_line_endings_read_as_lines(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await setup_billing(hub)
    headers = {**await api_key(hub, Role.ADMIN), "Content-Type": "text/csv"}
    suppliers = await client.post(
        "/api/v1/billing/imports/suppliers",
        content="code,name_en\rgas,Gas company\rpower,Power company\r",
        headers=headers,
    )
    assert suppliers.json() == {"created": 2, "updated": 0, "unchanged": 0}
    statement = await client.post(
        "/api/v1/billing/statements",
        content="external_id,account,paid_on,amount\rB-1,7700001,2026-02-05,500.00\r",
        headers=headers,
    )
    assert statement.json() == {"recorded": 1, "duplicates": 0}
