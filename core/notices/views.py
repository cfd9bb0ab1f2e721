"""REST API for notices to groups of residents, and for subscriptions taken by staff."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy import select, update

from core.auth.service import Principal
from core.notices import service as notices_service
from core.notices.enums import NoticeStatus
from core.notices.models import Notice
from core.notices.schemas import NoticeIn, NoticeOut, SubscriptionIn
from core.residents import service as residents_service
from core.residents.enums import ContactKind
from core.territory.models import Building, District
from core.web.deps import ADMIN_ROLES, INTAKE_ROLES, DbId, HubDep, SessionDep, require_roles

router = APIRouter(tags=["notices"])
logger = logging.getLogger("hub.notices")

NoticeSenderDep = Annotated[Principal, Depends(require_roles(*ADMIN_ROLES))]
IntakeDep = Annotated[Principal, Depends(require_roles(*INTAKE_ROLES))]


def _allowed(principal: Principal, scope_kind: str, scope_id: int | None) -> bool:
    """A city-wide sender addresses anyone; a district one only its own district."""
    if principal.scope.kind == "city":
        return True
    return (
        scope_kind == "district"
        and principal.scope.kind == "district"
        and principal.scope.id == scope_id
    )


async def _notice_in_scope(db_session: SessionDep, notice_id: int, principal: Principal) -> Notice:
    notice = await db_session.get(Notice, notice_id)
    if notice is None or not _allowed(principal, notice.scope_kind, notice.scope_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such notice")
    return notice


async def _view(db_session: SessionDep, notice: Notice) -> NoticeOut:
    counts = await notices_service.delivery_counts(db_session=db_session, notice_id=notice.id)
    return NoticeOut.model_validate(notice).model_copy(update={"delivery": counts})


@router.post("/notices", response_model=NoticeOut, status_code=201)
async def create_notice(
    body: NoticeIn, hub: HubDep, db_session: SessionDep, principal: NoticeSenderDep
) -> NoticeOut:
    """Schedules a notice (now, or at ``send_at``); the worker sends it at the SMS rate."""
    scope_id = None
    if body.scope != "city":
        model = District if body.scope == "district" else Building
        scope_id = await db_session.scalar(select(model.id).where(model.code == body.scope_code))
        if scope_id is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown {body.scope} {body.scope_code!r}"
            )
    if not _allowed(principal, body.scope, scope_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "outside your territory")
    try:
        notice = await notices_service.create_notice(
            db_session=db_session,
            topic=body.topic,
            audience=body.audience,
            scope_kind=body.scope,
            scope_id=scope_id,
            texts=body.texts,
            send_at=body.send_at,
            created_by=principal.actor,
            max_parts=hub.settings.sms_max_parts,
            confirm_long=body.confirm_long,
        )
    except notices_service.NoticeRejected as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    await db_session.commit()
    if body.send_at is None:
        try:
            await hub.queue.enqueue("send_notice", notice_id=notice.id, key=f"notice:{notice.id}")
        except Exception:
            # Committed and due: the once-a-minute job sends it even if the queue is down.
            logger.exception(
                "could not enqueue notice %s; the periodic job will send it", notice.id
            )
    return await _view(db_session, notice)


@router.get("/notices/{notice_id}", response_model=NoticeOut)
async def get_notice(
    notice_id: DbId, db_session: SessionDep, principal: NoticeSenderDep
) -> NoticeOut:
    """Returns a notice with its recipients and delivery counts."""
    return await _view(db_session, await _notice_in_scope(db_session, notice_id, principal))


@router.post("/notices/{notice_id}/cancel", response_model=NoticeOut)
async def cancel_notice(
    notice_id: DbId, db_session: SessionDep, principal: NoticeSenderDep
) -> NoticeOut:
    """Cancels a notice that has not started sending."""
    await _notice_in_scope(db_session, notice_id, principal)
    cancelled = await db_session.scalar(
        update(Notice)
        .where(Notice.id == notice_id, Notice.status == NoticeStatus.SCHEDULED)
        .values(status=NoticeStatus.CANCELLED)
        .returning(Notice.id)
    )
    await db_session.commit()
    notice = await db_session.get(Notice, notice_id)
    if notice is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such notice")
    if cancelled is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the notice is already {notice.status}")
    await db_session.refresh(notice)
    return await _view(db_session, notice)


@router.post("/subscriptions", status_code=204)
async def set_subscription(
    body: SubscriptionIn, hub: HubDep, db_session: SessionDep, _: IntakeDep
) -> None:
    """Turns a topic on or off for a resident's phone (an agent on a call, say)."""
    try:
        phone = residents_service.normalise_phone(body.phone, hub.settings.phone_region)
    except residents_service.InvalidAddress as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    contact, _created = await residents_service.get_or_create_contact(
        db_session=db_session,
        kind=ContactKind.PHONE,
        value=phone,
        language=hub.settings.default_language,
    )
    await notices_service.set_subscription(
        db_session=db_session, contact_id=contact.id, topic=body.topic, active=body.active
    )
    await db_session.commit()
