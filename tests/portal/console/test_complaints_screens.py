"""Property complaint screens: the company answers, the authority sees it all."""

from __future__ import annotations

import httpx

from core.runtime import Hub
from tests.core.complaints.factories import complain, complaint_of, resident_of
from tests.portal.console.helpers import console_login


async def test_the_company_answers_a_complaint_from_its_screen(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    result = await complain(hub, "Не работает лифт в подъезде", sender=resident_of(1))
    number = result.ticket_number
    assert number is not None
    token = await console_login(client, "company")
    listed = await client.get("/console/complaints")
    assert number in listed.text
    page = await client.get(f"/console/complaints/items/{number}")
    assert "Не работает лифт" in page.text and 'name="text"' in page.text
    empty = await client.post(
        f"/console/complaints/items/{number}/answer", data={"csrf": token, "text": " "}
    )
    assert empty.status_code == 409 and 'role="alert"' in empty.text
    answered = await client.post(
        f"/console/complaints/items/{number}/answer",
        data={"csrf": token, "text": "Лифт починили, проверьте, пожалуйста"},
    )
    assert answered.status_code == 303
    _ticket, complaint = await complaint_of(hub, result.ticket_id)
    assert complaint.answer == "Лифт починили, проверьте, пожалуйста"
    # The company may not record the authority's finding.
    finding = await client.post(
        f"/console/complaints/items/{number}/finding", data={"csrf": token, "upheld": "yes"}
    )
    assert finding.status_code == 403
    assert (await client.get("/console/complaints/orders")).status_code == 200
    assert (await client.get("/console/complaints/score")).status_code == 200


async def test_the_authority_sees_the_ranking_and_the_agent_does_not(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await console_login(client, "inspector")
    score = await client.get("/console/complaints/score")
    assert (
        score.status_code == 200
        and "uyut" not in score.text.lower()
        or "Уют" in score.text
        or "Uyut" in score.text
    )
    client.cookies.clear()
    await console_login(client, "agent")
    assert (await client.get("/console/complaints")).status_code == 403
