"""A complaint's whole way: routed through the contract register to the company, answered,
confirmed or disputed by the resident, inspected and rectified under the authority; the
triage for estates nobody serves; the deadlines the sweep enforces."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from core.auth.enums import Role
from core.complaints.enums import ScoreStatus, Stage
from core.complaints.models import Inspection, PropertyCompany, RectificationOrder, ScoreEvent
from core.complaints.service import calendar_of
from core.outbox.models import OutboxMessage
from core.runtime import Hub
from core.sla.calendar import LimitUnit
from core.tickets.enums import TicketStatus
from core.tickets.models import Ticket
from tests.core.complaints.factories import (
    company_key,
    complain,
    complaint_of,
    resident_of,
    sweep_at,
)
from tests.core.dispatch.factories import staff_key

API = "/api/v1/complaints"


async def outbox_to(hub: Hub, address: str) -> list[str]:
    async with hub.session_factory() as session:
        rows = await session.scalars(
            select(OutboxMessage.text)
            .where(OutboxMessage.address == address)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def test_a_complaint_goes_to_the_company_under_contract_with_a_deadline(hub: Hub) -> None:
    result = await complain(hub, "Не работает лифт в подъезде", sender=resident_of(1))

    ticket, complaint = await complaint_of(hub, result.ticket_id)
    async with hub.session_factory() as session:
        uyut = await session.scalar(select(PropertyCompany).where(PropertyCompany.code == "uyut"))
    assert uyut is not None
    assert complaint.stage == Stage.WITH_COMPANY and complaint.company_id == uyut.id
    assert ticket.status == TicketStatus.ASSIGNED
    # Five working days on the city calendar from the moment it came in.
    calendar = calendar_of(await hub.routing.get())
    assert calendar is not None
    assert complaint.respond_by == calendar.due_at(ticket.created_at, 5, LimitUnit.WORKING_DAYS)
    assert ticket.due_at == complaint.respond_by
    [reply] = result.replies
    assert "УК «Уют»" in reply.text and result.ticket_number in reply.text
    # The company hears of it by SMS at its registered phone, never the resident's number.
    [notice] = await outbox_to(hub, "+79005550901")
    assert result.ticket_number in notice and "Речные сады" in notice
    assert resident_of(1) not in notice


async def test_answer_then_the_resident_confirms_by_sms(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    result = await complain(hub, "Грязно в подъезде, не убирают", sender=resident_of(2, 3))
    number = result.ticket_number

    answered = await client.post(
        f"{API}/complaints/{number}/answer",
        json={"text": "Уборку провели 12 ноября, график вывешен."},
        headers=await company_key(hub, "uyut"),
    )

    assert answered.status_code == 200, answered.text
    assert answered.json()["stage"] == "answered" and answered.json()["status"] == "on_hold"
    told = await outbox_to(hub, resident_of(2, 3))
    assert "Уборку провели 12 ноября" in told[-1] and "ДА" in told[-1]

    reply = await complain(hub, "Да, спасибо", sender=resident_of(2, 3))

    assert reply.ticket_number == number
    assert "закрыта" in reply.replies[0].text
    ticket, complaint = await complaint_of(hub, result.ticket_id)
    assert complaint.stage == Stage.RESOLVED and complaint.verdict == "confirmed"
    assert ticket.status == TicketStatus.CLOSED


async def test_disputed_complaint_is_inspected_upheld_and_rectified(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    resident = resident_of(3)
    result = await complain(hub, "Лифт не работает вторую неделю", sender=resident)
    number = result.ticket_number
    company = await company_key(hub, "uyut")
    inspector = await staff_key(hub, Role.INSPECTOR)
    await client.post(
        f"{API}/complaints/{number}/answer", json={"text": "Лифт починили."}, headers=company
    )

    disputed = await complain(hub, "Нет, лифт опять стоит", sender=resident)

    assert "инспекция проверит" in disputed.replies[0].text
    ticket, complaint = await complaint_of(hub, result.ticket_id)
    assert complaint.stage == Stage.AUTHORITY and complaint.escalation == "disputed"
    assert ticket.status == TicketStatus.IN_PROGRESS

    found = await client.post(
        f"{API}/complaints/{number}/finding",
        json={
            "upheld": True,
            "note": "Лифт не работает, акт осмотра №15.",
            "order": "Восстановить работу лифта",
            "order_days": 3,
        },
        headers=inspector,
    )

    assert found.status_code == 200, found.text
    body = found.json()
    assert body["stage"] == "rectifying" and body["upheld"] is True
    [order] = body["orders"]
    async with hub.session_factory() as session:
        inspection = await session.scalar(
            select(Inspection).where(Inspection.ticket_id == result.ticket_id)
        )
        event = await session.scalar(
            select(ScoreEvent).where(ScoreEvent.ticket_id == result.ticket_id)
        )
    assert inspection is not None and inspection.status == "done" and inspection.passed is False
    # An upheld complaint: 2 points × 1.000 (residential; uyut serves 18,500.5 m² today),
    # pending until the appeal period ends.
    assert event is not None and event.status == ScoreStatus.PENDING
    assert str(event.points) == "2.00" and event.kind == "upheld_complaint"
    assert "устранить нарушение до" in (await outbox_to(hub, resident))[-1]

    reported = await client.post(
        f"{API}/orders/{order['id']}/report",
        json={"text": "Заменили плату лифта."},
        headers=company,
    )
    assert reported.status_code == 200 and reported.json()["status"] == "reported"
    checked = await client.post(
        f"{API}/orders/{order['id']}/check", json={"accepted": True}, headers=inspector
    )

    assert checked.status_code == 200 and checked.json()["status"] == "done"
    ticket, complaint = await complaint_of(hub, result.ticket_id)
    assert complaint.stage == Stage.RESOLVED and ticket.status == TicketStatus.CLOSED
    assert "устранено" in (await outbox_to(hub, resident))[-1]


async def test_not_upheld_finding_dismisses_and_tells_the_resident(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    resident = resident_of(4)
    result = await complain(hub, "В подъезде грязно", sender=resident)
    await client.post(
        f"{API}/complaints/{result.ticket_number}/answer",
        json={"text": "Убрано."},
        headers=await company_key(hub, "uyut"),
    )
    await complain(hub, "нет", sender=resident)

    found = await client.post(
        f"{API}/complaints/{result.ticket_number}/finding",
        json={"upheld": False, "note": "Подъезд чистый, фото в акте."},
        headers=await staff_key(hub, Role.INSPECTOR),
    )

    assert found.status_code == 200 and found.json()["stage"] == "dismissed"
    assert "необоснованной: Подъезд чистый" in (await outbox_to(hub, resident))[-1]
    async with hub.session_factory() as session:
        assert await session.scalar(select(ScoreEvent.id)) is None


async def test_an_unclear_reply_asks_again_and_changes_nothing(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    resident = resident_of(5)
    result = await complain(hub, "Не работает лифт", sender=resident)
    await client.post(
        f"{API}/complaints/{result.ticket_number}/answer",
        json={"text": "Починили."},
        headers=await company_key(hub, "uyut"),
    )

    reply = await complain(hub, "Посмотрю вечером", sender=resident)

    assert "Ответьте ДА или НЕТ" in reply.replies[0].text
    _, complaint = await complaint_of(hub, result.ticket_id)
    assert complaint.stage == Stage.ANSWERED and complaint.verdict is None


async def test_an_ended_contract_sends_the_complaint_to_triage_then_routed_by_hand(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    # b011 is in Old Mill, whose contract with uyut ended on 2025-12-31.
    result = await complain(hub, "Не работает лифт", sender=resident_of(11))

    ticket, complaint = await complaint_of(hub, result.ticket_id)
    assert complaint.stage == Stage.TRIAGE and complaint.triage_reason == "no_contract"
    assert complaint.company_id is None and ticket.department_id is not None
    assert await outbox_to(hub, "+79005550901") == []

    routed = await client.post(
        f"{API}/complaints/{result.ticket_number}/route",
        json={"estate": "old_mill", "company": "comfort"},
        headers=await staff_key(hub, Role.INSPECTOR),
    )

    assert routed.status_code == 200, routed.text
    assert routed.json()["stage"] == "with_company" and routed.json()["company"] == "comfort"
    assert len(await outbox_to(hub, "+79005550902")) == 1


async def test_no_estate_goes_to_triage_and_a_company_cannot_see_it(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    # b014 belongs to no estate.
    result = await complain(hub, "Грязный подъезд", sender=resident_of(14))

    _, complaint = await complaint_of(hub, result.ticket_id)
    assert complaint.stage == Stage.TRIAGE and complaint.triage_reason == "no_estate"
    seen = await client.get(
        f"{API}/complaints/{result.ticket_number}", headers=await company_key(hub, "uyut")
    )
    assert seen.status_code == 404
    listed = await client.get(f"{API}/complaints", headers=await staff_key(hub, Role.INSPECTOR))
    assert [c["number"] for c in listed.json()["items"]] == [result.ticket_number]


async def test_a_company_answers_only_its_own_and_only_while_it_is_its_turn(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    result = await complain(hub, "Лифт не работает", sender=resident_of(6))  # north_park
    number = result.ticket_number

    other = await client.post(
        f"{API}/complaints/{number}/answer",
        json={"text": "Не наш дом."},
        headers=await company_key(hub, "uyut"),
    )
    agent = await client.post(
        f"{API}/complaints/{number}/answer",
        json={"text": "x"},
        headers=await staff_key(hub, Role.AGENT),
    )
    empty = await client.post(
        f"{API}/complaints/{number}/answer",
        json={"text": ""},
        headers=await company_key(hub, "comfort"),
    )
    verdict_early = await client.post(
        f"{API}/complaints/{number}/verdict",
        json={"verdict": "confirmed"},
        headers=await staff_key(hub, Role.AGENT),
    )

    assert other.status_code == 404
    assert agent.status_code == 403
    assert empty.status_code == 422
    assert verdict_early.status_code == 409 and "not waiting for a verdict" in verdict_early.text
    _, complaint = await complaint_of(hub, result.ticket_id)
    assert complaint.stage == Stage.WITH_COMPANY and complaint.answer is None


async def test_the_call_centre_records_a_dispute_for_a_resident_who_phoned(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    result = await complain(hub, "Лифт не работает", sender=resident_of(7))
    number = result.ticket_number
    comfort = await company_key(hub, "comfort")
    await client.post(f"{API}/complaints/{number}/answer", json={"text": "Ок."}, headers=comfort)

    by_company = await client.post(
        f"{API}/complaints/{number}/verdict", json={"verdict": "confirmed"}, headers=comfort
    )
    by_agent = await client.post(
        f"{API}/complaints/{number}/verdict",
        json={"verdict": "disputed", "reason": "Звонила: лифт не работает."},
        headers=await staff_key(hub, Role.AGENT),
    )

    assert by_company.status_code == 403
    assert by_agent.status_code == 200 and by_agent.json()["stage"] == "authority"
    texts = [m["text"] for m in by_agent.json()["messages"]]
    assert "Звонила: лифт не работает." in texts


async def test_the_sweep_escalates_an_unanswered_complaint_and_closes_a_silent_one(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    late = await complain(hub, "Лифт не работает", sender=resident_of(8))
    silent = await complain(hub, "Грязно в подъезде", sender=resident_of(9))
    await client.post(
        f"{API}/complaints/{silent.ticket_number}/answer",
        json={"text": "Убрали."},
        headers=await company_key(hub, "comfort"),
    )
    ticket, complaint = await complaint_of(hub, late.ticket_id)
    assert complaint.respond_by is not None

    before = await sweep_at(hub, complaint.respond_by - timedelta(minutes=1))
    assert before.escalated == [] and before.confirmed == []

    after = await sweep_at(hub, complaint.respond_by + timedelta(days=7, minutes=1))

    assert after.escalated == [late.ticket_id]
    assert after.confirmed == [silent.ticket_id]
    _, complaint = await complaint_of(hub, late.ticket_id)
    assert complaint.stage == Stage.AUTHORITY and complaint.escalation == "overdue"
    _, quiet = await complaint_of(hub, silent.ticket_id)
    assert quiet.stage == Stage.RESOLVED and quiet.verdict == "confirmed"
    # Sweeping again finds nothing more to do.
    again = await sweep_at(hub, complaint.respond_by + timedelta(days=8))  # type: ignore[operator]
    assert again.escalated == [] and again.confirmed == []
    async with hub.session_factory() as session:
        planned = list(await session.scalars(select(Inspection.ticket_id)))
        orders = list(await session.scalars(select(RectificationOrder.id)))
    assert planned == [late.ticket_id] and orders == []


async def test_the_generic_status_route_refuses_a_complaint(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    result = await complain(hub, "Лифт не работает", sender=resident_of(10))

    moved = await client.post(
        f"/api/v1/tickets/{result.ticket_number}/status",
        json={"status": "closed", "reason": "done"},
        headers=await staff_key(hub, Role.ADMIN),
    )

    assert moved.status_code == 409 and "its own steps" in moved.text
    ticket, complaint = await complaint_of(hub, result.ticket_id)
    assert ticket.status == TicketStatus.ASSIGNED and complaint.stage == Stage.WITH_COMPANY


async def test_another_matter_while_a_verdict_is_awaited_is_a_new_request(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    resident = resident_of(2, 5)
    result = await complain(hub, "Не работает лифт", sender=resident)
    await client.post(
        f"{API}/complaints/{result.ticket_number}/answer",
        json={"text": "Починили."},
        headers=await company_key(hub, "uyut"),
    )

    other = await complain(hub, "Мусор вывалили у рынка", sender=resident)

    assert other.ticket_number != result.ticket_number
    async with hub.session_factory() as session:
        new = await session.get(Ticket, other.ticket_id)
    assert new is not None and new.kind == "city_case"
    _, complaint = await complaint_of(hub, result.ticket_id)
    assert complaint.stage == Stage.ANSWERED and complaint.verdict is None
