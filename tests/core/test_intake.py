import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from channels.contract import Channel
from core.intake import service as intake
from core.intake.models import InboundRecord
from core.outbox.models import OutboxMessage
from core.residents.models import Contact, Resident
from core.runtime import Hub
from core.tickets import service as tickets_service
from core.tickets.enums import EventKind, TicketStatus
from core.tickets.models import Ticket, TicketEvent, TicketMessage
from tests.factories import inbound


async def count(hub: Hub, model: Any) -> int:
    async with hub.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_text_becomes_a_ticket_with_a_reply_in_the_outbox(hub: Hub) -> None:
    result = await intake.receive(
        hub=hub, message=inbound("Не работает лифт в подъезде, ул. Ленина 5")
    )

    assert not result.duplicate and result.ticket_number is not None
    async with hub.session_factory() as session:
        ticket = await session.get(Ticket, result.ticket_id)
        assert ticket is not None
        assert ticket.status == TicketStatus.ASSIGNED  # the demo rule gives it a department
        assert ticket.language == "ru"
        assert ticket.due_at is not None
        thread = await tickets_service.thread(db_session=session, ticket_id=ticket.id)
        kinds = list(
            await session.scalars(
                select(TicketEvent.kind)
                .where(TicketEvent.ticket_id == ticket.id)
                .order_by(TicketEvent.id)
            )
        )
    assert [m.direction for m in thread] == ["in", "out"]
    # A lift complaint is the complaints back office's: no estate at that address, so it
    # waits in the authority's triage (a stage change) with the authority's department.
    assert kinds == [
        EventKind.CREATED,
        EventKind.ROUTED,
        EventKind.STAGE_CHANGED,
        EventKind.MESSAGE_OUT,
    ]
    [reply] = result.replies
    assert result.ticket_number in reply.text and reply.text.startswith("Обращение")


async def test_a_provider_retry_returns_the_same_result_and_writes_nothing(hub: Hub) -> None:
    message = inbound("Broken street light on Garden Street", provider_id="SM123")
    first = await intake.receive(hub=hub, message=message)
    before = [await count(hub, m) for m in (InboundRecord, Ticket, TicketMessage, OutboxMessage)]

    again = await intake.receive(hub=hub, message=message)

    assert again.duplicate and again.ticket_number == first.ticket_number
    assert [r.text for r in again.replies] == [r.text for r in first.replies]
    after = [await count(hub, m) for m in (InboundRecord, Ticket, TicketMessage, OutboxMessage)]
    assert after == before


async def test_two_concurrent_identical_deliveries_make_one_ticket(hub: Hub) -> None:
    message = inbound("Garbage not collected for a week", provider_id="SM-race")
    tickets_before, outbox_before = await count(hub, Ticket), await count(hub, OutboxMessage)

    results = await asyncio.gather(*(intake.receive(hub=hub, message=message) for _ in range(2)))

    assert sorted(r.duplicate for r in results) == [False, True]
    assert {r.ticket_number for r in results} == {results[0].ticket_number}
    assert await count(hub, Ticket) == tickets_before + 1
    assert await count(hub, OutboxMessage) == outbox_before + 1


async def test_a_new_phone_gets_one_resident_even_when_two_messages_race(hub: Hub) -> None:
    residents_before = await count(hub, Resident)
    await asyncio.gather(
        intake.receive(hub=hub, message=inbound("first", sender="+79990001122")),
        intake.receive(hub=hub, message=inbound("second", sender="8 999 000-11-22")),
    )
    assert await count(hub, Resident) == residents_before + 1
    async with hub.session_factory() as session:
        values = list(
            await session.scalars(select(Contact.value).where(Contact.value == "+79990001122"))
        )
    assert values == ["+79990001122"]


