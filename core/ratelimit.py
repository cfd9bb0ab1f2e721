"""Storage for rate limits (the `limits` library): Redis across processes, else memory."""

from __future__ import annotations

from limits.aio.storage import Storage
from limits.storage import storage_from_string


def rate_storage(redis_url: str | None) -> Storage:
    """Returns async rate-limit storage on Redis when configured, in memory otherwise."""
    storage = (
        storage_from_string(f"async+{redis_url}", implementation="redispy")
        if redis_url
        else storage_from_string("async+memory://")
    )
    if not isinstance(storage, Storage):
        raise TypeError("an async storage was expected")
    return storage
