"""Photos of cases: uploaded by staff or residents, or fetched from a URL a report carried
(Open311 media_url, an MMS picture). Stored through the media storage (local or S3), at a
content-addressed key, so a retried upload or fetch never stores a picture twice."""

from __future__ import annotations

import logging

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.config import Settings
from core.db import transaction
from core.dispatch.enums import PhotoStatus
from core.dispatch.models import CasePhoto
from core.media.errors import MediaFetchFailed, MediaRejected
from core.media.fetch import fetch_url
from core.media.service import store_photo
from core.media.storage import Storage
from core.tickets import service as tickets_service
from core.tickets.enums import EventKind
from core.tickets.models import Ticket

logger = logging.getLogger("hub.dispatch.photos")

MAX_PHOTOS_PER_CASE = 10
MAX_FETCH_ATTEMPTS = 5


class TooManyPhotos(ValueError):
    """A case already holds as many photos as it may."""


async def add_photo(
    *,
    db_session: AsyncSession,
    storage: Storage,
    settings: Settings,
    ticket: Ticket,
    data: bytes,
    declared_type: str | None,
    source: str,
    actor: str,
) -> CasePhoto:
    """Validates and stores a photo of a case; the same picture twice is kept once.

    Raises MediaRejected (too large, not an image, type not allowed) or TooManyPhotos.
    """
    image, key = await store_photo(
        storage=storage,
        ticket_id=ticket.id,
        data=data,
        declared_type=declared_type,
        max_bytes=settings.media_max_bytes,
        allowed_types=settings.media_types,
    )
    existing = await db_session.scalar(
        select(CasePhoto).where(CasePhoto.ticket_id == ticket.id, CasePhoto.sha256 == image.sha256)
    )
    if existing is not None:
        return existing
    count = await db_session.scalar(
        select(func.count(CasePhoto.id)).where(
            CasePhoto.ticket_id == ticket.id, CasePhoto.status == PhotoStatus.STORED
        )
    )
    if (count or 0) >= MAX_PHOTOS_PER_CASE:
        raise TooManyPhotos(f"a case holds at most {MAX_PHOTOS_PER_CASE} photos")
    photo = CasePhoto(
        ticket_id=ticket.id,
        status=PhotoStatus.STORED,
        source=source,
        storage_key=key,
        content_type=image.content_type,
        size=image.size,
        sha256=image.sha256,
        width=image.width,
        height=image.height,
        attempts=0,
    )
    db_session.add(photo)
    await db_session.flush()
    tickets_service.add_event(
        db_session=db_session,
        ticket_id=ticket.id,
        kind=EventKind.PHOTO,
        actor=actor,
        photo_id=photo.id,
        source=source,
    )
    return photo


async def list_photos(*, db_session: AsyncSession, ticket_id: int) -> list[CasePhoto]:
    """Returns a case's photos, stored and pending, oldest first."""
    return list(
        await db_session.scalars(
            select(CasePhoto).where(CasePhoto.ticket_id == ticket_id).order_by(CasePhoto.id)
        )
    )


async def fetch_pending(
    *,
    session_factory: async_sessionmaker[AsyncSession],
    storage: Storage,
    settings: Settings,
    limit: int = 20,
) -> int:
    """Fetches photos that reports gave as URLs; returns how many were stored.

    Each photo is fetched outside any transaction (a slow server must not hold a database
    connection) and then recorded in its own. A server error is tried again on a later
    run, up to MAX_FETCH_ATTEMPTS; a refused picture (too large, not an image) is final.
    """
    async with session_factory() as session:
        pending = list(
            (
                await session.execute(
                    select(CasePhoto.id, CasePhoto.ticket_id, CasePhoto.source_url)
                    .where(
                        CasePhoto.status == PhotoStatus.PENDING,
                        CasePhoto.attempts < MAX_FETCH_ATTEMPTS,
                    )
                    .order_by(CasePhoto.id)
                    .limit(limit)
                )
            ).all()
        )
    stored = 0
    for photo_id, ticket_id, url in pending:
        error: str | None = None
        final = False
        data: bytes | None = None
        content_type: str | None = None
        try:
            data, content_type = await fetch_url(
                url or "",
                max_bytes=settings.media_max_bytes,
                timeout=settings.media_fetch_timeout,
                allow_private=settings.media_fetch_allow_private,
            )
        except MediaRejected as exc:
            error, final = exc.code, True
        except MediaFetchFailed as exc:
            error, final = str(exc)[:200], not exc.retryable
        async with transaction(session_factory) as session:
            photo = await session.get(CasePhoto, photo_id, with_for_update=True)
            ticket = await session.get(Ticket, ticket_id)
            if photo is None or ticket is None or photo.status != PhotoStatus.PENDING:
                continue
            if data is not None:
                try:
                    kept = await add_photo(
                        db_session=session,
                        storage=storage,
                        settings=settings,
                        ticket=ticket,
                        data=data,
                        declared_type=content_type,
                        source=photo.source,
                        actor="system",
                    )
                except (MediaRejected, TooManyPhotos) as exc:
                    error, final = getattr(exc, "code", str(exc))[:200], True
                else:
                    # The stored row now stands for this picture; the URL row is done.
                    kept.source_url = kept.source_url or photo.source_url
                    await session.execute(delete(CasePhoto).where(CasePhoto.id == photo_id))
                    stored += 1
                    continue
            photo.attempts += 1
            photo.error = error
            if final or photo.attempts >= MAX_FETCH_ATTEMPTS:
                photo.status = PhotoStatus.FAILED
                # The error, not the URL: a signed link is a credential.
                logger.info("photo %s of ticket %s not fetched (%s)", photo_id, ticket_id, error)
    return stored
