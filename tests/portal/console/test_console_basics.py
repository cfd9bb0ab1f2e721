"""The console's door: logging in and out, session expiry, CSRF, the role gate, the inbox."""

from __future__ import annotations

import time

import httpx
import pytest
from itsdangerous import TimestampSigner

from core.intake import service as intake_service
from core.runtime import Hub
from tests.factories import inbound
from tests.portal.console.helpers import console_login, form_token


async def test_the_console_asks_for_a_login_first(client: httpx.AsyncClient) -> None:
    response = await client.get("/console")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"
    page = await client.get("/console/login?lang=ru")
    assert "Вход в консоль" in page.text
    assert 'autocomplete="current-password"' in page.text


async def test_a_login_opens_the_inbox_with_a_hardened_cookie(client: httpx.AsyncClient) -> None:
    page = await client.get("/console/login")
    response = await client.post(
        "/console/login",
        data={"username": "agent", "password": "agent-demo", "csrf": form_token(page.text)},
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    inbox = await client.get("/console")
    assert inbox.status_code == 200
    assert "data-live-inbox" in inbox.text


async def test_a_login_form_without_its_token_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/console/login")
    response = await client.post(
        "/console/login", data={"username": "agent", "password": "agent-demo", "csrf": "forged"}
    )
    assert response.status_code == 403
    assert (await client.get("/console")).status_code == 303


async def test_wrong_passwords_lock_the_login_with_a_message(client: httpx.AsyncClient) -> None:
    page = await client.get("/console/login?lang=ru")
    token = form_token(page.text)
    for _ in range(5):
        wrong = await client.post(
            "/console/login", data={"username": "agent", "password": "guess", "csrf": token}
        )
        assert wrong.status_code == 401
        assert "Неверное имя пользователя или пароль" in wrong.text
    locked = await client.post(
        "/console/login", data={"username": "agent", "password": "agent-demo", "csrf": token}
    )
    assert locked.status_code == 429
    assert "Повторите попытку через 15 минут" in locked.text
    assert locked.headers["retry-after"] == "900"


async def test_logging_out_ends_the_session(client: httpx.AsyncClient) -> None:
    token = await console_login(client, "agent")
    out = await client.post("/console/logout", data={"csrf": token})
    assert out.status_code == 303
    assert (await client.get("/console")).status_code == 303
    # The JSON API shares the session: it ends there too.
    assert (await client.get("/api/v1/tickets")).status_code == 401


async def test_a_post_without_the_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await console_login(client, "agent")
    assert (await client.post("/console/logout", data={})).status_code == 403
    assert (await client.get("/console")).status_code == 200


@pytest.mark.parametrize(("idle", "age"), [(31 * 60, 31 * 60), (60, 13 * 3600)])
async def test_an_idle_or_old_session_ends(
    client: httpx.AsyncClient, hub: Hub, idle: int, age: int
) -> None:
    await console_login(client, "agent")
    # Rewrites the signed cookie as it would be after ``idle`` seconds untouched.
    signer = TimestampSigner(hub.settings.secret_key.get_secret_value())
    raw = client.cookies["hub_session"]
    import base64
    import json

    data = json.loads(base64.b64decode(signer.unsign(raw)))
    now = int(time.time())
    data["staff_seen"], data["staff_since"] = now - idle, now - age
    forged = signer.sign(base64.b64encode(json.dumps(data).encode())).decode()
    client.cookies.set("hub_session", forged, domain="hub.test")
    response = await client.get("/console")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"


async def test_a_company_may_not_open_the_inbox(client: httpx.AsyncClient) -> None:
    await console_login(client, "company")
    response = await client.get("/console")
    assert response.status_code == 403


async def test_the_language_is_kept_on_the_account(client: httpx.AsyncClient) -> None:
    token = await console_login(client, "agent")
    changed = await client.post("/console/language", data={"csrf": token, "language": "zh"})
    assert changed.status_code == 303
    assert "收件箱" in (await client.get("/console")).text


async def test_the_inbox_shows_new_requests_and_live_rows(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await console_login(client, "agent")
    result = await intake_service.receive(hub=hub, message=inbound("Нет воды с утра"))
    number = result.ticket_number
    assert number is not None
    page = await client.get("/console?view=all")
    assert number in page.text and "new activity" in page.text
    rows = await client.get(f"/console/inbox/rows?view=all&numbers={number},0000000")
    assert f'data-number="{number}"' in rows.text
    assert 'data-remove="0000000"' in rows.text
    # Closed view: the same ticket does not belong in "waiting", so the live list drops it.
    rows = await client.get(f"/console/inbox/rows?view=waiting&numbers={number}")
    assert f'data-remove="{number}"' in rows.text
    # Opening the ticket marks it read.
    await client.get(f"/console/tickets/{number}")
    page = await client.get("/console?view=all")
    assert "new activity" not in page.text


async def test_bad_filters_are_a_clear_422(client: httpx.AsyncClient) -> None:
    await console_login(client, "agent")
    assert (await client.get("/console?view=everything")).status_code == 422
    assert (await client.get("/console?district=99999999999")).status_code == 422
