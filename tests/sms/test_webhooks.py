import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from core.db import transaction, utcnow
from core.intake.models import InboundRecord
from core.jobs.tasks import sweep_outbox
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxStatus
from core.outbox.models import OutboxMessage
from core.residents.models import Contact
from core.runtime import Hub
from core.tickets.models import Ticket, TicketEvent
from tests.factories import outbox_row, queued_sms
from tests.sms.conftest import inbound, signed_post


async def count(hub: Hub, model: Any) -> int:
    async with hub.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_sms_gets_its_reply_inline_in_twiml(client: httpx.AsyncClient, hub: Hub) -> None:
    response = await signed_post(client, "/sms/twilio/inbound", inbound("Нет воды с утра"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    match = re.search(
        r'<Message action="([^"]+)" method="POST">(Обращение \d+ принято[^<]*)<', response.text
    )
    assert match, response.text
    assert match.group(1).startswith("https://hub.example.org/sms/twilio/status?outbox=")
    async with hub.session_factory() as session:
        # The sender's reply (the demo city's open ballot has SMS of its own queued).
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.address == "+79005550101")
        )
    # Handed to Twilio inside the response: sent, with no REST send; Twilio's status follows.
    assert row is not None and row.status == OutboxStatus.SENT and row.segments == 1
    assert row.provider_status == "inline" and row.sent_at is not None
    assert await count(hub, Ticket) == 1


async def test_a_reply_answered_inline_is_never_sent_again_by_the_sweep(
    client: httpx.AsyncClient, hub: Hub, twilio: Any
) -> None:
    await signed_post(client, "/sms/twilio/inbound", inbound("Нет воды с утра"))
    async with hub.session_factory() as session:
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.address == "+79005550101")
        )
    assert row is not None
    # Long after any lease would have run out, with every stranded row swept...
    long_ago = utcnow() - timedelta(days=1)
    async with transaction(hub.session_factory) as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(next_attempt_at=long_ago, created_at=long_ago)
        )
    await sweep_outbox({"hub": hub})
    # ...the reply the resident already got is neither queued nor sent by REST.
    assert await hub.queue.job(f"outbox:{row.id}") is None
    assert twilio.requests == []
    assert (await outbox_row(hub, row.id)).status == OutboxStatus.SENT


async def test_an_inline_reply_waits_for_its_confirmation_then_is_never_lost(
    hub: Hub,
) -> None:
    """Between intake and the adapter's confirmation the row is inline: not swept while its
    lease runs; never confirmed (the process died before answering), it is sent by REST."""
    row = await queued_sms(
        hub,
        status=OutboxStatus.INLINE,
        provider_status="inline",
        attempts=1,
        next_attempt_at=utcnow() + timedelta(minutes=2),
    )
    async with transaction(hub.session_factory) as session:
        stranded = await outbox_service.list_stranded(db_session=session, max_attempts=5)
    assert row.id not in [outbox_id for outbox_id, _bulk in stranded]
    lost = await queued_sms(
        hub,
        "Лифт уже чинят.",
        status=OutboxStatus.INLINE,
        provider_status="inline",
        attempts=1,
        next_attempt_at=utcnow() - timedelta(minutes=1),
    )
    async with transaction(hub.session_factory) as session:
        stranded = await outbox_service.list_stranded(db_session=session, max_attempts=5)
    assert lost.id in [outbox_id for outbox_id, _bulk in stranded]
    assert (await outbox_row(hub, lost.id)).status == OutboxStatus.PENDING
    async with transaction(hub.session_factory) as session:
        await outbox_service.confirm_inline(db_session=session, row_or_id=row.id)
    confirmed = await outbox_row(hub, row.id)
    assert confirmed.status == OutboxStatus.SENT and confirmed.sent_at is not None
    # A second confirmation (the adapter retried) changes nothing.
    async with transaction(hub.session_factory) as session:
        await outbox_service.confirm_inline(db_session=session, row_or_id=[row.id])
    assert (await outbox_row(hub, row.id)).sent_at == confirmed.sent_at


async def test_a_retried_webhook_makes_no_second_ticket_or_reply(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    params = inbound("Street light broken", sid="SM" + "b" * 32)
    first = await signed_post(client, "/sms/twilio/inbound", params)
    again = await signed_post(client, "/sms/twilio/inbound", params)
    assert "<Message" in first.text
    assert again.status_code == 200 and "<Message" not in again.text
    async with hub.session_factory() as session:
        replies = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.address == "+79005550101")
        )
    assert await count(hub, Ticket) == 1 and replies == 1


