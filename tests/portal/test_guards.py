"""What an outside tester found at the edges: forged sessions, huge and unserialisable
bodies, numbers past 64 bits, reused idempotency keys, missing browser headers."""

from __future__ import annotations

import base64
import json
import logging
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from core.config import Settings
from core.runtime import Hub
from core.tickets.models import Ticket
from portal.app import create_app
from tests.factories import api_key

NEW = {"channel": "sms", "sender_address": "+79005550101", "text": "No hot water since morning"}
PUBLISHED = "embedded-development-secret-change-me"


def _forged_cookie(secret: str, session: dict[str, object]) -> str:
    """Signs a session the way Starlette's SessionMiddleware does."""
    data = base64.b64encode(json.dumps(session).encode())
    return TimestampSigner(secret).sign(data).decode()


@pytest.fixture
async def embedded_client(hub: Hub, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An app configured as a new user runs it: no secret given, embedded mode."""
    settings = Settings(data_dir=tmp_path / "fresh", simulator_enabled=True)
    app = create_app(settings, hub=hub, run_worker=False, prepare_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://hub.test") as http:
        yield http


def test_the_embedded_secret_is_random_private_and_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "a").secret_key.get_secret_value()
    again = Settings(data_dir=tmp_path / "a").secret_key.get_secret_value()
    other = Settings(data_dir=tmp_path / "b").secret_key.get_secret_value()
    assert first == again and first != other and len(first) >= 32
    assert first != PUBLISHED
    mode = (tmp_path / "a" / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


@pytest.mark.parametrize("secret", [PUBLISHED, "short"])
def test_a_published_or_short_secret_is_refused_everywhere(secret: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="HUB_SECRET_KEY"):
        Settings(data_dir=tmp_path, secret_key=secret)
    with pytest.raises(ValueError, match="HUB_SECRET_KEY"):
        Settings(database_url="postgresql://db/hub", secret_key=secret)


async def test_a_session_signed_with_the_old_default_is_not_a_login(
    embedded_client: httpx.AsyncClient,
) -> None:
    cookie = _forged_cookie(PUBLISHED, {"staff_id": 1, "csrf": "x"})
    embedded_client.cookies.set("hub_session", cookie)
    answer = await embedded_client.get("/api/v1/tickets")
    assert answer.status_code == 401
    posted = await embedded_client.post("/api/v1/tickets", json=NEW, headers={"X-CSRF-Token": "x"})
    assert posted.status_code == 401


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/session", b'{"username": 1e400, "password": "x"}'),
        ("/api/v1/session", b'{"username": "admin", "password": -1e400}'),
        ("/api/v1/residents/search", b'{"phone": 1e400}'),
        ("/api/v1/tickets", b'{"channel": "sms", "sender_address": 1e400, "text": "x"}'),
    ],
)
async def test_a_number_that_overflows_to_infinity_is_a_422(
    client: httpx.AsyncClient, hub: Hub, path: str, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"Content-Type": "application/json", **await api_key(hub)}
    with caplog.at_level(logging.ERROR):
        answer = await client.post(path, content=body, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][0] == "body"
    assert not [r for r in caplog.records if r.exc_info], "no traceback in the log"


async def test_a_large_field_is_refused_without_being_echoed(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    headers = await api_key(hub)
    # Under the body limit but over the field's: the reason names the field, not its value.
    answer = await client.post(
        "/api/v1/session", json={"username": "u" * 100_000, "password": "x"}, headers=headers
    )
    assert answer.status_code == 422 and len(answer.content) < 1_000
    assert answer.json()["detail"][0]["loc"] == ["body", "username"]


@pytest.mark.parametrize("path", ["/api/v1/session", "/api/v1/tickets"])
async def test_a_body_over_the_limit_is_413_and_small(
    client: httpx.AsyncClient, hub: Hub, path: str
) -> None:
    headers = await api_key(hub)
    huge = {**NEW, "username": "u" * 10_000_000, "text": "t" * 10_000_000}
    answer = await client.post(path, json=huge, headers=headers)
    assert answer.status_code == 413 and len(answer.content) < 1_000
    assert "larger than 1 MB" in answer.json()["detail"]
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0


async def test_a_chunked_body_is_counted_as_it_arrives(client: httpx.AsyncClient, hub: Hub) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 65_536  # 2.5 MB with no Content-Length

    answer = await client.post(
        "/api/v1/tickets",
        content=chunks(),
        headers={**await api_key(hub), "Content-Type": "application/json"},
    )
    assert answer.status_code == 413


async def test_a_file_import_may_be_larger_than_a_form(client: httpx.AsyncClient, hub: Hub) -> None:
    from core.auth.enums import Role

    headers = {**await api_key(hub, role=Role.ADMIN), "Content-Type": "text/csv"}
    text = "code,name\n" + "x,y\n" * 400_000  # 1.6 MB: over the form limit, under imports'
    answer = await client.post("/api/v1/billing/imports/suppliers", content=text, headers=headers)
    assert answer.status_code != 413


async def test_an_oversized_simulator_form_gets_a_page_in_the_persons_language(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post(
        "/simulator/send",
        data={"channel": "sms", "address": "+79005550101", "text": "щ" * 1_200_000},
        headers={"Accept": "text/html", "Accept-Language": "ru-RU,ru;q=0.9"},
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("text/html")
    assert "Сократите текст" in answer.text and len(answer.content) < 5_000


@pytest.mark.parametrize(
    "params",
    [
        {"district_id": "99999999999999999999"},
        {"category_id": "-99999999999999999999"},
        {"department_id": str(2**63)},
        {"offset": "99999999999999999999"},
    ],
)
async def test_integers_past_64_bits_are_a_422(
    client: httpx.AsyncClient, hub: Hub, params: dict[str, str]
) -> None:
    answer = await client.get("/api/v1/tickets", params=params, headers=await api_key(hub))
    assert answer.status_code == 422


async def test_an_idempotency_key_reused_for_another_request_is_refused(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    headers = {**await api_key(hub), "Idempotency-Key": "call-2026-12-06-0001"}
    first = await client.post("/api/v1/tickets", json=NEW, headers=headers)
    other = await client.post(
        "/api/v1/tickets", json={**NEW, "text": "The lift is stuck"}, headers=headers
    )
    same = await client.post("/api/v1/tickets", json=NEW, headers=headers)
    assert first.status_code == 201 and same.status_code == 201
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    assert same.json()["number"] == first.json()["number"]
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1


@pytest.mark.parametrize("path", ["/simulator", "/subscriptions", "/api/v1/tickets"])
async def test_every_answer_carries_the_browser_security_headers(
    client: httpx.AsyncClient, path: str
) -> None:
    answer = await client.get(path)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    # No script written into a page runs: only the hub's own script files.
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("script-src")[1]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "POST",
            "/api/v1/billing/quality-acts",
            b'{"hours": 3.5, "service": "heating", "building": "x\\u0000", "period": "2026-02"}',
        ),
        (
            "POST",
            "/api/v1/tickets",
            b'{"channel": "sms", "sender_address": "+79005550101", "text": "lift \\ud83d broken"}',
        ),
        ("GET", "/api/v1/complaints/inspections?campaign=%00&status=done", b""),
        ("GET", "/api/v1/tickets?status=new%00", b""),
    ],
)
async def test_text_no_database_can_keep_is_a_422_before_any_view(
    client: httpx.AsyncClient, hub: Hub, method: str, path: str, body: bytes
) -> None:
    from core.auth.enums import Role

    headers = {**await api_key(hub, role=Role.ADMIN), "Content-Type": "application/json"}
    answer = await client.request(method, path, content=body or None, headers=headers)
    assert answer.status_code == 422
    assert "NUL character or broken Unicode" in answer.json()["detail"]


async def test_a_whole_emoji_escaped_in_json_is_fine(client: httpx.AsyncClient, hub: Hub) -> None:
    body = b'{"channel": "sms", "sender_address": "+79005550101", "text": "lift \\ud83d\\ude00 ok"}'
    answer = await client.post(
        "/api/v1/tickets",
        content=body,
        headers={**await api_key(hub), "Content-Type": "application/json"},
    )
    assert answer.status_code == 201, answer.text


async def test_an_idempotency_key_is_one_request_whatever_the_channel(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    headers = {**await api_key(hub), "Idempotency-Key": "call-2026-12-06-0002"}
    first = await client.post("/api/v1/tickets", json=NEW, headers=headers)
    other = await client.post("/api/v1/tickets", json={**NEW, "channel": "web"}, headers=headers)
    assert first.status_code == 201 and other.status_code == 422
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_an_empty_secret_file_left_by_a_crash_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("")
    secret = Settings(data_dir=tmp_path).secret_key.get_secret_value()
    assert len(secret) >= 32 and (tmp_path / "secret_key").read_text() == secret
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]  # no drafts left
