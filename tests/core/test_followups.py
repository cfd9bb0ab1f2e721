"""The follow-up rule, answers read against the last reply's choices, and inline answers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select, update

from channels.contract import Attachment, Channel, Location
from core.db import transaction, utcnow
from core.dispatch.models import CasePhoto
from core.intake import service as intake
from core.intake.models import PendingChoice
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxStatus
from core.outbox.models import OutboxMessage
from core.runtime import Hub
from core.tickets.enums import EventKind
from core.tickets.models import Ticket, TicketEvent, TicketMessage
from tests.factories import inbound

PHONE = "+79005550141"


async def _thread(hub: Hub, ticket_id: int | None) -> list[str]:
    async with hub.session_factory() as session:
        return list(
            await session.scalars(
                select(TicketMessage.text)
                .where(TicketMessage.ticket_id == ticket_id, TicketMessage.direction == "in")
                .order_by(TicketMessage.id)
            )
        )


async def test_the_readme_sequence_gives_two_tickets(hub: Hub) -> None:
    garbage = await intake.receive(hub=hub, message=inbound("Мусор у рынка", sender=PHONE))
    lift = await intake.receive(
        hub=hub, message=inbound("Не работает лифт в подъезде", sender=PHONE)
    )

    assert garbage.ticket_id is not None and lift.ticket_id is not None
    assert lift.ticket_id != garbage.ticket_id
    assert lift.intent == "request"
    assert await _thread(hub, garbage.ticket_id) == ["Мусор у рынка"]
    assert await _thread(hub, lift.ticket_id) == ["Не работает лифт в подъезде"]


async def test_a_photo_and_a_pin_after_a_report_join_it(hub: Hub) -> None:
    report = await intake.receive(hub=hub, message=inbound("Мусор у рынка", sender=PHONE))
    photo = await intake.receive(
        hub=hub,
        message=inbound(
            "",
            sender=PHONE,
            attachments=[Attachment(url="https://example.org/pit.jpg", content_type="image/jpeg")],
            location=Location(latitude=41.85, longitude=112.55),
        ),
    )

    assert photo.ticket_id == report.ticket_id and photo.intent == "continue"
    async with hub.session_factory() as session:
        photos = await session.scalar(
            select(func.count())
            .select_from(CasePhoto)
            .where(CasePhoto.ticket_id == report.ticket_id)
        )
    assert photos == 1


async def test_a_message_naming_a_ticket_joins_it_even_days_later(hub: Hub) -> None:
    old = await intake.receive(hub=hub, message=inbound("Не горит фонарь во дворе", sender=PHONE))
    async with transaction(hub.session_factory) as session:
        await session.execute(
            update(Ticket)
            .where(Ticket.id == old.ticket_id)
            .values(created_at=utcnow() - timedelta(days=3))
        )

    named = await intake.receive(
        hub=hub,
        message=inbound(f"По заявке {old.ticket_number}: фонарь так и не горит", sender=PHONE),
    )

    assert named.ticket_id == old.ticket_id and named.intent == "continue"


async def test_an_ambiguous_follow_up_says_where_it_went_and_a_digit_splits_it(hub: Hub) -> None:
    first = await intake.receive(hub=hub, message=inbound("The lift is broken", sender=PHONE))
    more = await intake.receive(
        hub=hub, message=inbound("since Monday, house 7, entrance 2", sender=PHONE)
    )

    assert more.ticket_id == first.ticket_id
    reply = more.replies[-1]
    assert reply.structure is not None and [c.id for c in reply.structure.choices] == ["split"]
    # SMS shows the choices as a numbered list answered by digit.
    assert first.ticket_number in reply.text and "1" in reply.text

    split = await intake.receive(hub=hub, message=inbound("1", sender=PHONE))

    assert split.ticket_id is not None and split.ticket_id != first.ticket_id
    assert await _thread(hub, first.ticket_id) == ["The lift is broken"]
    assert await _thread(hub, split.ticket_id) == ["since Monday, house 7, entrance 2"]
    async with hub.session_factory() as session:
        events = list(
            await session.scalars(
                select(TicketEvent.kind).where(TicketEvent.ticket_id == first.ticket_id)
            )
        )
    assert EventKind.SPLIT in events


async def test_a_digit_after_the_choices_changed_answers_the_new_ones(hub: Hub) -> None:
    first = await intake.receive(hub=hub, message=inbound("The lift is broken", sender=PHONE))
    await intake.receive(hub=hub, message=inbound("and the light too", sender=PHONE))
    # A bare "status" lists the open requests as choices: the split offer is gone.
    listing = await intake.receive(hub=hub, message=inbound("status", sender=PHONE))
    assert listing.replies[-1].structure is not None
    assert listing.replies[-1].structure.choices

    tickets_before = await _count(hub, Ticket)
    answer = await intake.receive(hub=hub, message=inbound("1", sender=PHONE))

    assert await _count(hub, Ticket) == tickets_before  # not a split, not a new request
    assert first.ticket_number in answer.replies[0].text


async def test_a_digit_matching_no_choice_gets_the_choices_again(hub: Hub) -> None:
    await intake.receive(hub=hub, message=inbound("The lift is broken", sender=PHONE))
    await intake.receive(hub=hub, message=inbound("and the light too", sender=PHONE))
    tickets_before = await _count(hub, Ticket)

    wrong = await intake.receive(hub=hub, message=inbound("7", sender=PHONE))
    button = await intake.receive(hub=hub, message=inbound("", sender=PHONE, choice_id="nope"))

    assert await _count(hub, Ticket) == tickets_before
    for result in (wrong, button):
        assert result.intent == "choice_again"
        structure = result.replies[0].structure
        assert structure is not None and [c.id for c in structure.choices] == ["split"]


async def test_an_expired_button_is_refused_and_a_newer_message_retires_the_choices(
    hub: Hub,
) -> None:
    await intake.receive(hub=hub, message=inbound("The lift is broken", sender=PHONE))
    await intake.receive(hub=hub, message=inbound("and the light too", sender=PHONE))
    # A notice reaches the resident after the choices: a digit now answers that, not them.
    async with transaction(hub.session_factory) as session:
        await outbox_service.create(
            db_session=session,
            kind="notice",
            channel="sms",
            address=PHONE,
            language="en",
            text="Water is off tomorrow 10:00-14:00.",
        )
    tickets_before = await _count(hub, Ticket)
    stale = await intake.receive(hub=hub, message=inbound("", sender=PHONE, choice_id="split"))
    assert stale.intent == "choice_stale" and await _count(hub, Ticket) == tickets_before

    async with transaction(hub.session_factory) as session:
        await session.execute(update(PendingChoice).values(expires_at=PendingChoice.created_at))
    expired = await intake.receive(hub=hub, message=inbound("", sender=PHONE, choice_id="split"))
    assert expired.intent == "choice_stale"


async def test_an_inline_answer_comes_back_structured_and_is_never_swept(hub: Hub) -> None:
    result = await intake.receive(
        hub=hub,
        message=inbound("", channel=Channel.VOICE, menu_choice="4", language="en"),
        inline=True,
    )

    assert result.ticket_number is not None
    reply = result.replies[0]
    assert reply.structure is not None and reply.structure.notice == "ticket_created"
    async with hub.session_factory() as session:
        row = await session.get(OutboxMessage, reply.outbox_id)
        assert row is not None and row.status == OutboxStatus.SENT
        stranded = await outbox_service.list_stranded(
            db_session=session, max_attempts=hub.settings.outbox_max_attempts, limit=1000
        )
    assert reply.outbox_id not in {outbox_id for outbox_id, _bulk in stranded}


async def _count(hub: Hub, model: type) -> int:
    async with hub.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_expired_digit_gets_the_choices_again_and_a_second_split_is_not_a_note(
    hub: Hub,
) -> None:
    first = await intake.receive(hub=hub, message=inbound("The lift is broken", sender=PHONE))
    await intake.receive(hub=hub, message=inbound("since Monday, house 7", sender=PHONE))
    async with transaction(hub.session_factory) as session:
        await session.execute(update(PendingChoice).values(expires_at=PendingChoice.created_at))
    tickets_before = await _count(hub, Ticket)

    late = await intake.receive(hub=hub, message=inbound("1", sender=PHONE))
    assert late.intent == "choice_again" and await _count(hub, Ticket) == tickets_before
    assert late.replies[-1].structure is not None and late.replies[-1].structure.choices

    split = await intake.receive(hub=hub, message=inbound("1", sender=PHONE))
    again = await intake.receive(hub=hub, message=inbound("1", sender=PHONE))
    assert split.ticket_id not in (None, first.ticket_id)
    # The second "1" answers nothing offered (the demo's open ballot explains to a
    # stranger why a digit is not a vote): no note on either request, no new one.
    assert again.ticket_id is None
    assert "1" not in await _thread(hub, split.ticket_id)
    assert "1" not in await _thread(hub, first.ticket_id)


async def test_answers_sent_together_split_a_message_once(hub: Hub) -> None:
    text = "since Monday, house 7, entrance 2"
    await intake.receive(hub=hub, message=inbound("The lift is broken", sender=PHONE))
    await intake.receive(hub=hub, message=inbound(text, sender=PHONE))

    await asyncio.gather(
        *(intake.receive(hub=hub, message=inbound("1", sender=PHONE)) for _ in range(3))
    )

    async with hub.session_factory() as session:
        copies = await session.scalar(
            select(func.count()).select_from(TicketMessage).where(TicketMessage.text == text)
        )
    assert copies == 1


async def test_naming_a_closed_request_opens_a_new_one(hub: Hub) -> None:
    old = await intake.receive(hub=hub, message=inbound("Не горит фонарь во дворе", sender=PHONE))
    async with transaction(hub.session_factory) as session:
        await session.execute(
            update(Ticket).where(Ticket.id == old.ticket_id).values(status="closed")
        )

    again = await intake.receive(
        hub=hub, message=inbound(f"{old.ticket_number}: фонарь опять не горит", sender=PHONE)
    )

    assert again.ticket_id is not None and again.ticket_id != old.ticket_id


async def test_status_counts_every_open_request_and_offers_the_latest(hub: Hub) -> None:
    texts = [
        "Мусор у рынка",
        "Не работает лифт в подъезде",
        "Нет отопления в квартире",
        "Не горит фонарь во дворе",
        "Яма на дороге у школы",
        "Протечка крыши в подъезде",
        "Нет горячей воды",
    ]
    for text in texts:
        await intake.receive(hub=hub, message=inbound(text, sender=PHONE, continue_recent=False))

    listing = await intake.receive(hub=hub, message=inbound("статус", sender=PHONE))

    reply = listing.replies[-1]
    assert reply.text.startswith("У вас 7 открытых обращений; последние 5:")
    assert reply.structure is not None and len(reply.structure.choices) == 5
    assert reply.text.count("\n") == 6  # the head, five numbered lines, how to answer


async def test_a_call_is_answered_in_the_call_never_later(hub: Hub) -> None:
    # The adapter did not ask for inline, but a voice channel answers within the call.
    result = await intake.receive(
        hub=hub, message=inbound("", channel=Channel.VOICE, menu_choice="4", sender=PHONE)
    )
    async with hub.session_factory() as session:
        statuses = list(
            await session.scalars(
                select(OutboxMessage.status).where(
                    OutboxMessage.id.in_([r.outbox_id for r in result.replies])
                )
            )
        )
    assert statuses and all(status == OutboxStatus.SENT for status in statuses)
