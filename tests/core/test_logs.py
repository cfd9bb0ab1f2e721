"""Logs never hold a key or a token: secret query parameters are masked in every record,
uvicorn's access log included, as `hub serve` configures it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from core.logs import configure_logging, mask_secrets
from tests.conftest import eventually

SECRET = "hub_Sup3rSecretKey"  # noqa: S105 (a value to look for, not a credential)


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (
            f"/open311/v2/requests.json?api_key={SECRET}&service_code=garbage",
            "/open311/v2/requests.json?api_key=***&service_code=garbage",
        ),
        (
            f"GET /x?jurisdiction_id=riverside&token={SECRET}#top",
            "GET /x?jurisdiction_id=riverside&token=***#top",
        ),
        (
            f'"POST /login?code={SECRET}&pin=1234 HTTP/1.1"',
            '"POST /login?code=***&pin=*** HTTP/1.1"',
        ),
        (f"https://a.example/cb?ACCESS_TOKEN={SECRET}", "https://a.example/cb?ACCESS_TOKEN=***"),
        (f"/t?key={SECRET}&client_secret={SECRET}", "/t?key=***&client_secret=***"),
        (
            f"/t?x=1&password={SECRET}&refresh_token={SECRET}",
            "/t?x=1&password=***&refresh_token=***",
        ),
        # A name written percent-encoded is still the name the framework reads.
        (
            f"POST /open311/v2/requests.json?api%5Fkey={SECRET} HTTP/1.1",
            "POST /open311/v2/requests.json?api%5Fkey=*** HTTP/1.1",
        ),
        (f"/x?api%5fKEY={SECRET}&lang=ru", "/x?api%5fKEY=***&lang=ru"),
        # A ticket link's key is a capability: whoever holds it reads the ticket.
        (
            "GET /simulator/tickets/0000018/0123456789abcdef0123456789abcdef HTTP/1.1",
            "GET /simulator/tickets/0000018/*** HTTP/1.1",
        ),
        # What is not a secret stays readable.
        ("/open311/v2/requests.json?service_code=garbage&status=open", None),
        ("api_key is missing, unknown or revoked", None),
    ],
)
def test_secret_query_parameters_are_masked(line: str, masked: str | None) -> None:
    assert mask_secrets(line) == (masked or line)


@pytest.fixture
def hub_logging() -> Iterator[None]:
    """Configures logging as `hub serve` does, and puts everything back afterwards."""
    root = logging.getLogger()
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    saved = (
        root.level,
        list(root.handlers),
        {id(h): list(h.filters) for h in root.handlers},
        {
            n: (list(logging.getLogger(n).handlers), list(logging.getLogger(n).filters))
            for n in names
        },
    )
    configure_logging("INFO")
    yield
    level, handlers, filters, loggers = saved
    root.setLevel(level)
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        handler.filters[:] = filters[id(handler)]
    for name, (logger_handlers, logger_filters) in loggers.items():
        logging.getLogger(name).handlers[:] = logger_handlers
        logging.getLogger(name).filters[:] = logger_filters


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 400, "headers": []})
    await send({"type": "http.response.body", "body": b"no"})


async def test_the_access_log_never_holds_an_api_key(
    hub_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    # A real uvicorn server, configured as `hub serve` runs it (log_config=None), so the
    # record is the one uvicorn really writes.
    config = uvicorn.Config(_answer, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    try:
        await eventually(started)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient() as http:
            url = f"http://127.0.0.1:{port}/open311/v2/requests.json"
            await http.post(url, params={"api_key": SECRET, "service_code": "garbage"})
    finally:
        server.should_exit = True
        await serving
    [access] = [r for r in caplog.records if r.name == "uvicorn.access"]
    line = access.getMessage()
    assert "/open311/v2/requests.json?api_key=***&service_code=garbage" in line
    assert SECRET not in line and SECRET not in str(access.args)
    assert SECRET not in caplog.text
