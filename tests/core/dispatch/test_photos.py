"""Photos on cases: uploaded through the API into the media storage, with limits."""

from __future__ import annotations

import hashlib
import io

import httpx
from PIL import Image
from sqlalchemy import func, select

from core.auth.enums import Role
from core.dispatch.models import CasePhoto
from core.runtime import Hub
from tests.core.dispatch.factories import report, staff_key


async def _upload(
    client: httpx.AsyncClient,
    url: str,
    data: bytes,
    headers: dict[str, str],
    kind: str = "image/png",
) -> httpx.Response:
    return await client.post(url, files={"file": ("photo", data, kind)}, headers=headers)


def photo_sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _png(colour: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


async def test_a_photo_is_stored_once_served_back_and_limited(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    received = await report(hub, "Мусор у рынка")
    number = received.ticket_number
    agent = await staff_key(hub, Role.AGENT)
    url = f"/api/v1/dispatch/cases/{number}/photos"
    picture = _png()

    # A browser calls it a JPEG; it is a PNG, and is kept as what it is.
    uploaded = await client.post(
        url, files={"file": ("heap.jpg", picture, "image/jpeg")}, headers=agent
    )
    assert uploaded.status_code == 201, uploaded.text
    photo = uploaded.json()
    assert (photo["content_type"], photo["width"], photo["height"]) == ("image/png", 64, 48)
    again = await client.post(
        url, files={"file": ("heap.png", picture, "image/png")}, headers=agent
    )
    assert again.json()["id"] == photo["id"]  # a retried upload stores nothing new

    served = await client.get(photo["url"], headers=agent)
    assert served.status_code == 200 and served.content == picture
    assert served.headers["content-type"] == "image/png"
    assert hub.media is not None
    assert await hub.media.get(f"tickets/{received.ticket_id}/{photo_sha(picture)}.png") == picture

    text = await client.post(
        url, files={"file": ("a.png", b"not a picture", "image/png")}, headers=agent
    )
    assert text.status_code == 415
    huge = b"\x89PNG" + b"0" * hub.settings.media_max_bytes
    too_big = await _upload(client, url, huge, agent)
    assert too_big.status_code == 413
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(CasePhoto)) == 1

    detail = (await client.get(f"/api/v1/dispatch/cases/{number}", headers=agent)).json()
    assert [p["id"] for p in detail["photos"]] == [photo["id"]]
    assert any(e["kind"] == "photo" for e in detail["events"])

    # Another district's dispatcher does not see the case, nor its photos.
    river = await staff_key(hub, Role.DISPATCHER, district="river")
    assert (await client.get(photo["url"], headers=river)).status_code == 404
    hidden = await client.post(
        url, files={"file": ("p.png", _png("blue"), "image/png")}, headers=river
    )
    assert hidden.status_code == 404


async def test_a_case_holds_at_most_ten_photos(client: httpx.AsyncClient, hub: Hub) -> None:
    received = await report(hub, "Мусор у рынка")
    agent = await staff_key(hub, Role.AGENT)
    url = f"/api/v1/dispatch/cases/{received.ticket_number}/photos"
    colours = [
        "red",
        "green",
        "blue",
        "white",
        "black",
        "yellow",
        "cyan",
        "magenta",
        "gray",
        "pink",
    ]
    for colour in colours:
        done = await client.post(
            url, files={"file": ("p.png", _png(colour), "image/png")}, headers=agent
        )
        assert done.status_code == 201
    eleventh = await client.post(
        url, files={"file": ("p.png", _png("orange"), "image/png")}, headers=agent
    )
    assert eleventh.status_code == 409 and "at most 10" in eleventh.json()["detail"]
