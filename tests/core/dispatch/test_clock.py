"""The handling clock on the demo city's calendar (Moscow, 9:00–18:00, Mon–Fri, Russian
public holidays): it starts at dispatch, skips nights, weekends and holidays, stops while
parked and grows with an approved extension."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.auth.enums import Role, ScopeKind
from core.auth.service import Principal
from core.db import transaction
from core.dispatch import actions
from core.dispatch import service as dispatch_service
from core.dispatch.actions import Context
from core.dispatch.enums import ExtensionStatus
from core.runtime import Hub
from core.tickets.service import Scope
from tests.core.dispatch.factories import act_at, case_of, report

MSK = ZoneInfo("Europe/Moscow")


def msk(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=MSK).astimezone(UTC)  # type: ignore[misc]


async def _dispatched(hub: Hub, text: str, at: datetime) -> int:
    received = await report(hub, text)
    ticket_id = received.ticket_id or 0
    await act_at(hub, ticket_id, at, action="register")
    return ticket_id


async def test_four_working_hours_from_friday_afternoon_end_on_monday(hub: Hub) -> None:
    ticket_id = await _dispatched(hub, "Мусор", msk(2026, 11, 27, 16, 0))  # a Friday
    ticket, case = await case_of(hub, ticket_id)
    # 16:00–18:00 on Friday, then 9:00–11:00 on Monday.
    assert case.handle_due_at == msk(2026, 11, 30, 11, 0)
    assert ticket.due_at == case.handle_due_at and case.dispatched_at == msk(2026, 11, 27, 16)


async def test_the_new_year_holidays_do_not_count(hub: Hub) -> None:
    ticket_id = await _dispatched(hub, "Мусор", msk(2026, 12, 30, 17, 0))
    _ticket, case = await case_of(hub, ticket_id)
    # One hour on 30 December; 31 December to 8 January are holidays, 9–10 a weekend.
    assert case.handle_due_at == msk(2027, 1, 11, 12, 0)


async def test_calendar_hour_limits_run_through_the_weekend(hub: Hub) -> None:
    ticket_id = await _dispatched(hub, "Прорыв трубы, вода бьёт", msk(2026, 11, 28, 10, 0))
    _ticket, case = await case_of(hub, ticket_id)
    # A burst pipe is urgent by default: its urgent limit, 1 hour, runs on a Saturday too.
    assert case.urgency == "urgent" and case.handle_due_at == msk(2026, 11, 28, 11, 0)


async def test_parking_keeps_the_time_left_and_unparking_restarts_it(hub: Hub) -> None:
    ticket_id = await _dispatched(hub, "Мусор", msk(2026, 11, 27, 16, 0))
    await act_at(
        hub, ticket_id, msk(2026, 11, 27, 17, 0), action="park", reason="Техника в ремонте"
    )
    ticket, case = await case_of(hub, ticket_id)
    assert case.remaining_seconds == 3 * 3600  # Friday 17–18 and Monday 9–11
    # The park's own clock: 30 working days by default.
    assert ticket.due_at == case.park_due_at and case.park_due_at is not None
    assert case.park_due_at > msk(2027, 1, 1)

    await act_at(hub, ticket_id, msk(2026, 12, 1, 10, 0), action="unpark")  # a Tuesday
    ticket, case = await case_of(hub, ticket_id)
    assert case.handle_due_at == msk(2026, 12, 1, 13, 0) and ticket.due_at == case.handle_due_at


async def test_an_approved_extension_adds_working_days_and_late_reports_count_as_late(
    hub: Hub,
) -> None:
    ticket_id = await _dispatched(hub, "Мусор", msk(2026, 11, 27, 16, 0))
    result = await act_at(
        hub,
        ticket_id,
        msk(2026, 11, 30, 10, 0),
        role=Role.DEPARTMENT,
        action="request_extension",
        reason="Нужен самосвал",
        amount=1,
        unit="working_days",
    )
    assert result.extension is not None
    routing = await hub.routing.get()
    routing = await hub.routing.get()
    async with transaction(hub.session_factory) as session:
        found = await dispatch_service.get(db_session=session, ticket_id=ticket_id)
        assert found is not None
        ticket, case = found
        extension = await session.get(type(result.extension), result.extension.id)
        assert extension is not None
        principal = Principal("staff:9", Role.SUPERVISOR, Scope(ScopeKind.CITY))
        ctx = Context(principal, routing, hub.settings, msk(2026, 11, 30, 10, 30))
        await actions.decide_extension(
            db_session=session,
            ticket=ticket,
            case=case,
            extension=extension,
            approve=True,
            note=None,
            ctx=ctx,
        )
        assert extension.status == ExtensionStatus.APPROVED
    _ticket, case = await case_of(hub, ticket_id)
    # Monday 11:00 + one working day (9 hours) = Tuesday 11:00.
    assert case.handle_due_at == msk(2026, 12, 1, 11, 0) and case.extensions == 1

    await act_at(hub, ticket_id, msk(2026, 12, 1, 11, 30), action="report", reason="Вывезли")
    _ticket, case = await case_of(hub, ticket_id)
    assert case.handled_on_time is False
