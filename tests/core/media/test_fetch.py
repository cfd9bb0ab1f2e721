"""Fetching photos from URLs, against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from io import BytesIO
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image

from core.media.errors import MediaFetchFailed, MediaRejected
from core.media.fetch import fetch_url, is_public_address

MAX_BYTES = 1024 * 1024
HUGE_CHUNKS = 256  # of 64 KiB: 16 MiB, far past MAX_BYTES


def png_bytes() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, format="PNG")
    return buffer.getvalue()


PNG = png_bytes()


class Origin:
    """A small web server with the answers a photo URL can give."""

    def __init__(self) -> None:
        self.huge_bytes_sent = 0
        self.hosts: list[str] = []
        app = web.Application()
        app.router.add_get("/photo.png", self.photo)
        app.router.add_get("/huge", self.huge)
        app.router.add_get("/huge-declared", self.huge_declared)
        app.router.add_get("/missing", self.status(404))
        app.router.add_get("/busy", self.status(503))
        app.router.add_get("/slow-down", self.status(429))
        app.router.add_get("/hop/{n}", self.hop)
        app.router.add_get("/loop", self.loop)
        app.router.add_get("/elsewhere", self.elsewhere)
        app.router.add_get("/drip", self.drip)
        self.server = TestServer(app, host="127.0.0.1")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.port}{path}"

    async def photo(self, request: web.Request) -> web.Response:
        self.hosts.append(request.host)
        return web.Response(body=PNG, content_type="image/png")

    async def huge(self, request: web.Request) -> web.StreamResponse:
        # Chunked, with no Content-Length, so only counting the bytes can stop it.
        response = web.StreamResponse()
        await response.prepare(request)
        chunk = b"\0" * 65536
        try:
            for _ in range(HUGE_CHUNKS):
                await response.write(chunk)
                self.huge_bytes_sent += len(chunk)
        except ConnectionError:
            pass
        return response

    async def drip(self, request: web.Request) -> web.StreamResponse:
        # A byte every tenth of a second: no single read ever waits long enough to time out.
        response = web.StreamResponse()
        await response.prepare(request)
        try:
            for _ in range(100):
                await response.write(b"x")
                await asyncio.sleep(0.1)
        except ConnectionError:
            pass
        return response

    async def huge_declared(self, request: web.Request) -> web.Response:
        return web.Response(body=b"\0" * (MAX_BYTES + 1), content_type="image/png")

    def status(self, code: int) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def answer(request: web.Request) -> web.Response:
            return web.Response(status=code, text="no")

        return answer

    async def hop(self, request: web.Request) -> web.Response:
        # /hop/N redirects N more times (relative Locations), then to the photo.
        remaining = int(request.match_info["n"])
        target = f"/hop/{remaining - 1}" if remaining > 1 else "/photo.png"
        raise web.HTTPFound(target)

    async def loop(self, request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/loop")

    async def elsewhere(self, request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("file:///etc/passwd")


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    origin = Origin()
    await origin.server.start_server()
    yield origin
    await origin.server.close()


async def fetch(url: str, **overrides: Any) -> tuple[bytes, str | None]:
    options: dict[str, Any] = {"max_bytes": MAX_BYTES, "timeout": 10.0, "allow_private": True}
    options.update(overrides)
    return await fetch_url(url, **options)


async def test_a_photo_is_fetched_with_its_content_type(origin: Origin) -> None:
    body, content_type = await fetch(origin.url("/photo.png"))
    assert body == PNG
    assert content_type == "image/png"
    # The connection is pinned to the checked address, but the server still sees the URL's host.
    assert origin.hosts == [f"127.0.0.1:{origin.server.port}"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_private_address_is_refused_unless_allowed(origin: Origin, host: str) -> None:
    url = origin.url("/photo.png").replace("127.0.0.1", host)
    with pytest.raises(MediaFetchFailed, match="not a public address") as caught:
        await fetch(url, allow_private=False)
    assert caught.value.retryable is False
    assert origin.hosts == []


async def test_the_size_limit_stops_a_stream_early(origin: Origin) -> None:
    with pytest.raises(MediaRejected) as caught:
        await fetch(origin.url("/huge"))
    assert caught.value.code == "too_large"
    assert origin.huge_bytes_sent < HUGE_CHUNKS * 65536


async def test_a_declared_length_over_the_limit_is_refused(origin: Origin) -> None:
    with pytest.raises(MediaRejected) as caught:
        await fetch(origin.url("/huge-declared"))
    assert caught.value.code == "too_large"


async def test_a_body_at_the_limit_is_accepted(origin: Origin) -> None:
    body, _ = await fetch(origin.url("/photo.png"), max_bytes=len(PNG))
    assert body == PNG


@pytest.mark.parametrize(
    ("path", "status", "retryable"),
    [("/missing", 404, False), ("/busy", 503, True), ("/slow-down", 429, True)],
)
async def test_error_statuses_fail(origin: Origin, path: str, status: int, retryable: bool) -> None:
    with pytest.raises(MediaFetchFailed) as caught:
        await fetch(origin.url(path))
    assert (caught.value.status, caught.value.retryable) == (status, retryable)


async def test_up_to_three_redirects_are_followed(origin: Origin) -> None:
    body, _ = await fetch(origin.url("/hop/3"))
    assert body == PNG


@pytest.mark.parametrize("path", ["/hop/4", "/loop"])
async def test_more_redirects_are_refused(origin: Origin, path: str) -> None:
    with pytest.raises(MediaFetchFailed, match="redirects") as caught:
        await fetch(origin.url(path))
    assert caught.value.retryable is False
    assert origin.hosts == []


async def test_a_redirect_to_another_scheme_is_refused(origin: Origin) -> None:
    with pytest.raises(MediaFetchFailed, match="only http and https"):
        await fetch(origin.url("/elsewhere"))


def fake_dns(monkeypatch: pytest.MonkeyPatch, name: str, addresses: list[str]) -> None:
    """Makes the running loop's resolver answer ``addresses`` for ``name``."""
    loop = asyncio.get_running_loop()
    real_getaddrinfo = loop.getaddrinfo

    async def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host != name:
            return await real_getaddrinfo(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses
        ]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)


