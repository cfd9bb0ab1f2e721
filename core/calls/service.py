"""Call events for the console: ringing → answered → ended, each sent to one agent only.

A call carries the caller's number, so its events are personal: they go to the stream of
the agent being rung and then of the agent who answered (whose console opens the caller's
card: the screen pop), never to every console as some desks do. The telephony (the IVR and
AMI client of a later issue) calls these functions; repeated events change nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.calls.models import Call
from core.db import transaction, utcnow
from core.events.collector import TOPIC_PERSONAL
from core.residents.enums import ContactKind
from core.residents.models import Contact
from core.residents.service import InvalidAddress, normalise_phone
from core.runtime import Hub
from core.tickets.models import Ticket

RINGING, ANSWERED, ENDED = "ringing", "answered", "ended"
_ORDER = {RINGING: 0, ANSWERED: 1, ENDED: 2}


class UnknownCall(LookupError):
    """An event for a call that was never reported ringing."""


def _normalised(caller: str, region: str) -> str:
    """Returns the caller's number in E.164 (8 900… and +7 900… are one person), or as the
    line gave it when it is no phone number (an internal extension, "anonymous")."""
    try:
        return normalise_phone(caller, region)
    except InvalidAddress:
        return caller.strip()[:32]


async def _resident_of(db_session: AsyncSession, phone: str) -> int | None:
    """Matches the caller on every phone contact by the normalised number."""
    return await db_session.scalar(
        select(Contact.resident_id).where(Contact.kind == ContactKind.PHONE, Contact.value == phone)
    )


def _payload(call: Call, ticket_number: str | None, *, pop: bool) -> dict[str, Any]:
    return {
        "call_id": call.id,
        "state": call.state,
        "caller": call.caller,
        "resident_id": call.resident_id,
        "ticket": ticket_number,
        "queue": call.queue,
        "pop": pop,
        "at": utcnow().isoformat(),
    }


async def _tell(hub: Hub, call: Call, ticket_number: str | None, *, pop: bool = False) -> None:
    if call.agent_id is not None:
        await hub.publish(
            TOPIC_PERSONAL,
            {
                "staff_id": call.agent_id,
                "event": "call",
                "data": _payload(call, ticket_number, pop=pop),
            },
        )


async def _number(db_session: AsyncSession, call: Call) -> str | None:
    if call.ticket_id is None:
        return None
    ticket = await db_session.get(Ticket, call.ticket_id)
    return ticket.public_number if ticket else None


async def call_ringing(
    *,
    hub: Hub,
    external_id: str,
    caller: str,
    agent_id: int | None,
    queue: str | None = None,
    ticket_id: int | None = None,
) -> Call:
    """Records a call ringing (for ``agent_id``, if the telephony offers it to one)."""
    async with transaction(hub.session_factory) as session:
        call = await session.scalar(select(Call).where(Call.external_id == external_id[:64]))
        if call is None:
            phone = _normalised(caller, hub.settings.phone_region)
            call = Call(
                external_id=external_id[:64],
                caller=phone,
                resident_id=await _resident_of(session, phone),
                ticket_id=ticket_id,
                queue=queue,
                agent_id=agent_id,
                state=RINGING,
                started_at=utcnow(),
            )
            session.add(call)
        elif call.state == RINGING and agent_id is not None:
            # Offered to another agent (the queue moved on): the new one is rung now.
            call.agent_id = agent_id
        await session.flush()
        number = await _number(session, call)
    await _tell(hub, call, number)
    return call


async def call_answered(*, hub: Hub, external_id: str, agent_id: int) -> Call:
    """Records who answered; their console (theirs only) opens the caller's card."""
    async with transaction(hub.session_factory) as session:
        call = await session.scalar(select(Call).where(Call.external_id == external_id[:64]))
        if call is None:
            raise UnknownCall(external_id)
        repeated = _ORDER[call.state] >= _ORDER[ANSWERED]
        if not repeated:
            call.state, call.agent_id, call.answered_at = ANSWERED, agent_id, utcnow()
        number = await _number(session, call)
    if not repeated:
        await _tell(hub, call, number, pop=True)
    return call


async def call_ended(*, hub: Hub, external_id: str, outcome: str) -> Call:
    """Records the end of a call and how it ended."""
    async with transaction(hub.session_factory) as session:
        call = await session.scalar(select(Call).where(Call.external_id == external_id[:64]))
        if call is None:
            raise UnknownCall(external_id)
        repeated = call.state == ENDED
        if not repeated:
            call.state, call.ended_at, call.outcome = ENDED, utcnow(), outcome[:32]
        number = await _number(session, call)
    if not repeated:
        await _tell(hub, call, number)
    return call
