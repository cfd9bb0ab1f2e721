"""The outbox owns its rows: structured replies, notices to many, provider reports, inline
answers, and where a ticket's later notices go (the channel registry's ``notify_via``)."""

from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from channels.contract import Channel, Choice, Reply, Sender, SendResult, Structure
from core.db import transaction, utcnow
from core.intake import service as intake
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxKind, OutboxStatus
from core.outbox.models import OutboxMessage
from core.residents.enums import ContactKind
from core.residents.models import Contact, Resident
from core.runtime import Hub
from core.tickets.models import Ticket
from core.tickets.notify import notify_status
from core.votes import ballots
from core.votes.models import Ballot
from core.votes.notify import reader_language
from tests.core.votes.factories import TIMEZONE, ballot_body, committee_key, owner_phone
from tests.factories import inbound, outbox_row

API = "/api/v1/votes"
CHOOSE = Structure(
    notice="help",
    choices=(
        Choice(id="cat:heating", labels={"en": "Heating", "ru": "Отопление"}),
        Choice(id="cat:lift", labels={"en": "Lift", "ru": "Лифт"}),
    ),
)


class RecordingSender:
    """Stands where a provider would, keeping what it was handed."""

    channel = Channel.SMS

    def __init__(self) -> None:
        self.sent: list[Reply] = []

    async def send(self, reply: Reply, *, idempotency_key: str) -> SendResult:
        self.sent.append(reply)
        return SendResult(provider_message_id=f"rec-{len(self.sent)}")


@pytest.fixture
def recorder() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def senders(recorder: RecordingSender) -> dict[str, Sender]:
    return {Channel.SMS: recorder}


async def _write(hub: Hub, **fields: Any) -> OutboxMessage:
    async with transaction(hub.session_factory) as session:
        return await outbox_service.create(db_session=session, **fields)


async def test_a_row_keeps_its_structure_and_the_sender_gets_it(
    hub: Hub, recorder: RecordingSender
) -> None:
    text = hub.channels.render("sms", CHOOSE, "ru")
    row = await _write(
        hub,
        kind=OutboxKind.REPLY,
        channel="sms",
        address="+79005550101",
        language="ru",
        text=text,
        structure=CHOOSE,
    )
    stored = await outbox_row(hub, row.id)
    assert Structure.model_validate(stored.structure) == CHOOSE
    assert stored.segments is not None and stored.segments >= 1
    outcome = await outbox_service.deliver(
        session_factory=hub.session_factory,
        channels=hub.channels,
        outbox_id=row.id,
        max_attempts=3,
        lease_seconds=60,
    )
    assert outcome.status == OutboxStatus.SENT
    [reply] = recorder.sent
    assert reply.text == text and "1: Отопление" in reply.text
    assert reply.structure == CHOOSE and [c.id for c in reply.structure.choices] == [
        "cat:heating",
        "cat:lift",
    ]


async def test_a_row_on_a_channel_not_installed_is_refused(hub: Hub) -> None:
    with pytest.raises(LookupError, match="unknown channel 'fax'"):
        await _write(
            hub, kind=OutboxKind.REPLY, channel="fax", address="1", language="en", text="x"
        )


async def test_notices_to_many_are_written_by_the_outbox(hub: Hub) -> None:
    rows = [
        outbox_service.NoticeRow("+79005550101", "en", "Water off on Tuesday", None),
        outbox_service.NoticeRow("+79005550102", "ru", "Во вторник не будет воды", None),
    ]
    async with transaction(hub.session_factory) as session:
        ids = await outbox_service.create_notices(
            db_session=session,
            channel="sms",
            notice_id=None,
            rows=rows,  # type: ignore[arg-type]
        )
    written = [await outbox_row(hub, i) for i in ids]
    assert [(r.address, r.language, r.kind, r.status) for r in written] == [
        ("+79005550101", "en", OutboxKind.NOTICE, OutboxStatus.PENDING),
        ("+79005550102", "ru", OutboxKind.NOTICE, OutboxStatus.PENDING),
    ]
    # SMS parts counted as written: Cyrillic costs UCS-2.
    assert [r.segments for r in written] == [1, 1]


