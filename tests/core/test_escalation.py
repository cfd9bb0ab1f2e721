from datetime import timedelta

from sqlalchemy import select

from core.db import transaction, utcnow
from core.intake import service as intake
from core.jobs.tasks import escalate_overdue
from core.runtime import Hub
from core.tickets.models import Ticket, TicketEvent
from tests.factories import inbound


async def test_overdue_open_tickets_escalate_once(hub: Hub) -> None:
    late = await intake.receive(hub=hub, message=inbound("No heating", sender="+79005550111"))
    on_time = await intake.receive(hub=hub, message=inbound("Lamp out", sender="+79005550112"))
    done = await intake.receive(hub=hub, message=inbound("Trash", sender="+79005550113"))
    async with transaction(hub.session_factory) as session:
        for result, due, status in ((late, -1, None), (on_time, +1, None), (done, -1, "closed")):
            ticket = await session.get(Ticket, result.ticket_id)
            assert ticket is not None
            ticket.due_at = utcnow() + timedelta(hours=due)
            if status:
                ticket.status = status

    assert await escalate_overdue({"hub": hub}) == 1
    assert await escalate_overdue({"hub": hub}) == 0

    async with hub.session_factory() as session:
        flagged = list(await session.scalars(select(Ticket.id).where(Ticket.overdue.is_(True))))
        events = list(
            await session.scalars(select(TicketEvent).where(TicketEvent.kind == "escalated"))
        )
    assert flagged == [late.ticket_id]
    assert [(e.ticket_id, e.data["level"]) for e in events] == [(late.ticket_id, 1)]