async def test_the_checked_address_is_used_and_the_next_one_tried(
    origin: Origin, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on 127.0.0.2, so the first answer fails to connect, like an IPv6
    # answer from a container without IPv6.
    fake_dns(monkeypatch, "photos.example", ["127.0.0.2", "127.0.0.1"])
    url = f"http://photos.example:{origin.server.port}/photo.png"
    body, _ = await fetch(url)
    assert body == PNG
    assert origin.hosts == [f"photos.example:{origin.server.port}"]


async def test_a_name_with_any_private_answer_is_refused(
    origin: Origin, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, "photos.example", ["8.8.8.8", "127.0.0.1"])
    url = f"http://photos.example:{origin.server.port}/photo.png"
    with pytest.raises(MediaFetchFailed, match="127.0.0.1, which is not a public address"):
        await fetch(url, allow_private=False)
    assert origin.hosts == []


async def test_an_unknown_name_is_not_retryable(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()

    async def no_such_name(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(loop, "getaddrinfo", no_such_name)
    with pytest.raises(MediaFetchFailed, match="cannot resolve") as caught:
        await fetch("http://no-such-host.example/photo.png")
    assert caught.value.retryable is False


async def test_each_redirect_hop_is_checked_again() -> None:
    # A public address (a literal, so no DNS) whose server sends us to loopback. The fake
    # sits at the wire: nothing leaves this machine.
    seen: list[httpx.Request] = []

    def public_site(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "http://127.0.0.1:9/admin"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(public_site)) as client:
        with pytest.raises(MediaFetchFailed, match="not a public address"):
            await fetch("http://8.8.8.8/photo.jpg", allow_private=False, client=client)
    assert [str(request.url) for request in seen] == ["http://8.8.8.8/photo.jpg"]


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/photo.jpg", "gopher://127.0.0.1/", "/photo"]
)
async def test_only_http_urls_are_fetched(url: str) -> None:
    with pytest.raises(MediaFetchFailed, match="only http and https") as caught:
        await fetch(url)
    assert caught.value.retryable is False


async def test_a_slow_drip_hits_the_overall_deadline(origin: Origin) -> None:
    started = asyncio.get_running_loop().time()
    with pytest.raises(MediaFetchFailed, match="timed out") as caught:
        await fetch(origin.url("/drip"), timeout=0.5)
    assert caught.value.retryable is True
    assert asyncio.get_running_loop().time() - started < 2


async def test_a_connection_refused_is_retryable(origin: Origin) -> None:
    port = origin.server.port
    await origin.server.close()
    with pytest.raises(MediaFetchFailed) as caught:
        await fetch(f"http://127.0.0.1:{port}/photo.png")
    assert caught.value.retryable is True


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",  # 6to4 wrapping 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2a00:1450:4001::1"])
def test_public_addresses(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))
