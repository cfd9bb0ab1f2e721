"""Subscriptions, opt-out and notices to groups of residents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from channels.registry import of_session
from channels.segments import count_segments
from core.db import utcnow
from core.notices.enums import Audience, NoticeStatus, Topic
from core.notices.models import Notice, Subscription
from core.outbox import service as outbox_service
from core.outbox.models import OutboxMessage
from core.outbox.service import NoticeRow
from core.residents.enums import ContactKind
from core.residents.models import Contact
from core.territory.models import Building, Community, Premises, PremisesOwner


async def set_opt_out(*, db_session: AsyncSession, contact: Contact, opted_out: bool) -> None:
    """Stops (or resumes) all bulk messages to a contact."""
    contact.opted_out_at = utcnow() if opted_out else None


async def set_subscription(
    *, db_session: AsyncSession, contact_id: int, topic: Topic, active: bool
) -> None:
    """Subscribes a contact to a topic, or unsubscribes it (an upsert: repeats are harmless)."""
    dialect = postgresql if db_session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Subscription).values(
        contact_id=contact_id, topic=topic, active=active, updated_at=utcnow()
    )
    await db_session.execute(
        statement.on_conflict_do_update(
            index_elements=["contact_id", "topic"],
            set_={"active": active, "updated_at": utcnow()},
        )
    )


async def is_unsubscribed(*, db_session: AsyncSession, contact_id: int, topic: Topic) -> bool:
    """Returns whether the contact turned this topic off."""
    return bool(
        await db_session.scalar(
            select(
                exists().where(
                    Subscription.contact_id == contact_id,
                    Subscription.topic == topic,
                    Subscription.active.is_(False),
                )
            )
        )
    )


class NoticeRejected(ValueError):
    """A notice that cannot be scheduled as given (the reason is for the staff member)."""


def measure(texts: dict[str, str]) -> int:
    """Returns the SMS parts of the longest language version."""
    return max(count_segments(text).parts for text in texts.values())


async def create_notice(
    *,
    db_session: AsyncSession,
    topic: Topic,
    audience: Audience,
    scope_kind: str,
    scope_id: int | None,
    texts: dict[str, str],
    send_at: datetime | None,
    created_by: str,
    max_parts: int,
    confirm_long: bool = False,
) -> Notice:
    """Schedules a notice; one longer than ``max_parts`` SMS parts needs ``confirm_long``."""
    if not texts.get("en"):
        raise NoticeRejected("an English text is required (it is the fallback)")
    parts = measure(texts)
    if parts > max_parts and not confirm_long:
        raise NoticeRejected(
            f"the longest text is {parts} SMS parts, over the limit of {max_parts}; "
            "shorten it or confirm the cost"
        )
    # Notices go to phone contacts (recipients_query): on whichever channel carries them.
    channel = of_session(db_session).notices_channel(ContactKind.PHONE)
    if channel is None:
        raise NoticeRejected("no installed channel carries notices to phones")
    notice = Notice(
        topic=topic,
        audience=audience,
        scope_kind=scope_kind,
        scope_id=scope_id,
        texts=texts,
        channel=channel,
        send_at=send_at or utcnow(),
        status=NoticeStatus.SCHEDULED,
        max_parts=parts,
        too_long=parts > max_parts,
        created_by=created_by,
    )
    db_session.add(notice)
    await db_session.flush()
    return notice


def _owners_in(notice: Notice) -> Select[Any]:
    query = (
        select(PremisesOwner.resident_id)
        .join(Premises, Premises.id == PremisesOwner.premises_id)
        .join(Building, Building.id == Premises.building_id)
        .join(Community, Community.id == Building.community_id)
    )
    if notice.scope_kind == "building":
        return query.where(Building.id == notice.scope_id)
    return query.where(Community.district_id == notice.scope_id)


def recipients_query(notice: Notice) -> Select[Any]:
    """Returns the phone contacts a notice goes to.

    Nobody who sent STOP, nobody who turned the topic off. "residents": every owner in the
    scope; "subscribers": only those who turned the topic on, for their own buildings in
    the scope or for the scope's district.
    """
    topic_rows = and_(Subscription.contact_id == Contact.id, Subscription.topic == notice.topic)
    query = select(Contact).where(
        Contact.kind == ContactKind.PHONE,
        Contact.opted_out_at.is_(None),
        ~exists().where(topic_rows, Subscription.active.is_(False)),
    )
    lives_in_scope: ColumnElement[bool] = (
        true() if notice.scope_kind == "city" else Contact.resident_id.in_(_owners_in(notice))
    )
    if notice.audience == Audience.SUBSCRIBERS:
        subscribed_here = lives_in_scope
        if notice.scope_kind == "district":
            subscribed_here = or_(lives_in_scope, Subscription.district_id == notice.scope_id)
        query = query.where(
            exists().where(topic_rows, Subscription.active.is_(True), subscribed_here)
        )
    else:
        query = query.where(lives_in_scope)
    return query.order_by(Contact.id)


async def fan_out(*, db_session: AsyncSession, notice_id: int) -> list[int]:
    """Writes one outbox row per recipient of a due notice; returns the new row ids.

    The notice is claimed with a conditional UPDATE, so a repeated job writes nothing.
    """
    claimed = await db_session.scalar(
        update(Notice)
        .where(Notice.id == notice_id, Notice.status == NoticeStatus.SCHEDULED)
        .values(status=NoticeStatus.SENDING)
        .returning(Notice)
    )
    if claimed is None:
        return []
    rows = []
    for contact in await db_session.scalars(recipients_query(claimed)):
        language = contact.language if contact.language in claimed.texts else "en"
        rows.append(
            NoticeRow(
                address=contact.value,
                language=language,
                text=claimed.texts[language],
                resident_id=contact.resident_id,
            )
        )
    ids = await outbox_service.create_notices(
        db_session=db_session, channel=claimed.channel, notice_id=claimed.id, rows=rows
    )
    claimed.status = NoticeStatus.SENT
    claimed.recipients = len(ids)
    return ids


async def start_blast(
    *,
    db_session: AsyncSession,
    topic: Topic,
    audience: Audience,
    scope_kind: str,
    scope_id: int | None,
    texts: dict[str, str],
    channel: str,
    created_by: str,
    now: datetime,
) -> Notice:
    """Records a notice that goes out now (a ballot's blast), before its rows are written."""
    parts = measure(texts)
    notice = Notice(
        topic=topic,
        audience=audience,
        scope_kind=scope_kind,
        scope_id=scope_id,
        texts=texts,
        channel=channel,
        send_at=now,
        status=NoticeStatus.SENDING,
        max_parts=parts,
        too_long=False,
        created_by=created_by,
    )
    db_session.add(notice)
    await db_session.flush()
    return notice


def finish_blast(notice: Notice, *, recipients: int) -> None:
    """Marks a notice sent to ``recipients`` people (its rows are written)."""
    notice.status = NoticeStatus.SENT
    notice.recipients = recipients


async def due_notices(*, db_session: AsyncSession, now: datetime) -> list[int]:
    """Returns ids of scheduled notices whose time has come."""
    return list(
        await db_session.scalars(
            select(Notice.id).where(Notice.status == NoticeStatus.SCHEDULED, Notice.send_at <= now)
        )
    )


async def delivery_counts(*, db_session: AsyncSession, notice_id: int) -> dict[str, int]:
    """Returns how many of a notice's messages are in each delivery status."""
    rows = await db_session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.notice_id == notice_id)
        .group_by(OutboxMessage.status)
    )
    return {str(status): int(count) for status, count in rows.all()}