async def test_follow_up_messages_join_the_ticket_just_opened(hub: Hub) -> None:
    first = await intake.receive(hub=hub, message=inbound("The lift is broken"))
    second = await intake.receive(hub=hub, message=inbound("since Monday, house 7, entrance 2"))

    assert second.ticket_number == first.ticket_number
    assert second.intent == "continue"
    assert "Added to request" in second.replies[0].text
    async with hub.session_factory() as session:
        inbound_texts = list(
            await session.scalars(
                select(TicketMessage.text).where(
                    TicketMessage.ticket_id == first.ticket_id, TicketMessage.direction == "in"
                )
            )
        )
    assert inbound_texts == ["The lift is broken", "since Monday, house 7, entrance 2"]


async def test_an_answer_to_a_ticket_on_hold_resumes_it(hub: Hub) -> None:
    first = await intake.receive(hub=hub, message=inbound("Water leaking from the ceiling"))
    async with hub.session_factory() as session, session.begin():
        ticket = await session.get(Ticket, first.ticket_id)
        assert ticket is not None
        ticket.status = TicketStatus.ON_HOLD
        ticket.created_at = ticket.created_at.replace(year=2020)  # far outside the window

    answer = await intake.receive(hub=hub, message=inbound("Flat 12, fourth floor"))

    assert answer.ticket_number == first.ticket_number
    async with hub.session_factory() as session:
        ticket = await session.get(Ticket, first.ticket_id)
        assert ticket is not None and ticket.status == TicketStatus.IN_PROGRESS


async def test_help_and_status_commands_in_three_languages(hub: Hub) -> None:
    opened = await intake.receive(hub=hub, message=inbound("没有暖气", sender="+8613800138000"))
    number = opened.ticket_number
    assert number is not None
    full_width = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))

    status = await intake.receive(
        hub=hub, message=inbound(f"状态 {full_width}", sender="+8613800138000")
    )
    help_ru = await intake.receive(hub=hub, message=inbound("Помощь", sender="+79005550177"))
    status_en = await intake.receive(
        hub=hub, message=inbound(f"status {number}", sender="+8613800138000")
    )

    assert status.ticket_number is None and status.replies[0].text.startswith(f"诉求{number}")
    assert help_ru.replies[0].language == "ru" and "СТАТУС" in help_ru.replies[0].text
    # The resident wrote in Chinese before; a Latin-script command keeps their language.
    assert status_en.replies[0].language == "zh"


async def test_status_of_someone_elses_ticket_reveals_nothing(hub: Hub) -> None:
    mine = await intake.receive(hub=hub, message=inbound("Noise at night", sender="+79005550101"))
    theirs = await intake.receive(
        hub=hub, message=inbound(f"STATUS {mine.ticket_number}", sender="+79005550202")
    )
    assert "found no request" in theirs.replies[0].text


async def test_a_voice_menu_key_selects_the_category(hub: Hub) -> None:
    result = await intake.receive(
        hub=hub, message=inbound("", channel=Channel.VOICE, menu_choice="4", language="en")
    )
    async with hub.session_factory() as session:
        ticket = await session.get(Ticket, result.ticket_id)
    assert ticket is not None and ticket.kind == "city_case" and ticket.summary == "Exposed garbage"
    # Numbers are spoken digit by digit so the caller can write them down.
    assert " ".join(result.ticket_number or "") in result.replies[0].text


async def test_an_unknown_menu_key_or_an_empty_message_gets_help_not_a_ticket(hub: Hub) -> None:
    tickets_before = await count(hub, Ticket)
    key = await intake.receive(hub=hub, message=inbound("", channel=Channel.VOICE, menu_choice="8"))
    empty = await intake.receive(hub=hub, message=inbound("   "))
    assert key.intent == empty.intent == "help"
    assert await count(hub, Ticket) == tickets_before