async def test_a_retry_after_an_unanswered_request_gets_the_answer(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    params = inbound("Street light broken", sid="SM" + "c" * 32)
    await signed_post(client, "/sms/twilio/inbound", params)
    # As if the first request's process had died after intake, before answering Twilio.
    async with transaction(hub.session_factory) as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.address == "+79005550101")
            .values(status=OutboxStatus.INLINE, sent_at=None)
        )

    again = await signed_post(client, "/sms/twilio/inbound", params)

    assert again.status_code == 200 and "<Message" in again.text
    assert await count(hub, Ticket) == 1
    async with hub.session_factory() as session:
        statuses = list(
            await session.scalars(
                select(OutboxMessage.status).where(OutboxMessage.address == "+79005550101")
            )
        )
    assert statuses == [OutboxStatus.SENT]


@pytest.mark.parametrize("signature", ["", "forged", None])
async def test_a_forged_request_is_403_and_records_nothing(
    client: httpx.AsyncClient, hub: Hub, signature: str | None
) -> None:
    params = inbound("hello")
    contacts = await count(hub, Contact)
    if signature is None:  # signed, but with someone else's token
        response = await signed_post(client, "/sms/twilio/inbound", params, token="x" * 32)
    else:
        response = await client.post(
            "/sms/twilio/inbound", data=params, headers={"X-Twilio-Signature": signature}
        )
    assert response.status_code == 403
    assert await count(hub, InboundRecord) == 0 and await count(hub, Contact) == contacts


async def test_a_signed_but_tampered_body_is_403(client: httpx.AsyncClient, hub: Hub) -> None:
    from twilio.request_validator import RequestValidator

    from tests.sms.conftest import PUBLIC_URL, TOKEN

    params = inbound("original")
    signature = RequestValidator(TOKEN).compute_signature(
        PUBLIC_URL + "/sms/twilio/inbound", params
    )
    tampered = {**params, "Body": "changed"}
    response = await client.post(
        "/sms/twilio/inbound", data=tampered, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403 and await count(hub, InboundRecord) == 0


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"Body": "hi", "From": "+79005550101"}, "MessageSid"),
        (inbound("x" * 1601), "Body longer"),
        (inbound("hi", NumMedia="two"), "NumMedia"),
        (inbound("hi", NumMedia="1"), "MediaUrl0"),
        (inbound("hi", sender="not-a-number"), "phone"),
        (inbound("hi", sender="+7900555\x000101"), "control characters"),
        (inbound("hi", MessageSid="SM1\x00"), "control characters"),
    ],
)
async def test_malformed_payloads_are_400_with_the_reason(
    client: httpx.AsyncClient, hub: Hub, params: dict[str, str], reason: str
) -> None:
    response = await signed_post(client, "/sms/twilio/inbound", params)
    assert response.status_code == 400 and reason in response.text
    assert await count(hub, InboundRecord) == 0


async def test_an_empty_sms_gets_help_not_a_ticket(client: httpx.AsyncClient, hub: Hub) -> None:
    response = await signed_post(client, "/sms/twilio/inbound", inbound(""))
    assert "STATUS" in response.text and await count(hub, Ticket) == 0


async def test_a_photo_travels_with_the_message(client: httpx.AsyncClient, hub: Hub) -> None:
    params = inbound(
        "",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/media/ME1",
        MediaContentType0="image/jpeg",
    )
    await signed_post(client, "/sms/twilio/inbound", params)
    async with hub.session_factory() as session:
        record = await session.scalar(select(InboundRecord))
    assert record is not None
    assert record.payload["attachments"] == [
        {"url": "https://api.twilio.com/media/ME1", "content_type": "image/jpeg"}
    ]
    assert await count(hub, Ticket) == 1


@pytest.mark.parametrize(
    ("stop", "start", "language"),
    [("STOP", "START", "en"), ("Стоп", "старт", "ru"), ("退订", "恢复", "zh")],
)
async def test_stop_and_start_in_three_languages(
    client: httpx.AsyncClient, hub: Hub, stop: str, start: str, language: str
) -> None:
    sender = "+79005550150"
    stopped = await signed_post(
        client, "/sms/twilio/inbound", inbound(stop, sid="SM" + "1" * 32, sender=sender)
    )
    async with hub.session_factory() as session:
        contact = await session.scalar(select(Contact).where(Contact.value == sender))
        assert contact is not None and contact.opted_out_at is not None
        assert contact.language == (language if language != "en" else "en")
    assert "START" in stopped.text or "СТАРТ" in stopped.text or "恢复" in stopped.text
    await signed_post(
        client, "/sms/twilio/inbound", inbound(start, sid="SM" + "2" * 32, sender=sender)
    )
    async with hub.session_factory() as session:
        contact = await session.scalar(select(Contact).where(Contact.value == sender))
        assert contact is not None and contact.opted_out_at is None
    assert await count(hub, Ticket) == 0


