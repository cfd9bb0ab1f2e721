"""Territory lookups that more than one back office needs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.territory.models import Estate, EstateBuilding


async def estate_of_building(*, db_session: AsyncSession, building_id: int) -> Estate | None:
    """Returns the estate a building belongs to, or None."""
    return await db_session.scalar(
        select(Estate)
        .join(EstateBuilding, EstateBuilding.estate_id == Estate.id)
        .where(EstateBuilding.building_id == building_id)
    )
