"""The teams a staff member answers for (the "my team" view) and their presence switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from core.assignment import service as assignment_service
from core.web.deps import SessionDep
from portal.console.auth import NotAllowed, StaffDep

router = APIRouter(prefix="/console", include_in_schema=False)


async def teams_for(*, db_session: AsyncSession, staff_id: int) -> tuple[str, ...]:
    """Returns the back offices whose queues the staff member works."""
    return tuple(await assignment_service.teams_of(db_session=db_session, staff_id=staff_id))


@router.post("/presence")
async def presence(
    request: Request,
    db_session: SessionDep,
    staff: StaffDep,
    available: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Available (the queue hands me conversations at once) or away."""
    if staff.available is None:
        raise NotAllowed(staff.language)
    await assignment_service.set_availability(
        db_session=db_session, staff_id=staff.id, available=available == "yes"
    )
    if available == "yes":
        await assignment_service.distribute(db_session=db_session)
    await db_session.commit()
    back = request.headers.get("referer", "")
    target = back if back.startswith(str(request.base_url) + "console") else "/console"
    return RedirectResponse(target, 303)
