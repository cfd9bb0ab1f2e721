"""Who is writing and what they are in the middle of, read in one round trip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.backoffice import Home
from core.intake.models import PendingChoice
from core.residents import service as residents_service
from core.residents.models import Contact
from core.territory.models import Building, Community, Premises, PremisesOwner
from core.tickets.enums import TicketStatus
from core.tickets.models import Ticket

# A photo or a pin sent minutes after a report may belong to it while it is still open.
RECENT = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS)


@dataclass(frozen=True)
class ConversationContext:
    contact: Contact
    created: bool
    home: Home | None
    # The latest ticket on hold for this contact: its back office may have asked them
    # something (intake asks the back office whether it did).
    on_hold_ticket_id: int | None = None
    # The latest open ticket they filed within the continuation window.
    recent_ticket_id: int | None = None
    # Whether an earlier reply's choices are kept for this contact on this channel: when
    # not, a reply offering none has nothing to clear (one statement fewer per message).
    has_pending: bool = True


def _home_column(column: Any) -> Any:
    return (
        select(column)
        .select_from(PremisesOwner)
        .join(Premises, Premises.id == PremisesOwner.premises_id)
        .join(Building, Building.id == Premises.building_id)
        .join(Community, Community.id == Building.community_id)
        .where(PremisesOwner.resident_id == Contact.resident_id)
        .order_by(PremisesOwner.id)
        .limit(1)
        .scalar_subquery()
    )


# Built once: constructing this select and its cache key on every message cost more CPU than
# running it. Values arrive as bind parameters.
_ON_HOLD = (
    select(Ticket.id)
    .where(Ticket.contact_id == Contact.id, Ticket.status == TicketStatus.ON_HOLD)
    .order_by(Ticket.id.desc())
    .limit(1)
    .scalar_subquery()
)
_RECENT = (
    select(Ticket.id)
    .where(
        Ticket.contact_id == Contact.id,
        Ticket.status.in_(RECENT),
        Ticket.created_at >= bindparam("since"),
    )
    .order_by(Ticket.id.desc())
    .limit(1)
    .scalar_subquery()
)
_PENDING = (
    select(PendingChoice.id)
    .where(PendingChoice.contact_id == Contact.id, PendingChoice.channel == bindparam("channel"))
    .limit(1)
    .scalar_subquery()
)
_CONTEXT = select(
    Contact,
    _ON_HOLD,
    _RECENT,
    _PENDING,
    _home_column(Building.id),
    _home_column(Community.id),
    _home_column(Community.district_id),
).where(Contact.kind == bindparam("kind"), Contact.value == bindparam("value"))


async def read_context(
    *,
    db_session: AsyncSession,
    kind: str,
    value: str,
    channel: str,
    language: str,
    display_name: str | None,
    now: datetime,
    continuation_window: timedelta,
) -> ConversationContext:
    """Returns the contact (created if new), their home and the tickets a message may follow."""
    row = (
        await db_session.execute(
            _CONTEXT,
            {"kind": kind, "value": value, "since": now - continuation_window, "channel": channel},
        )
    ).first()
    if row is not None:
        contact, on_hold_id, recent_id, pending_id, building_id, community_id, district_id = row
        home = Home(building_id, community_id, district_id) if building_id else None
        return ConversationContext(
            contact, False, home, on_hold_id, recent_id, has_pending=pending_id is not None
        )
    contact, created = await residents_service.create_contact(
        db_session=db_session,
        kind=kind,
        value=value,
        language=language,
        display_name=display_name,
    )
    # A brand-new contact has no home and no tickets; one that won a race a moment ago
    # is read again the ordinary way on its next message.
    return ConversationContext(contact, created, None, has_pending=False)