@pytest.mark.parametrize(
    ("sender", "extra"),
    [("not a phone", {}), ("12", {}), ("+79005550101", {"category_code": "no-such-category"})],
)
async def test_bad_input_is_rejected_and_nothing_is_written(
    hub: Hub, sender: str, extra: dict[str, str]
) -> None:
    counts = [await count(hub, m) for m in (InboundRecord, Resident, Ticket, OutboxMessage)]
    with pytest.raises(intake.IntakeRejected):
        await intake.receive(hub=hub, message=inbound("hello", sender=sender, **extra))
    assert [await count(hub, m) for m in (InboundRecord, Resident, Ticket, OutboxMessage)] == counts


async def test_a_failing_back_office_keeps_the_raw_message_and_a_retry_processes_it(
    hub: Hub,
) -> None:
    from dataclasses import replace

    from core.backoffice import BackOffices
    from core.intake.triage import SPEC, open_ticket

    calls = {"n": 0}

    async def flaky(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database hiccup")
        return await open_ticket(**kwargs)

    # A back office whose first call fails: installed for this test only.
    installed = hub.offices
    hub.offices = BackOffices(
        [replace(SPEC, handler=flaky) if s.name == "general" else s for s in installed.specs]
    )
    try:
        message = inbound("The fountain in the square is silent", provider_id="SM-flaky")
        with pytest.raises(intake.IntakeFailed):
            await intake.receive(hub=hub, message=message)
        async with hub.session_factory() as session:
            record = await session.scalar(
                select(InboundRecord).where(InboundRecord.provider_message_id == "SM-flaky")
            )
            assert record is not None and record.status == "failed"
            assert (
                await session.scalar(
                    select(func.count())
                    .select_from(Ticket)
                    .where(Ticket.summary == "The fountain in the square is silent")
                )
                == 0
            )

        retried = await intake.receive(hub=hub, message=message)
    finally:
        hub.offices = installed

    assert not retried.duplicate and retried.ticket_number is not None
    assert retried.inbound_id == record.id


async def test_the_periodic_retry_processes_messages_that_failed(hub: Hub) -> None:
    from dataclasses import replace

    from core.backoffice import BackOffices
    from core.intake.triage import SPEC
    from core.jobs.tasks import retry_failed_inbound

    async def broken(**kwargs: Any) -> Any:
        raise RuntimeError("back office down")

    installed = hub.offices
    hub.offices = BackOffices(
        [replace(SPEC, handler=broken) if s.name == "general" else s for s in installed.specs]
    )
    try:
        with pytest.raises(intake.IntakeFailed):
            await intake.receive(
                hub=hub, message=inbound("The fountain is silent", provider_id="SM-r")
            )
        assert await retry_failed_inbound({"hub": hub}) == 0  # still down: counted, kept
    finally:
        hub.offices = installed
    assert await retry_failed_inbound({"hub": hub}) == 1
    async with hub.session_factory() as session:
        record = await session.scalar(
            select(InboundRecord).where(InboundRecord.provider_message_id == "SM-r")
        )
    assert record is not None and record.status == "processed" and record.attempts == 2
    assert await retry_failed_inbound({"hub": hub}) == 0


async def test_a_nul_character_from_a_provider_is_dropped_not_fatal(hub: Hub) -> None:
    # PostgreSQL text cannot hold NUL: the raw record itself would fail and be lost.
    result = await intake.receive(
        hub=hub, message=inbound("Сломана\x00 скамейка", address_text="у рынка\x00")
    )
    assert result.ticket_id is not None
    async with hub.session_factory() as session:
        record = await session.get(InboundRecord, result.inbound_id)
        assert record is not None and record.text == "Сломана скамейка"


async def test_the_russian_receipt_teaches_the_russian_status_word(hub: Hub) -> None:
    result = await intake.receive(hub=hub, message=inbound("Нет воды с утра"))
    [reply] = result.replies
    assert f"СТАТУС {result.ticket_number}" in reply.text and "STATUS" not in reply.text
    # …and that word works as taught.
    asked = await intake.receive(
        hub=hub, message=inbound(f"СТАТУС {result.ticket_number}", provider_id="status-1")
    )
    assert asked.replies and result.ticket_number in asked.replies[0].text
