"""REST API for the queue: my presence, an agent's capacity and teams, the queues' sizes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from core.assignment import service
from core.auth.enums import Role
from core.auth.models import StaffUser
from core.auth.service import Principal
from core.tickets.actors import Actor
from core.tickets.enums import ActorKind
from core.web.deps import ADMIN_ROLES, DbId, SessionDep, require_roles

router = APIRouter(tags=["assignment"])
Team = Annotated[str, Field(pattern="^(" + "|".join(service.TEAMS) + ")$")]
AgentDep = Annotated[
    Principal, Depends(require_roles(Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN))
]
SupervisorDep = Annotated[Principal, Depends(require_roles(*ADMIN_ROLES))]


class Presence(BaseModel):
    available: bool


class AgentOut(BaseModel):
    staff_id: int
    available: bool
    max_open: int
    teams: list[str]


class AgentSettings(BaseModel):
    max_open: int = Field(ge=0, le=100)
    teams: list[Team] = Field(min_length=1, max_length=len(service.TEAMS))


class QueueOut(BaseModel):
    team: str
    waiting: int
    oldest: datetime | None


def _me(principal: Principal) -> int:
    actor = Actor.parse(principal.actor)
    if actor.kind is not ActorKind.STAFF or actor.id is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "presence is a staff member's own")
    return actor.id


def _out(state: service.AgentState) -> AgentOut:
    return AgentOut(
        staff_id=state.staff_id,
        available=state.available,
        max_open=state.max_open,
        teams=list(state.teams),
    )


@router.get("/agents/me", response_model=AgentOut)
async def my_presence(db_session: SessionDep, principal: AgentDep) -> AgentOut:
    """Whether I am available for the queue, my limit and my teams."""
    state = await service.agent_state(db_session=db_session, staff_id=_me(principal))
    out = _out(state)
    await db_session.commit()
    return out


@router.put("/agents/me", response_model=AgentOut)
async def set_my_presence(body: Presence, db_session: SessionDep, principal: AgentDep) -> AgentOut:
    """Sets me available (the queue hands me conversations at once) or away."""
    state = await service.set_availability(
        db_session=db_session, staff_id=_me(principal), available=body.available
    )
    if body.available:
        await service.distribute(db_session=db_session)
    out = _out(state)
    await db_session.commit()
    return out


@router.put("/agents/{staff_id}", response_model=AgentOut)
async def set_agent(
    staff_id: DbId, body: AgentSettings, db_session: SessionDep, principal: SupervisorDep
) -> AgentOut:
    """A supervisor sets an agent's limit and teams."""
    if await db_session.get(StaffUser, staff_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such staff member")
    state = await service.agent_state(db_session=db_session, staff_id=staff_id)
    state.max_open, state.teams = body.max_open, sorted(set(body.teams))
    out = _out(state)
    await db_session.commit()
    return out


@router.get("/queues", response_model=list[QueueOut])
async def queues(db_session: SessionDep, principal: AgentDep) -> list[QueueOut]:
    """How many conversations wait per team in my area, and the oldest's arrival."""
    counts = await service.queue_counts(db_session=db_session, scope=principal.scope)
    return [QueueOut(team=c.team, waiting=c.waiting, oldest=c.oldest) for c in counts]
