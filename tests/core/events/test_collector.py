"""After-commit effects run once the transaction commits, and never when it rolls back."""

from __future__ import annotations

from channels.contract import Channel
from core.events.collector import (
    Deliver,
    Job,
    Wake,
    enqueue_after_commit,
    merged,
    pending_effects,
)
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxKind
from core.runtime import Hub


async def _reply(session) -> int:  # type: ignore[no-untyped-def]
    row = await outbox_service.create(
        db_session=session,
        kind=OutboxKind.REPLY,
        channel=Channel.SMS,
        address="+79005550101",
        language="en",
        text="Your request is registered.",
    )
    return row.id


async def test_a_reply_is_queued_when_its_transaction_commits(hub: Hub) -> None:
    async with hub.session_factory() as session, session.begin():
        outbox_id = await _reply(session)
        assert await hub.queue.job(f"outbox:{outbox_id}") is None  # not before the commit
    # The effects ran inside the commit: nothing to wait for.
    job = await hub.queue.job(f"outbox:{outbox_id}")
    assert job is not None and job.function == "deliver_outbox"


async def test_a_rolled_back_reply_is_never_queued(hub: Hub) -> None:
    async with hub.session_factory() as session:
        await session.begin()
        outbox_id = await _reply(session)
        assert any(isinstance(e, Deliver) for e in pending_effects(session))
        await session.rollback()
        assert pending_effects(session) == []
        # The next transaction on the same session starts with nothing pending.
        await session.begin()
        await session.commit()
    assert await hub.queue.job(f"outbox:{outbox_id}") is None


async def test_a_rolled_back_savepoint_drops_only_its_own_effects(hub: Hub) -> None:
    async with hub.session_factory() as session, session.begin():
        enqueue_after_commit(session, "fetch_case_photos", key="photos:kept")
        async with session.begin_nested():
            enqueue_after_commit(session, "fetch_case_photos", key="photos:released")
        savepoint = await session.begin_nested()
        enqueue_after_commit(session, "fetch_case_photos", key="photos:dropped")
        await savepoint.rollback()
        # Releasing a savepoint is not the commit: nothing may run yet.
        assert await hub.queue.job("photos:released") is None
    assert await hub.queue.job("photos:kept") is not None
    assert await hub.queue.job("photos:released") is not None
    assert await hub.queue.job("photos:dropped") is None


async def test_a_session_closed_without_commit_runs_nothing(hub: Hub) -> None:
    async with hub.session_factory() as session:
        await session.begin()
        enqueue_after_commit(session, "fetch_case_photos", key="photos:abandoned")
    async with hub.session_factory() as session, session.begin():
        assert pending_effects(session) == []
    assert await hub.queue.job("photos:abandoned") is None


def test_effects_are_merged_into_one_batch_per_queue_and_one_wake_per_topic() -> None:
    effects = merged(
        [
            Deliver((1, 2)),
            Wake("tickets"),
            Deliver((3,), bulk=True),
            Deliver((2, 4)),
            Wake("tickets"),
            Job("fetch_case_photos", "photos:1"),
        ]
    )
    assert effects == [
        Deliver((1, 2, 4)),
        Deliver((3,), bulk=True),
        Wake("tickets"),
        Job("fetch_case_photos", "photos:1"),
    ]
