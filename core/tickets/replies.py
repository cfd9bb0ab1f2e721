"""A staff member's reply to a resident, on the channel the request came from or another
channel the resident has, through the outbox (so its delivery is tracked and retried).

The console offers only channels that can carry it and says why the others cannot; the
same checks refuse a reply sent straight to the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.registry import ChannelRegistry, of_session
from channels.segments import count_segments
from channels.spec import Delivery
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxKind
from core.outbox.models import OutboxMessage
from core.residents.models import Contact
from core.residents.service import mask_address
from core.tickets.actors import Actor
from core.tickets.models import Ticket

# The longest reply taken: an SMS of more parts costs more than it helps (the resident's
# phone shows one long message either way), and on a screen a letter is not a reply.
MAX_SMS_PARTS = 6
MAX_TEXT = 4000


class ReplyRefused(ValueError):
    """A reply that cannot go: ``code`` says why (a console shows it beside the box)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ReplyOption:
    channel: str
    # The address as staff see it in a list: masked (the resident card has the rest).
    address: str | None
    available: bool
    reason: str | None
    is_origin: bool


def _origin(channels: ChannelRegistry, ticket: Ticket) -> str | None:
    """Returns where a reply to this ticket goes by default: its own channel, or where that
    channel sends later news (a caller and a kiosk user are no longer there)."""
    if ticket.channel not in channels.names():
        return None
    return channels.notify_channel(ticket.channel)


async def _contacts(db_session: AsyncSession, ticket: Ticket) -> list[Contact]:
    if ticket.resident_id is None:
        if ticket.contact_id is None:
            return []
        contact = await db_session.get(Contact, ticket.contact_id)
        return [contact] if contact else []
    rows = await db_session.scalars(
        select(Contact).where(Contact.resident_id == ticket.resident_id).order_by(Contact.id.desc())
    )
    return list(rows)


async def reply_options(*, db_session: AsyncSession, ticket: Ticket) -> list[ReplyOption]:
    """Returns every channel a reply could take, each with whether it can and why not."""
    channels = of_session(db_session)
    contacts = await _contacts(db_session, ticket)
    origin = _origin(channels, ticket)
    options = []
    for name in channels.names():
        spec = channels.spec(name)
        # A reply goes later, so only channels that deliver later can carry it, and only
        # those a resident uses (not the API staff file requests through).
        if spec.delivery is not Delivery.PROVIDER or spec.compose is None:
            continue
        kind = channels.address_kind(name)
        reachable = [c for c in contacts if c.kind == kind]
        usable = [c for c in reachable if c.opted_out_at is None]
        reason = None if usable else ("opted_out" if reachable else "no_address")
        shown = usable[0] if usable else (reachable[0] if reachable else None)
        options.append(
            ReplyOption(
                channel=name,
                address=mask_address(shown.value) if shown else None,
                available=reason is None,
                reason=reason,
                is_origin=name == origin,
            )
        )
    return sorted(options, key=lambda o: (not o.is_origin, not o.available, o.channel))


def _check_length(channels: ChannelRegistry, channel: str, text: str) -> None:
    capabilities = channels.spec(channel).capabilities
    if capabilities.segmented and count_segments(text).parts > MAX_SMS_PARTS:
        raise ReplyRefused(
            "too_long",
            f"the reply takes {count_segments(text).parts} SMS parts; at most {MAX_SMS_PARTS}",
        )
    limit = capabilities.max_length or MAX_TEXT
    if len(text) > limit:
        raise ReplyRefused("too_long", f"the reply has {len(text)} characters; at most {limit}")


async def send_reply(
    *, db_session: AsyncSession, ticket: Ticket, actor: Actor, text: str, channel: str | None
) -> OutboxMessage:
    """Queues the reply in the outbox; raises ReplyRefused with the reason it cannot go."""
    text = text.strip()
    if not text:
        raise ReplyRefused("empty", "the reply is empty")
    options = {o.channel: o for o in await reply_options(db_session=db_session, ticket=ticket)}
    # By default where the request came from (refused with its reason if it cannot);
    # a request with no such channel (filed by staff) takes the first channel that can.
    origin = next((o.channel for o in options.values() if o.is_origin), None)
    chosen = channel or origin or next((o.channel for o in options.values() if o.available), None)
    option = options.get(chosen or "")
    if option is None:
        raise ReplyRefused("no_channel", f"no channel {chosen!r} can carry a reply to this request")
    if not option.available:
        assert option.reason is not None
        raise ReplyRefused(option.reason, _REASONS[option.reason])
    channels = of_session(db_session)
    _check_length(channels, option.channel, text)
    kind = channels.address_kind(option.channel)
    contact = next(
        c for c in await _contacts(db_session, ticket) if c.kind == kind and c.opted_out_at is None
    )
    return await outbox_service.create(
        db_session=db_session,
        kind=OutboxKind.REPLY,
        channel=option.channel,
        address=contact.value,
        language=contact.language or ticket.language,
        text=text,
        ticket=ticket,
        resident_id=ticket.resident_id,
        actor=actor,
    )


_REASONS = {
    "opted_out": "the resident asked for no messages on this channel",
    "no_address": "the resident has no address on this channel",
}
