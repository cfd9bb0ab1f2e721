"""Outbox delivery through the real SAQ worker, with a fake provider at the Sender boundary."""

import asyncio

import pytest
from sqlalchemy import select, update

from channels.contract import Channel, Reply, Sender, SendError, SendResult
from core.db import transaction, utcnow
from core.intake import service as intake
from core.jobs.tasks import sweep_outbox
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxStatus
from core.outbox.models import OutboxMessage
from core.runtime import Hub
from core.tickets.models import TicketEvent
from tests.conftest import eventually
from tests.factories import inbound, outbox_row, queued_sms


class FlakyProvider:
    """Stands where an SMS gateway would: fails as told, then accepts."""

    channel = Channel.SMS

    def __init__(self) -> None:
        self.failures: list[SendError] = []
        self.accepted: list[tuple[str, Reply]] = []

    async def send(self, reply: Reply, *, idempotency_key: str) -> SendResult:
        if self.failures:
            raise self.failures.pop(0)
        self.accepted.append((idempotency_key, reply))
        return SendResult(provider_message_id=f"prov-{len(self.accepted)}")


@pytest.fixture
def provider() -> FlakyProvider:
    return FlakyProvider()


@pytest.fixture
def senders(provider: FlakyProvider) -> dict[str, Sender]:
    return {Channel.SMS: provider}


async def test_a_reply_is_delivered_by_the_worker(
    hub: Hub, worker: None, provider: FlakyProvider
) -> None:
    result = await intake.receive(hub=hub, message=inbound("Pothole on Mira Avenue"))
    outbox_id = result.replies[0].outbox_id

    async def sent() -> bool:
        return (await outbox_row(hub, outbox_id)).status == OutboxStatus.SENT

    await eventually(sent)
    row = await outbox_row(hub, outbox_id)
    assert row.provider_message_id == "prov-1" and row.attempts == 1 and row.sent_at is not None
    assert provider.accepted[0][1].address == "+79005550101"


async def test_a_retryable_failure_is_retried_with_backoff_until_sent(
    hub: Hub, worker: None, provider: FlakyProvider
) -> None:
    provider.failures = [SendError("gateway timeout", retryable=True, code="30001")] * 2
    result = await intake.receive(hub=hub, message=inbound("Street lamp flickering"))
    outbox_id = result.replies[0].outbox_id

    async def sent() -> bool:
        return (await outbox_row(hub, outbox_id)).status == OutboxStatus.SENT

    await eventually(sent)
    row = await outbox_row(hub, outbox_id)
    assert row.attempts == 3 and len(provider.accepted) == 1
    async with hub.session_factory() as session:
        retries = list(
            await session.scalars(
                select(TicketEvent.data).where(
                    TicketEvent.ticket_id == result.ticket_id, TicketEvent.kind == "delivery"
                )
            )
        )
    assert [(e["status"], e["attempt"], e["code"]) for e in retries] == [
        ("retrying", 1, "30001"),
        ("retrying", 2, "30001"),
    ]


async def test_a_permanent_failure_is_not_retried_and_shows_on_the_ticket(
    hub: Hub, worker: None, provider: FlakyProvider
) -> None:
    provider.failures = [SendError("unknown subscriber", retryable=False, code="30005")]
    result = await intake.receive(hub=hub, message=inbound("Heating is off"))
    outbox_id = result.replies[0].outbox_id

    async def failed() -> bool:
        return (await outbox_row(hub, outbox_id)).status == OutboxStatus.FAILED

    await eventually(failed)

    async def job_finished() -> bool:
        # Once the queue's job has ended no retry can follow: that is when to look.
        job = await hub.queue.job(f"outbox:{outbox_id}")
        return job is not None and job.status in ("complete", "failed", "aborted")

    await eventually(job_finished)
    row = await outbox_row(hub, outbox_id)
    assert row.attempts == 1 and row.error_code == "30005" and provider.accepted == []
    async with hub.session_factory() as session:
        event = await session.scalar(
            select(TicketEvent.data).where(
                TicketEvent.ticket_id == result.ticket_id, TicketEvent.kind == "delivery"
            )
        )
    assert event is not None and event["status"] == "failed"


async def test_attempts_stop_at_the_configured_maximum(hub: Hub, provider: FlakyProvider) -> None:
    provider.failures = [SendError("busy", retryable=True)] * 10
    result = await intake.receive(hub=hub, message=inbound("Trash everywhere"))
    outbox_id = result.replies[0].outbox_id
    outcomes = []
    for _ in range(2):
        try:
            outcomes.append(
                await outbox_service.deliver(
                    session_factory=hub.session_factory,
                    channels=hub.channels,
                    outbox_id=outbox_id,
                    max_attempts=2,
                    lease_seconds=60,
                )
            )
        except outbox_service.RetryDelivery:
            outcomes.append(None)
    assert outcomes[0] is None and outcomes[1] is not None
    assert outcomes[1].status == OutboxStatus.FAILED and outcomes[1].attempts == 2


async def test_two_workers_given_the_same_job_send_once(hub: Hub, provider: FlakyProvider) -> None:
    result = await intake.receive(hub=hub, message=inbound("Bench broken"))
    outbox_id = result.replies[0].outbox_id
    outcomes = await asyncio.gather(
        *(
            outbox_service.deliver(
                session_factory=hub.session_factory,
                channels=hub.channels,
                outbox_id=outbox_id,
                max_attempts=3,
                lease_seconds=60,
            )
            for _ in range(3)
        )
    )
    assert len(provider.accepted) == 1
    assert {o.status for o in outcomes} <= {OutboxStatus.SENT, OutboxStatus.SENDING}


async def test_the_sweep_re_enqueues_rows_whose_job_was_lost(
    hub: Hub, provider: FlakyProvider
) -> None:
    await _demo_notices_sent(hub)
    long_ago = utcnow().replace(year=2025)
    # A row committed while the queue was unreachable: pending, with no job anywhere.
    row = await queued_sms(
        hub, "Water will be off on Tuesday 10:00-14:00", kind="notice", next_attempt_at=long_ago
    )
    # And a row whose worker died mid-send: its lease ran out.
    stuck = await queued_sms(
        hub,
        "Meeting of owners on Friday",
        kind="notice",
        address="+79005550102",
        status=OutboxStatus.SENDING,
        next_attempt_at=long_ago,
    )

    assert await sweep_outbox({"hub": hub}) == 2
    for outbox_id in (row.id, stuck.id):
        job = await hub.queue.job(f"outbox:{outbox_id}")
        assert job is not None and job.kwargs == {"outbox_id": outbox_id}


async def _demo_notices_sent(hub: Hub) -> None:
    """Marks the demo city's own pending notices (its open ballot's blast) as sent: once a
    minute old they are stranded too, and these tests count only their own rows."""
    async with transaction(hub.session_factory) as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENT)
        )


async def test_the_sweep_gives_up_on_a_row_that_used_its_attempts(hub: Hub) -> None:
    await _demo_notices_sent(hub)
    row = await queued_sms(
        hub,
        "hello",
        status=OutboxStatus.SENDING,
        attempts=6,
        next_attempt_at=utcnow().replace(year=2025),
    )
    assert await sweep_outbox({"hub": hub}) == 0
    async with hub.session_factory() as session:
        after = await session.get(OutboxMessage, row.id)
    assert after is not None and after.status == OutboxStatus.FAILED
