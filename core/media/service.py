"""Storing a ticket's photo: check it, then keep it under a key derived from its content."""

from __future__ import annotations

import asyncio

from core.media.storage import Storage
from core.media.validate import CheckedImage, checked_image


def photo_key(*, ticket_id: int, sha256: str, extension: str) -> str:
    """Returns the storage key of a ticket's photo."""
    # Named by content, so an upload retried after a timeout rewrites the same object
    # instead of leaving an orphaned copy.
    return f"tickets/{ticket_id}/{sha256}.{extension}"


async def store_photo(
    *,
    storage: Storage,
    ticket_id: int,
    data: bytes,
    declared_type: str | None,
    max_bytes: int,
    allowed_types: tuple[str, ...],
) -> tuple[CheckedImage, str]:
    """Returns the checked image and its key after storing it; raises MediaRejected."""
    # Hashing and parsing megabytes is CPU work that would stall every other request.
    image = await asyncio.to_thread(
        checked_image,
        data,
        declared_type=declared_type,
        max_bytes=max_bytes,
        allowed_types=allowed_types,
    )
    key = photo_key(ticket_id=ticket_id, sha256=image.sha256, extension=image.extension)
    await storage.put(key, data, image.content_type)
    return image, key