async def test_a_provider_report_moves_a_row_forward_only(hub: Hub) -> None:
    row = await _write(
        hub, kind=OutboxKind.REPLY, channel="sms", address="+79005550101", language="en", text="x"
    )

    async def report(status: str, outcome: OutboxStatus, replaces: list[str]) -> bool:
        async with transaction(hub.session_factory) as session:
            found = await outbox_service.get_by_provider_id(
                db_session=session, channel="sms", provider_id="SM1", outbox_hint=row.id
            )
            assert found is not None and found.id == row.id
            result = await outbox_service.record_provider_status(
                db_session=session,
                row=found,
                provider_id="SM1",
                status=status,
                outcome=outcome,
                replaces=replaces,
                max_attempts=3,
                retry_delay=1.0,
            )
        return result.applied

    assert await report("delivered", OutboxStatus.DELIVERED, ["queued", "sent"])
    # A late "sent" does not move a delivered message back.
    assert not await report("sent", OutboxStatus.SENT, ["queued"])
    after = await outbox_row(hub, row.id)
    assert (after.status, after.provider_status, after.provider_message_id) == (
        OutboxStatus.DELIVERED,
        "delivered",
        "SM1",
    )
    # The provider id names the row on its own channel only.
    async with hub.session_factory() as session:
        assert (
            await outbox_service.get_by_provider_id(
                db_session=session, channel="telegram", provider_id="SM1"
            )
            is None
        )


async def test_a_callers_later_notice_goes_by_sms(hub: Hub, recorder: RecordingSender) -> None:
    call = inbound("", channel=Channel.VOICE, sender="+79005550303", menu_choice="2")
    result = await intake.receive(hub=hub, message=call, inline=True)
    assert result.ticket_id is not None
    async with transaction(hub.session_factory) as session:
        ticket = await session.get(Ticket, result.ticket_id)
        assert ticket is not None and ticket.channel == "voice"
        row = await notify_status(db_session=session, ticket=ticket)
    assert row is not None
    # The caller has hung up: the status comes by SMS to the number they called from,
    # worded for SMS.
    assert (row.channel, row.address, row.kind) == ("sms", "+79005550303", OutboxKind.NOTICE)
    assert row.text == hub.channels.render(
        "sms", Structure.model_validate(row.structure), row.language
    )
    # What the caller heard during the call was answered inline: never sent again.
    for reply in result.replies:
        assert (await outbox_row(hub, reply.outbox_id)).status == OutboxStatus.SENT


async def test_a_kiosk_users_notice_goes_to_their_phone(hub: Hub) -> None:
    kiosk = inbound("Lift broken", channel=Channel.KIOSK, sender="kiosk-hall-1-session-42")
    result = await intake.receive(hub=hub, message=kiosk, inline=True)
    assert result.ticket_id is not None
    async with transaction(hub.session_factory) as session:
        ticket = await session.get(Ticket, result.ticket_id)
        assert ticket is not None
        # Nothing to tell yet: the kiosk user left no phone.
        assert await notify_status(db_session=session, ticket=ticket) is None
        session.add(
            Contact(resident_id=ticket.resident_id, kind=ContactKind.PHONE, value="+79005550404")
        )
        await session.flush()
        row = await notify_status(db_session=session, ticket=ticket)
    assert row is not None and (row.channel, row.address) == ("sms", "+79005550404")


async def test_open311_tickets_notify_nobody(hub: Hub) -> None:
    result = await intake.receive(hub=hub, message=inbound("Pothole on Mira Avenue"))
    async with transaction(hub.session_factory) as session:
        ticket = await session.get(Ticket, result.ticket_id)
        assert ticket is not None
        # Open311 clients poll for what they want: there is nobody to send a notice to.
        ticket.channel = "open311"
        assert await notify_status(db_session=session, ticket=ticket) is None
        ticket.channel = "sms"
        assert await notify_status(db_session=session, ticket=ticket) is not None


def test_the_language_the_owner_last_wrote_in_wins() -> None:
    ballot = Ballot(language="ru")
    texts = {"en": "Vote", "ru": "Голосование", "zh": "投票"}
    assert reader_language("en", "zh", ballot, texts) == "en"
    assert reader_language(None, "zh", ballot, texts) == "zh"
    assert reader_language("fr", None, ballot, texts) == "ru"


async def test_a_ballot_goes_in_the_language_the_owner_wrote_in(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    phone = owner_phone(1, 1)
    async with transaction(hub.session_factory) as session:
        # The register reads Chinese for this owner; they last wrote in English.
        contact = await session.scalar(
            select(Contact).where(Contact.kind == ContactKind.PHONE, Contact.value == phone)
        )
        assert contact is not None
        await session.execute(update(Contact).where(Contact.id == contact.id).values(language="en"))
        await session.execute(
            update(Resident).where(Resident.id == contact.resident_id).values(language="zh")
        )
    headers = await committee_key(hub)
    created = await client.post(f"{API}/ballots", json=ballot_body(), headers=headers)
    ballot_id = int(created.json()["id"])
    await client.post(f"{API}/ballots/{ballot_id}/publish", headers=headers)
    async with transaction(hub.session_factory) as session:
        ids = await ballots.announce_ballot(
            db_session=session, ballot_id=ballot_id, now=utcnow(), timezone=TIMEZONE
        )
    async with hub.session_factory() as session:
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.address == phone)
        )
    assert row is not None and row.language == "en" and row.channel == "sms"
