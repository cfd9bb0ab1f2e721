"""The dispatch back office's jobs for the worker (listed in its spec)."""

from __future__ import annotations

from saq import CronJob

from core.dispatch import photos as dispatch_photos
from core.runtime import Hub, HubContext


async def fetch_case_photos(ctx: HubContext) -> int:
    """Fetches case photos that reports gave as URLs (Open311 media_url, MMS pictures)."""
    hub: Hub = ctx["hub"]
    if hub.media is None:
        return 0
    return await dispatch_photos.fetch_pending(
        session_factory=hub.session_factory, storage=hub.media, settings=hub.settings
    )


JOBS = (fetch_case_photos,)
CRON_JOBS = (CronJob(fetch_case_photos, cron="* * * * *", unique=True, timeout=600),)
