"""The teams a staff member answers for (the "my team" view and the presence switch)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


async def teams_for(*, db_session: AsyncSession, staff_id: int) -> tuple[str, ...]:
    """Returns the back offices whose queues the staff member works."""
    return ()
