"""Each agent's presence, capacity and teams."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

# A team is a back office's queue; an agent answers for one or more of them.
DEFAULT_TEAMS = ["general", "billing"]
DEFAULT_MAX_OPEN = 5


class AgentState(Base):
    __tablename__ = "agent_states"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    available: Mapped[bool] = mapped_column(default=False)
    # How many open conversations the queue gives this agent at most (waiting for the
    # resident does not count: nothing is asked of the agent until the resident answers).
    max_open: Mapped[int] = mapped_column(default=DEFAULT_MAX_OPEN)
    teams: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_TEAMS))
    # Round robin: the available agent served longest ago gets the next conversation.
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
