"""Storing a ticket's photo: checked first, then kept under a key named by its content."""

from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from core.media.errors import MediaRejected
from core.media.service import photo_key, store_photo
from core.media.storage import LocalStorage

ALLOWED = ("image/jpeg", "image/png", "image/webp")


def jpeg_bytes(colour: str = "orange") -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_photo_key_is_per_ticket_and_content() -> None:
    assert (
        photo_key(ticket_id=12, sha256="ab" * 32, extension="jpg") == f"tickets/12/{'ab' * 32}.jpg"
    )


async def test_store_photo_keeps_the_checked_bytes(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    data = jpeg_bytes()
    image, key = await store_photo(
        storage=storage,
        ticket_id=5,
        data=data,
        declared_type="image/png",  # wrong, as browsers often are
        max_bytes=1024 * 1024,
        allowed_types=ALLOWED,
    )
    assert key == f"tickets/5/{hashlib.sha256(data).hexdigest()}.jpg"
    assert (image.content_type, image.width, image.height) == ("image/jpeg", 40, 30)
    assert await storage.get(key) == data


async def test_a_retried_upload_writes_the_same_key(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)

    async def upload(data: bytes) -> str:
        _, key = await store_photo(
            storage=storage,
            ticket_id=5,
            data=data,
            declared_type=None,
            max_bytes=1024 * 1024,
            allowed_types=ALLOWED,
        )
        return key

    first = await upload(jpeg_bytes())
    again = await upload(jpeg_bytes())
    other = await upload(jpeg_bytes("blue"))
    assert first == again != other
    assert len(list((tmp_path / "tickets" / "5").iterdir())) == 2  # noqa: ASYNC240


async def test_a_rejected_file_is_not_stored(tmp_path: Path) -> None:
    with pytest.raises(MediaRejected) as caught:
        await store_photo(
            storage=LocalStorage(tmp_path),
            ticket_id=5,
            data=b"not a photo",
            declared_type="image/jpeg",
            max_bytes=1024 * 1024,
            allowed_types=ALLOWED,
        )
    assert caught.value.code == "not_an_image"
    assert list(tmp_path.iterdir()) == []  # noqa: ASYNC240
