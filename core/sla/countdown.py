"""How much time a ticket has left, counted the way its limit is: on the working calendar.

A request due Monday 10:00 read on Friday at 17:00 has one working hour left, not three
days: the countdown a staff member sees must be the one the escalation job will apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.routing.service import RoutingTable
from core.sla.calendar import LimitUnit
from core.tickets.enums import OPEN_STATUSES, TicketStatus
from core.tickets.models import Ticket

# Under this much working time left, a ticket is shown as due soon.
SOON = timedelta(hours=2)


@dataclass(frozen=True)
class Countdown:
    """Time left (negative once overdue), in working time where the limit is."""

    left: timedelta
    working: bool
    overdue: bool

    @property
    def state(self) -> str:
        """Returns "overdue", "soon" or "ok" (a CSS class and a word, never colour alone)."""
        if self.overdue:
            return "overdue"
        return "soon" if self.left <= SOON else "ok"


def countdown(ticket: Ticket, table: RoutingTable, now: datetime) -> Countdown | None:
    """Returns an open ticket's countdown to its due time, or None without a clock."""
    if ticket.due_at is None or TicketStatus(ticket.status) not in OPEN_STATUSES:
        return None
    policy = table.policies.get(ticket.sla_policy_id) if ticket.sla_policy_id else None
    calendar = table.calendars.get(policy.calendar_id) if policy is not None else None
    working = (
        calendar is not None and policy is not None and policy.unit != LimitUnit.CALENDAR_HOURS
    )
    due = ticket.due_at
    if working and calendar is not None:
        left = (
            calendar.working_time_between(now, due)
            if due > now
            else -calendar.working_time_between(due, now)
        )
    else:
        left = due - now
    return Countdown(left=left, working=working, overdue=ticket.overdue or due <= now)
