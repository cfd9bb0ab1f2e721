"""The case API names what its codes stand for, in the caller's language (issue 16)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.auth import service as auth_service
from core.auth.enums import Role
from core.db import transaction
from core.runtime import Hub
from tests.core.dispatch.factories import act, report, staff_key


async def _login(client: httpx.AsyncClient, hub: Hub, *, language: str) -> dict[str, str]:
    async with transaction(hub.session_factory) as session:
        await auth_service.create_staff(
            db_session=session,
            username=f"olga-{language}",
            password="olga-secret-1",
            role=Role.DISPATCHER,
            display_name="Olga Petrova",
            language=language,
        )
    login = await client.post(
        "/api/v1/session", json={"username": f"olga-{language}", "password": "olga-secret-1"}
    )
    assert login.status_code == 200, login.text
    return {"X-CSRF-Token": login.json()["csrf_token"]}


def _event(detail: dict[str, Any], kind: str, **data: Any) -> dict[str, Any]:
    return next(
        e
        for e in detail["events"]
        if e["kind"] == kind and all(e["data"].get(k) == v for k, v in data.items())
    )


async def test_a_case_reads_in_words_beside_its_codes(client: httpx.AsyncClient, hub: Hub) -> None:
    number = (await report(hub, "Мусор вывалили у рынка, третий день")).ticket_number
    csrf = await _login(client, hub, language="en")
    registered = await act(client, csrf, number, action="register")
    assert registered.status_code == 200, registered.text

    detail = (await client.get(f"/api/v1/dispatch/cases/{number}")).json()
    # The codes stay for programs.
    assert detail["stage"] == "dispatched" and detail["category"] == "garbage"
    assert detail["department"] == "sanitation" and detail["district"] == "north"
    assert detail["stage_name"] == "Dispatched"
    assert detail["category_name"] == "Exposed garbage"
    assert detail["department_name"] == "Sanitation"
    assert detail["district_name"] == "North District"

    created = _event(detail, "created")
    assert created["actor"] == "resident" and created["actor_name"] == "Resident"
    assert created["description"] == "Request registered (SMS)"
    register = _event(detail, "stage_changed", stage="registered")
    assert register["actor"].startswith("staff:")
    assert register["actor_name"] == "Olga Petrova (Dispatcher)"
    assert register["description"] == "Stage: Accepted → Registered"
    sent = _event(detail, "stage_changed", stage="dispatched")
    assert sent["description"] == "Handed to Sanitation"
    assert all(e["description"] and e["actor_name"] for e in detail["events"])

    listing = (await client.get("/api/v1/dispatch/cases")).json()["items"]
    assert {c["department_name"] for c in listing if c["number"] == number} == {"Sanitation"}


@pytest.mark.parametrize(
    ("language", "stage", "department", "who"),
    [
        ("ru", "Передано исполнителю", "Санитарная очистка", "Olga Petrova (Диспетчер)"),
        ("zh", "已派遣", "环卫处", "Olga Petrova (派遣员)"),
    ],
    ids=["ru", "zh"],
)
async def test_a_case_reads_in_the_staff_members_language(
    client: httpx.AsyncClient,
    hub: Hub,
    language: str,
    stage: str,
    department: str,
    who: str,
) -> None:
    number = (await report(hub, "Мусор вывалили у рынка, третий день")).ticket_number
    csrf = await _login(client, hub, language=language)
    assert (await act(client, csrf, number, action="register")).status_code == 200

    detail = (await client.get(f"/api/v1/dispatch/cases/{number}")).json()
    assert detail["department_name"] == department and detail["stage_name"] == stage
    register = _event(detail, "stage_changed", stage="registered")
    assert register["actor_name"] == who
    assert "stage:" not in register["description"]


async def test_an_api_key_reads_english_and_the_keys_name(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    number = (await report(hub, "Мусор вывалили у рынка, третий день")).ticket_number
    key = await staff_key(hub, Role.DISPATCHER)
    assert (await act(client, key, number, action="register")).status_code == 200

    detail = (await client.get(f"/api/v1/dispatch/cases/{number}", headers=key)).json()
    assert detail["department_name"] == "Sanitation"
    register = _event(detail, "stage_changed", stage="registered")
    assert register["actor"].startswith("apikey:") and register["actor_name"] == "test"
    routed = _event(detail, "routed")
    assert routed["actor_name"] == "Hub (automatic)"