async def status(
    client: httpx.AsyncClient, sid: str, state: str, query: str = "", **extra: str
) -> httpx.Response:
    return await signed_post(
        client, "/sms/twilio/status" + query, {"MessageSid": sid, "MessageStatus": state, **extra}
    )


async def _inline_reply(client: httpx.AsyncClient, hub: Hub) -> OutboxMessage:
    await signed_post(client, "/sms/twilio/inbound", inbound("Pothole on Mira Avenue"))
    async with hub.session_factory() as session:
        # The sender's reply (the demo city's open ballot has SMS of its own queued).
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.address == "+79005550101")
        )
    assert row is not None
    return row


async def test_status_callbacks_move_forward_only_and_once(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    row = await _inline_reply(client, hub)
    sid = "SM" + "c" * 32
    assert (await status(client, sid, "sent", f"?outbox={row.id}")).status_code == 204
    assert (await status(client, sid, "delivered")).status_code == 204
    # Late and repeated callbacks: an earlier "sending", the same "delivered" again.
    assert (await status(client, sid, "sending")).status_code == 204
    assert (await status(client, sid, "delivered")).status_code == 204
    after = await outbox_row(hub, row.id)
    assert (after.status, after.provider_status, after.provider_message_id) == (
        OutboxStatus.DELIVERED,
        "delivered",
        sid,
    )
    assert after.sent_at is not None


async def test_an_undeliverable_number_fails_visibly_without_retry(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    row = await _inline_reply(client, hub)
    sid = "SM" + "d" * 32
    await status(client, sid, "undelivered", f"?outbox={row.id}", ErrorCode="30005")
    after = await outbox_row(hub, row.id)
    assert after.status == OutboxStatus.UNDELIVERED and after.error_code == "30005"
    assert await hub.queue.job(f"outbox:{row.id}") is None
    async with hub.session_factory() as session:
        event = await session.scalar(select(TicketEvent.data).where(TicketEvent.kind == "delivery"))
    assert event == {"outbox_id": row.id, "status": "undelivered", "code": "30005"}


async def test_a_temporary_failure_is_sent_again(client: httpx.AsyncClient, hub: Hub) -> None:
    row = await _inline_reply(client, hub)
    await status(client, "SM" + "e" * 32, "undelivered", f"?outbox={row.id}", ErrorCode="30003")
    after = await outbox_row(hub, row.id)
    assert after.status == OutboxStatus.PENDING and after.provider_message_id is None
    job = await hub.queue.job(f"outbox:{row.id}")
    assert job is not None and job.scheduled > 0  # delayed, not immediate


async def test_status_callbacks_are_signed_and_validated(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    forged = await client.post(
        "/sms/twilio/status", data={"MessageSid": "SMx", "MessageStatus": "delivered"}
    )
    assert forged.status_code == 403
    assert (await status(client, "SMx", "teleported")).status_code == 400
    assert (
        await signed_post(client, "/sms/twilio/status", {"MessageSid": "SMx"})
    ).status_code == 400
    assert (await status(client, "SMx", "sent", "?outbox=abc")).status_code == 400


async def test_a_report_arriving_before_the_send_is_recorded_is_not_lost(
    client: httpx.AsyncClient, hub: Hub, twilio: Any
) -> None:
    """REST sends carry the outbox id in the callback URL; a fast "delivered" then wins."""
    # The report comes in while the row is still "sending" (the send has no SID yet).
    row = await queued_sms(hub, status=OutboxStatus.SENDING, attempts=1)
    sid = "SM" + "f" * 32
    assert (await status(client, sid, "delivered", f"?outbox={row.id}")).status_code == 204
    after = await outbox_row(hub, row.id)
    assert after.status == OutboxStatus.DELIVERED and after.provider_message_id == sid


async def test_a_report_for_an_unknown_message_is_not_swallowed(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    from sms.models import SmsStatusEvent

    assert (await status(client, "SM" + "9" * 32, "delivered")).status_code == 204
    assert await count(hub, SmsStatusEvent) == 0  # Twilio's retry can still apply it
