"""REST API for residents: read one, and find one by phone or chat id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.service import Principal
from core.residents import service as residents_service
from core.residents.enums import ContactKind
from core.residents.models import Contact
from core.residents.schemas import ContactOut, ResidentOut, ResidentSearch, TicketBrief
from core.tickets.models import Ticket
from core.web.deps import STAFF_ROLES, DbId, HubDep, SessionDep, require_roles

router = APIRouter(prefix="/residents", tags=["residents"])

StaffDep = Annotated[Principal, Depends(require_roles(*STAFF_ROLES))]


async def _resident_view(
    db_session: AsyncSession, resident_id: int, principal: Principal
) -> ResidentOut:
    resident = await residents_service.get(db_session=db_session, resident_id=resident_id)
    if resident is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such resident")
    tickets = list(
        await db_session.scalars(
            principal.scope.apply(select(Ticket))
            .where(Ticket.resident_id == resident_id)
            .order_by(Ticket.id.desc())
            .limit(50)
        )
    )
    # Staff with a district or department scope see only residents who reached them.
    if principal.scope.kind != "city" and not tickets:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such resident")
    contacts = await db_session.scalars(
        select(Contact).where(Contact.resident_id == resident_id).order_by(Contact.id)
    )
    return ResidentOut(
        id=resident.id,
        display_name=resident.display_name,
        language=resident.language,
        created_at=resident.created_at,
        contacts=[ContactOut.model_validate(c) for c in contacts],
        tickets=[
            TicketBrief(
                number=t.public_number, status=t.status, summary=t.summary, created_at=t.created_at
            )
            for t in tickets
        ],
    )


@router.get("/{resident_id}", response_model=ResidentOut)
async def get_resident(
    resident_id: DbId, db_session: SessionDep, principal: StaffDep
) -> ResidentOut:
    """Returns a resident with their contacts and recent tickets."""
    return await _resident_view(db_session, resident_id, principal)


@router.post("/search", response_model=ResidentOut)
async def search_resident(
    body: ResidentSearch, hub: HubDep, db_session: SessionDep, principal: StaffDep
) -> ResidentOut:
    """Returns the resident behind a phone number or Telegram chat id."""
    if bool(body.phone) == bool(body.telegram_id):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "give exactly one of phone or telegram_id"
        )
    if body.phone:
        try:
            kind, value = (
                ContactKind.PHONE,
                residents_service.normalise_phone(body.phone, hub.settings.phone_region),
            )
        except residents_service.InvalidAddress as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    else:
        kind, value = ContactKind.TELEGRAM, (body.telegram_id or "").strip()
    contact = await residents_service.get_contact(db_session=db_session, kind=kind, value=value)
    if contact is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no resident with this contact")
    return await _resident_view(db_session, contact.resident_id, principal)
