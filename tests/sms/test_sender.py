"""Sending through the Twilio REST client, with Twilio faked at its http_client."""

import asyncio

import pytest

from channels.contract import Channel, Reply, SendError
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxStatus
from core.outbox.models import OutboxMessage
from core.runtime import Hub
from sms.ratelimit import SendingRate
from tests.factories import queued_sms
from tests.sms.conftest import SERVICE, FakeTwilio


async def queued_reply(hub: Hub, text: str = "Ваш запрос принят") -> int:
    return (await queued_sms(hub, text, language="ru")).id


async def deliver(hub: Hub, outbox_id: int) -> outbox_service.DeliveryOutcome:
    return await outbox_service.deliver(
        session_factory=hub.session_factory,
        channels=hub.channels,
        outbox_id=outbox_id,
        max_attempts=3,
        lease_seconds=60,
    )


async def test_a_reply_goes_out_through_the_messaging_service_with_a_status_callback(
    hub: Hub, twilio: FakeTwilio
) -> None:
    outbox_id = await queued_reply(hub)
    outcome = await deliver(hub, outbox_id)
    assert outcome.status == OutboxStatus.SENT
    [request] = twilio.requests
    assert request["method"] == "POST" and request["url"].endswith("/Messages.json")
    assert request["data"] == {
        "To": "+79005550101",
        "Body": "Ваш запрос принят",
        "MessagingServiceSid": SERVICE,
        "StatusCallback": f"https://hub.example.org/sms/twilio/status?outbox={outbox_id}",
    }
    async with hub.session_factory() as session:
        row = await session.get(OutboxMessage, outbox_id)
    assert row is not None and row.provider_message_id == "SM" + "1".zfill(32)


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [(429, 20429, True), (503, 20503, True), (400, 21211, False), (400, 21610, False)],
)
async def test_twilio_errors_are_retried_only_when_that_can_help(
    hub: Hub, twilio: FakeTwilio, status: int, code: int, retryable: bool
) -> None:
    twilio.answers = [(status, {"code": code, "message": "refused", "status": status})]
    outbox_id = await queued_reply(hub)
    if retryable:
        with pytest.raises(outbox_service.RetryDelivery):
            await deliver(hub, outbox_id)
        row_status = OutboxStatus.PENDING
    else:
        outcome = await deliver(hub, outbox_id)
        row_status = outcome.status
        assert row_status == OutboxStatus.FAILED
    async with hub.session_factory() as session:
        row = await session.get(OutboxMessage, outbox_id)
    assert row is not None and row.status == row_status and row.error_code == str(code)


async def test_the_sender_contract(hub: Hub) -> None:
    sender = hub.channels.sender(Channel.SMS)
    reply = Reply(channel=Channel.SMS, address="+79005550101", text="hi", language="en")
    result = await sender.send(reply, idempotency_key="outbox-1")
    assert result.provider_message_id.startswith("SM") and result.status == "queued"


async def test_a_network_failure_is_retryable(hub: Hub, twilio: FakeTwilio) -> None:
    async def broken(*args: object, **kwargs: object) -> object:
        raise TimeoutError

    twilio.request = broken  # type: ignore[method-assign]
    reply = Reply(channel=Channel.SMS, address="+79005550101", text="hi", language="en")
    with pytest.raises(SendError) as failure:
        await hub.channels.sender(Channel.SMS).send(reply, idempotency_key="outbox-2")
    assert failure.value.retryable and failure.value.code == "network"


async def test_replies_find_room_while_a_blast_uses_the_bulk_share() -> None:
    rate = SendingRate(per_second=5, reply_reserve=0.2, redis_url=None)
    for _ in range(4):  # the bulk share: 4 of 5 per second
        await rate.acquire("MG1", bulk=True)
    blocked_bulk = asyncio.create_task(rate.acquire("MG1", bulk=True))
    for _ in range(20):  # let it try, without waiting on the clock
        await asyncio.sleep(0)
    assert not blocked_bulk.done()  # a fifth bulk message waits for the next window
    await asyncio.wait_for(rate.acquire("MG1", bulk=False), timeout=0.5)  # a reply does not
    blocked_bulk.cancel()


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SendingRate(per_second=0, reply_reserve=0.2, redis_url=None)
