"""Adding a channel is one spec: a channel the hub has never heard of, installed by one
entry in the registry, takes a message through intake and gets its reply delivered."""

from __future__ import annotations

from sqlalchemy import select

from channels.console import console_sender
from channels.installed import INSTALLED
from channels.registry import ChannelRegistry
from channels.render import numbered_list
from channels.spec import ChannelSpec, Delivery
from core.config import Settings
from core.installed import installed
from core.intake import service as intake
from core.jobs.tasks import deliver_outbox
from core.outbox.enums import OutboxStatus
from core.outbox.models import OutboxMessage
from core.residents.enums import ContactKind
from core.runtime import open_hub
from core.tickets.models import Ticket
from tests.factories import inbound

FAX = ChannelSpec(
    name="fax",
    address_kind=ContactKind.PHONE,
    sender=console_sender("fax"),
    renderer=numbered_list,
    delivery=Delivery.PROVIDER,
    text_style="sms",
)


async def test_a_channel_declared_once_works_end_to_end(settings: Settings) -> None:
    hub = await open_hub(
        settings,
        channels=ChannelRegistry([*INSTALLED, FAX], settings=settings),
        offices=installed(),
    )
    try:
        result = await intake.receive(
            hub=hub, message=inbound("Мусор у рынка", channel="fax", sender="+79005550177")
        )
        assert result.ticket_id is not None and result.replies[0].channel == "fax"
        assert await deliver_outbox({"hub": hub}, outbox_id=result.replies[0].outbox_id)
        async with hub.session_factory() as session:
            ticket = await session.get(Ticket, result.ticket_id)
            row = await session.scalar(
                select(OutboxMessage).where(OutboxMessage.id == result.replies[0].outbox_id)
            )
        assert ticket is not None and ticket.channel == "fax"
        assert row is not None and row.status == OutboxStatus.SENT
    finally:
        await hub.close()
