"""Fetching a photo from a URL someone else gave us (Open311 media_url, MMS pictures).

The URL is untrusted, so this guards against server-side request forgery: only http(s),
only public addresses, and every redirect hop is checked again. The connection goes to
the address that was checked, so a DNS answer that changes between the check and the
connection (DNS rebinding) cannot point it inward.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import TypeAlias

import httpx

from core.media.errors import MediaFetchFailed, MediaRejected

MAX_REDIRECTS = 3
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Rate limiting and request timeouts say "later", like a 5xx does.
_RETRYABLE_STATUSES = frozenset({408, 429})
_HEADERS = {
    "User-Agent": "citizen-hub-media-fetch/1",
    # A compressed body is decompressed in chunks far larger than what arrived, so ask
    # for none; images are compressed already.
    "Accept-Encoding": "identity",
    "Accept": "image/*",
}

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address


async def fetch_url(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    allow_private: bool,
    client: httpx.AsyncClient | None = None,
) -> tuple[bytes, str | None]:
    """Returns the body and Content-Type of a public http(s) URL, following few redirects."""
    if client is not None:
        return await _fetch(client, url, max_bytes, timeout, allow_private)
    async with httpx.AsyncClient(timeout=timeout) as own_client:
        return await _fetch(own_client, url, max_bytes, timeout, allow_private)


async def _fetch(
    client: httpx.AsyncClient, url: str, max_bytes: int, timeout: float, allow_private: bool
) -> tuple[bytes, str | None]:
    try:
        # One deadline for the whole fetch: httpx's timeouts are per read, and a server
        # dripping a byte a second would never trip them.
        async with asyncio.timeout(timeout):
            return await _follow(
                client, url, max_bytes=max_bytes, timeout=timeout, allow_private=allow_private
            )
    except TimeoutError:
        raise MediaFetchFailed(f"fetching {url} timed out", retryable=True) from None
    except (httpx.InvalidURL, httpx.DecodingError) as exc:
        raise MediaFetchFailed(f"cannot fetch {url}: {exc}", retryable=False) from None
    except httpx.TransportError as exc:
        raise MediaFetchFailed(f"fetching {url} failed: {exc!r}", retryable=True) from None


async def _follow(
    client: httpx.AsyncClient, url: str, *, max_bytes: int, timeout: float, allow_private: bool
) -> tuple[bytes, str | None]:
    current = httpx.URL(url)
    for _hop in range(MAX_REDIRECTS + 1):
        addresses = await _checked_addresses(current, allow_private=allow_private)
        response = await _send_pinned(client, current, addresses, timeout=timeout)
        try:
            location = response.headers.get("Location")
            if response.status_code in _REDIRECT_STATUSES and location:
                # Relative to the URL as given, not to the address it was pinned to.
                current = current.join(location)
                continue
            _raise_for_status(response, current)
            body = await _read_limited(response, max_bytes=max_bytes)
            return body, response.headers.get("Content-Type")
        finally:
            await response.aclose()
    raise MediaFetchFailed(f"more than {MAX_REDIRECTS} redirects from {url}", retryable=False)


async def _send_pinned(
    client: httpx.AsyncClient, url: httpx.URL, addresses: list[IPAddress], *, timeout: float
) -> httpx.Response:
    # Tried in the resolver's order, like a browser: a host with an IPv6 answer is often
    # unreachable over IPv6 from a container.
    for index, address in enumerate(addresses):
        request = client.build_request(
            "GET",
            url.copy_with(host=str(address)),
            headers={**_HEADERS, "Host": url.netloc.decode("ascii")},
            # TLS still checks the certificate against the name in the URL.
            extensions={"sni_hostname": url.raw_host.decode("ascii")},
            timeout=timeout,
        )
        try:
            return await client.send(request, stream=True, follow_redirects=False)
        except httpx.ConnectError:
            if index == len(addresses) - 1:
                raise
    raise AssertionError("getaddrinfo answers at least one address")


async def _checked_addresses(url: httpx.URL, *, allow_private: bool) -> list[IPAddress]:
    if url.scheme not in ("http", "https"):
        raise MediaFetchFailed(f"only http and https URLs are fetched, not {url}", retryable=False)
    if not url.host:
        raise MediaFetchFailed(f"the URL {url} has no host", retryable=False)
    port = url.port or (443 if url.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        # The punycode form, as DNS sees it; Python's own IDNA codec is the older standard.
        host = url.raw_host.decode("ascii")
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        # A name that does not exist stays that way; a resolver hiccup does not.
        retryable = exc.errno == socket.EAI_AGAIN
        raise MediaFetchFailed(f"cannot resolve {url.host}: {exc}", retryable=retryable) from None
    # A link-local IPv6 answer carries its interface ("fe80::1%eth0"), which ip_address refuses.
    addresses = list(
        dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
    )
    # Every answer is checked, not just the first: a name may resolve to a public and a
    # private address, and the pick between them must not matter.
    if not allow_private:
        for address in addresses:
            if not is_public_address(address):
                raise MediaFetchFailed(
                    f"{url.host} resolves to {address}, which is not a public address",
                    retryable=False,
                )
    return addresses


def is_public_address(address: IPAddress) -> bool:
    """Whether the address is on the public internet (not private, loopback, multicast...)."""
    # IPv4 wrapped in IPv6 reaches the same host as the IPv4 address itself.
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None and not is_public_address(embedded):
            return False
    # is_global alone lets multicast through, so each kind is refused by name as well.
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _raise_for_status(response: httpx.Response, url: httpx.URL) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    retryable = status >= 500 or status in _RETRYABLE_STATUSES
    raise MediaFetchFailed(f"{url} answered {status}", retryable=retryable, status=status)


async def _read_limited(response: httpx.Response, *, max_bytes: int) -> bytes:
    too_large = MediaRejected(f"the file is larger than {max_bytes} bytes", "too_large")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    received = 0
    # Counted as it arrives, since Content-Length may be missing or false.
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
