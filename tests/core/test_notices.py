from datetime import timedelta

import httpx
from sqlalchemy import select, update

from core.auth.enums import Role
from core.db import transaction, utcnow
from core.intake import service as intake
from core.jobs.tasks import send_due_notices, send_notice
from core.notices.enums import Topic
from core.notices.models import Subscription
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxStatus
from core.outbox.models import OutboxMessage
from core.residents.models import Contact
from core.runtime import Hub
from tests.factories import api_key, inbound

# Building b001 (North) holds the demo phones +79001000001 … +79001000006.
BUILDING_1 = [f"+7900100000{i}" for i in range(1, 7)]
SPOUSE = "+79002000002"
OUTAGE = {
    "topic": "outages",
    "scope": "building",
    "scope_code": "b001",
    "texts": {"en": "Water off Tue 10-14.", "ru": "Вт 10-14 нет воды.", "zh": "周二10-14点停水。"},
}


async def admin(hub: Hub) -> dict[str, str]:
    return await api_key(hub, Role.ADMIN)


async def rows(hub: Hub) -> list[OutboxMessage]:
    async with hub.session_factory() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_an_outage_notice_reaches_the_building_in_each_ones_language(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    # One owner sent STOP, another turned outage notices off: both are left out.
    await intake.receive(hub=hub, message=inbound("СТОП", sender=BUILDING_1[0]))
    await intake.receive(hub=hub, message=inbound("отписаться отключения", sender=BUILDING_1[1]))
    before = {r.id for r in await rows(hub)}

    created = await client.post("/api/v1/notices", json=OUTAGE, headers=await admin(hub))
    assert created.status_code == 201, created.text
    notice_id = created.json()["id"]
    # The four others, and the spouse who owns flat 2 with its demo owner (owner register).
    assert await send_notice({"hub": hub}, notice_id=notice_id) == 5
    assert await send_notice({"hub": hub}, notice_id=notice_id) == 0  # a repeated job: no-op

    sent = [r for r in await rows(hub) if r.id not in before]
    assert sorted(r.address for r in sent) == sorted([*BUILDING_1[2:], SPOUSE])
    async with hub.session_factory() as session:
        languages = dict((await session.execute(select(Contact.value, Contact.language))).all())
    for row in sent:
        assert row.text == OUTAGE["texts"][languages[row.address]]
        assert row.kind == "notice" and row.notice_id == notice_id
    for row in sent:
        assert await hub.bulk_queue.job(f"outbox:{row.id}") is not None
        assert await hub.queue.job(f"outbox:{row.id}") is None  # never ahead of replies
    detail = (await client.get(f"/api/v1/notices/{notice_id}", headers=await admin(hub))).json()
    assert detail["status"] == "sent" and detail["recipients"] == 5
    assert detail["delivery"] == {"pending": 5}


async def test_subscribers_only_and_keywords_in_chinese_without_a_space(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await intake.receive(hub=hub, message=inbound("订阅停电", sender=BUILDING_1[3]))
    async with hub.session_factory() as session:
        subscription = await session.scalar(select(Subscription))
    assert subscription is not None and subscription.topic == Topic.OUTAGES
    body = {**OUTAGE, "audience": "subscribers", "scope": "district", "scope_code": "north"}
    notice_id = (await client.post("/api/v1/notices", json=body, headers=await admin(hub))).json()[
        "id"
    ]
    await send_notice({"hub": hub}, notice_id=notice_id)
    notices = [r for r in await rows(hub) if r.notice_id == notice_id]
    assert [r.address for r in notices] == [BUILDING_1[3]]


async def test_a_scheduled_notice_waits_for_its_time_and_can_be_cancelled(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    headers = await admin(hub)
    later = (utcnow() + timedelta(hours=2)).isoformat()
    first = (
        await client.post("/api/v1/notices", json={**OUTAGE, "send_at": later}, headers=headers)
    ).json()
    second = (
        await client.post("/api/v1/notices", json={**OUTAGE, "send_at": later}, headers=headers)
    ).json()
    assert await send_due_notices({"hub": hub}) == 0
    cancelled = await client.post(f"/api/v1/notices/{second['id']}/cancel", headers=headers)
    assert cancelled.json()["status"] == "cancelled"
    async with transaction(hub.session_factory) as session:
        from core.notices.models import Notice

        await session.execute(update(Notice).values(send_at=utcnow() - timedelta(minutes=1)))
    assert await send_due_notices({"hub": hub}) == 1
    # (The demo city's open ballot has its own notice rows: only these two count here.)
    ours = {first["id"], second["id"]}
    assert {r.notice_id for r in await rows(hub) if r.notice_id in ours} == {first["id"]}
    again = await client.post(f"/api/v1/notices/{first['id']}/cancel", headers=headers)
    assert again.status_code == 409


async def test_a_notice_over_its_parts_is_flagged_before_sending(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    long_ru = "Плановое отключение горячей воды " * 8  # 33 Cyrillic characters × 8
    body = {**OUTAGE, "texts": {"en": "Hot water off.", "ru": long_ru}}
    refused = await client.post("/api/v1/notices", json=body, headers=await admin(hub))
    assert refused.status_code == 422 and "SMS parts" in refused.text
    accepted = await client.post(
        "/api/v1/notices", json={**body, "confirm_long": True}, headers=await admin(hub)
    )
    assert accepted.status_code == 201 and accepted.json()["too_long"] is True
    assert accepted.json()["max_parts"] == 4  # 264 UCS-2 characters at 67 a part


async def test_bad_notices_are_refused(client: httpx.AsyncClient, hub: Hub) -> None:
    headers = await admin(hub)
    for body, reason in (
        ({**OUTAGE, "texts": {"ru": "только по-русски"}}, "English"),
        ({**OUTAGE, "texts": {"en": "x", "fr": "y"}}, "unknown languages"),
        ({**OUTAGE, "scope_code": "b999"}, "unknown building"),
        ({**OUTAGE, "send_at": "2026-12-01T10:00:00"}, "timezone"),
        ({**OUTAGE, "topic": "gossip"}, "topic"),
    ):
        response = await client.post("/api/v1/notices", json=body, headers=headers)
        assert response.status_code == 422 and reason in response.text, body


async def test_a_resident_who_stops_after_queueing_is_not_sent_the_notice(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    notice_id = (
        await client.post("/api/v1/notices", json=OUTAGE, headers=await admin(hub))
    ).json()["id"]
    await send_notice({"hub": hub}, notice_id=notice_id)
    await intake.receive(hub=hub, message=inbound("STOP", sender=BUILDING_1[0]))
    target = next(r for r in await rows(hub) if r.address == BUILDING_1[0] and r.notice_id)
    outcome = await outbox_service.deliver(
        session_factory=hub.session_factory,
        channels=hub.channels,
        outbox_id=target.id,
        max_attempts=3,
        lease_seconds=60,
    )
    assert outcome.status == OutboxStatus.SUPPRESSED


async def test_status_notices_respect_unsubscribing_but_replies_still_go(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    headers = await admin(hub)
    opened = await intake.receive(
        hub=hub, message=inbound("Noisy neighbours at night", sender="+79005550177")
    )
    await intake.receive(hub=hub, message=inbound("unsubscribe status", sender="+79005550177"))
    await client.post(
        f"/api/v1/tickets/{opened.ticket_number}/status",
        json={"status": "in_progress"},
        headers=headers,
    )
    kinds = [r.kind for r in await rows(hub) if r.address == "+79005550177"]
    assert kinds == ["reply", "reply"]  # the ticket's reply and the unsubscribe confirmation


async def test_with_the_strict_setting_an_opted_out_resident_gets_no_status_notice(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    headers = await admin(hub)
    opened = await intake.receive(
        hub=hub, message=inbound("Noisy neighbours at night", sender="+79005550178")
    )
    await intake.receive(hub=hub, message=inbound("STOP", sender="+79005550178"))
    await client.post(
        f"/api/v1/tickets/{opened.ticket_number}/status",
        json={"status": "in_progress"},
        headers=headers,
    )
    notice = next(r for r in await rows(hub) if r.kind == "notice" and r.address == "+79005550178")
    outcome = await outbox_service.deliver(
        session_factory=hub.session_factory,
        channels=hub.channels,
        outbox_id=notice.id,
        max_attempts=3,
        lease_seconds=60,
        replies_after_opt_out=False,
    )
    assert outcome.status == OutboxStatus.SUPPRESSED
