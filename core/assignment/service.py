"""The queue: new conversations go round-robin to available agents of the right team, up to
each agent's limit, oldest conversation first; what cannot be placed waits in its team's
queue until someone is free.

Fair both ways: the oldest waiting conversation is always the next one handed out (not the
newest, not a random one), and among agents who can take it the one served longest ago gets
it. Safe with several workers: the available agents' rows are locked for the round (on
PostgreSQL), and a ticket is taken with a conditional UPDATE, so it is never assigned twice
and no agent goes over their limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.assignment.models import DEFAULT_TEAMS, AgentState

__all__ = ["AgentState"]
from core.auth.enums import Role
from core.auth.models import StaffUser
from core.auth.service import principal_for
from core.db import utcnow
from core.tickets import service as tickets_service
from core.tickets.actors import Actor
from core.tickets.assign import ASSIGNABLE
from core.tickets.enums import OPEN_STATUSES, EventKind, TicketStatus
from core.tickets.models import Ticket
from core.tickets.service import Scope

_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")
# Statuses that take an agent's time (waiting for the resident does not).
BUSY = [str(s) for s in OPEN_STATUSES if s is not TicketStatus.ON_HOLD]
TEAMS = ("general", "billing", "votes", "dispatch", "complaints")
# Conversations looked at per round: the oldest ones, which are the ones handed out first.
ROUND = 500


@dataclass
class _Agent:
    state: AgentState
    scope: Scope
    load: int


async def agent_state(*, db_session: AsyncSession, staff_id: int) -> AgentState:
    """Returns the agent's presence row, made (away, default teams) on first use."""
    state = await db_session.get(AgentState, staff_id)
    if state is None:
        state = AgentState(
            staff_id=staff_id, available=False, teams=list(DEFAULT_TEAMS), changed_at=utcnow()
        )
        db_session.add(state)
        await db_session.flush()
    return state


async def set_availability(
    *, db_session: AsyncSession, staff_id: int, available: bool
) -> AgentState:
    """Marks the agent available (the queue may hand them conversations) or away."""
    state = await agent_state(db_session=db_session, staff_id=staff_id)
    state.available = available
    state.changed_at = utcnow()
    return state


async def _available_agents(db_session: AsyncSession) -> list[_Agent]:
    rows = (
        await db_session.execute(
            select(AgentState, StaffUser)
            .join(StaffUser, StaffUser.id == AgentState.staff_id)
            .where(
                AgentState.available.is_(True),
                StaffUser.active.is_(True),
                StaffUser.role.in_(sorted(ASSIGNABLE)),
            )
            .order_by(AgentState.staff_id)
            # One round at a time: a second worker waits here instead of racing for limits.
            .with_for_update(of=AgentState)
        )
    ).all()
    if not rows:
        return []
    loads = dict(
        (
            await db_session.execute(
                select(Ticket.assignee_id, func.count())
                .where(
                    Ticket.assignee_id.in_([state.staff_id for state, _ in rows]),
                    Ticket.status.in_(BUSY),
                )
                .group_by(Ticket.assignee_id)
            )
        ).all()
    )
    return [
        _Agent(state, principal_for(user).scope, loads.get(state.staff_id, 0))
        for state, user in rows
    ]


def _pick(agents: list[_Agent], ticket: Ticket) -> _Agent | None:
    """Returns the agent who gets ``ticket``: free, of its team, whose scope holds it, and
    served longest ago (never served first)."""
    fit = [
        a
        for a in agents
        if ticket.back_office in a.state.teams
        and a.load < a.state.max_open
        and a.scope.allows(ticket)
    ]
    if not fit:
        return None
    return min(
        fit,
        key=lambda a: (
            a.state.last_assigned_at is not None,
            a.state.last_assigned_at or 0,
            a.state.staff_id,
        ),
    )


def waiting(query: _Query) -> _Query:
    """Restricts a ticket query to conversations waiting for an agent."""
    return query.where(
        Ticket.assignee_id.is_(None),
        Ticket.department_id.is_(None),
        Ticket.status.in_([str(TicketStatus.NEW), str(TicketStatus.REOPENED)]),
    )


async def distribute(
    *, db_session: AsyncSession, now: datetime | None = None
) -> list[tuple[int, int]]:
    """Hands waiting conversations to available agents; returns (ticket id, staff id) pairs."""
    agents = await _available_agents(db_session)
    if not agents:
        return []
    teams = sorted({team for agent in agents for team in agent.state.teams})
    tickets = await db_session.scalars(
        waiting(select(Ticket))
        .where(Ticket.back_office.in_(teams))
        .order_by(Ticket.created_at, Ticket.id)
        .limit(ROUND)
    )
    moment = now or utcnow()
    placed: list[tuple[int, int]] = []
    for ticket in list(tickets):
        agent = _pick(agents, ticket)
        if agent is None:
            continue
        taken = await db_session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id, Ticket.assignee_id.is_(None))
            .values(assignee_id=agent.state.staff_id, updated_at=moment)
            .execution_options(synchronize_session=False)
        )
        if not taken.rowcount:  # type: ignore[attr-defined]
            continue  # someone took it by hand a moment ago
        await db_session.refresh(ticket)
        tickets_service.add_event(
            db_session=db_session,
            ticket_id=ticket.id,
            kind=EventKind.ASSIGNED,
            actor=Actor.SYSTEM,
            assignee_id=agent.state.staff_id,
            auto=True,
        )
        tickets_service.change_status(
            db_session=db_session, ticket=ticket, status=TicketStatus.ASSIGNED, actor=Actor.SYSTEM
        )
        agent.load += 1
        agent.state.last_assigned_at = moment
        placed.append((ticket.id, agent.state.staff_id))
    return placed


@dataclass(frozen=True)
class QueueCount:
    team: str
    waiting: int
    oldest: datetime | None


async def queue_counts(*, db_session: AsyncSession, scope: Scope) -> list[QueueCount]:
    """Returns, per team, how many conversations wait in the caller's scope and since when."""
    rows = (
        await db_session.execute(
            scope.apply(
                waiting(select(Ticket.back_office, func.count(), func.min(Ticket.created_at)))
            ).group_by(Ticket.back_office)
        )
    ).all()
    found = {office: (count, oldest) for office, count, oldest in rows}
    return [QueueCount(team, *found.get(team, (0, None))) for team in TEAMS]


async def team_queue(
    *, db_session: AsyncSession, scope: Scope, team: str, limit: int = 50
) -> list[Ticket]:
    """Returns a team's waiting conversations in the order they will be handed out."""
    return list(
        await db_session.scalars(
            scope.apply(waiting(select(Ticket)).where(Ticket.back_office == team))
            .order_by(Ticket.created_at, Ticket.id)
            .limit(limit)
        )
    )


async def teams_of(*, db_session: AsyncSession, staff_id: int) -> list[str]:
    """Returns the teams the staff member answers for (none if they never set presence)."""
    state = await db_session.get(AgentState, staff_id)
    return list(state.teams) if state is not None else []


def role_has_presence(role: Role) -> bool:
    """Whether the role works the queue (and so has an available / away switch)."""
    return role in ASSIGNABLE
