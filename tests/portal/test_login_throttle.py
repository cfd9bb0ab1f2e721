"""Staff login: wrong passwords lock the account and the address, and leave an audit trail."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from core.auth.models import AuthEvent
from core.config import Settings
from core.runtime import Hub
from portal.app import create_app


def _login(username: str, password: str) -> dict[str, str]:
    return {"username": username, "password": password}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"login_max_failures": 5, "login_lock_minutes": 15})


async def _kinds(hub: Hub, username: str) -> list[str]:
    async with hub.session_factory() as session:
        rows = await session.scalars(
            select(AuthEvent.kind).where(AuthEvent.username == username).order_by(AuthEvent.id)
        )
        return list(rows)


async def test_wrong_passwords_lock_the_account_even_for_the_right_one(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    for _ in range(5):
        wrong = await client.post("/api/v1/session", json=_login("agent", "guess"))
        assert wrong.status_code == 401
    locked = await client.post("/api/v1/session", json=_login("agent", "agent-demo"))
    assert locked.status_code == 429
    assert "try again in 15 minutes" in locked.json()["detail"]
    assert locked.headers["retry-after"] == "900"
    assert await _kinds(hub, "agent") == ["login_failed"] * 5 + ["login_locked"]
    # Another account from another address is not affected by this one's lock.
    other = await client.post("/api/v1/session", json=_login("north", "north-demo"))
    assert other.status_code == 200
    assert await _kinds(hub, "north") == ["login_succeeded"]


async def test_one_address_trying_many_accounts_is_locked(hub: Hub, settings: Settings) -> None:
    hub.settings = settings.model_copy(update={"login_max_failures_per_client": 3})
    app = create_app(hub.settings, hub=hub, run_worker=False, prepare_database=False)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://hub.test") as http:
        for name in ("agent", "north", "dispatcher"):
            assert (await http.post("/api/v1/session", json=_login(name, "x"))).status_code == 401
        refused = await http.post("/api/v1/session", json=_login("admin", "admin-demo"))
    assert refused.status_code == 429
    async with hub.session_factory() as session:
        event = await session.scalar(select(AuthEvent).where(AuthEvent.username == "admin"))
    assert event is not None and event.kind == "login_locked" and event.client == "203.0.113.9"


async def test_a_right_password_before_the_limit_logs_in(client: httpx.AsyncClient) -> None:
    for _ in range(4):
        await client.post("/api/v1/session", json=_login("agent", "guess"))
    answer = await client.post("/api/v1/session", json=_login("agent", "agent-demo"))
    assert answer.status_code == 200 and answer.json()["role"] == "agent"


async def test_attempts_sent_at_once_are_counted_before_any_password_is_checked(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    import asyncio

    answers = await asyncio.gather(
        *(client.post("/api/v1/session", json=_login("admin", f"guess{n}")) for n in range(30))
    )
    codes = sorted(a.status_code for a in answers)
    # Five tries for the account, however they arrive; the rest are refused unchecked.
    assert codes.count(401) == 5 and codes.count(429) == 25
    assert (await _kinds(hub, "admin")).count("login_failed") == 5


async def test_a_success_starts_the_accounts_count_again(client: httpx.AsyncClient) -> None:
    for _ in range(4):
        await client.post("/api/v1/session", json=_login("agent", "guess"))
    assert (await client.post("/api/v1/session", json=_login("agent", "agent-demo"))).is_success
    for _ in range(4):
        assert (await client.post("/api/v1/session", json=_login("agent", "x"))).status_code == 401
