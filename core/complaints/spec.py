"""The property complaints back office, declared once (see core/backoffice.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.backoffice import BackOfficeSpec
from core.complaints.demo import load_complaints_demo
from core.complaints.enums import Stage
from core.complaints.imports import IMPORTERS
from core.complaints.intake import follow_up, take_complaint
from core.complaints.jobs import CRON_JOBS
from core.complaints.models import Complaint
from core.complaints.register_views import router as registers_router
from core.complaints.views import router
from core.routing.enums import BackOffice
from core.tickets.enums import TicketKind
from core.tickets.models import Ticket


async def awaits_verdict(*, db_session: AsyncSession, ticket: Ticket) -> bool:
    """Whether the company answered and the resident was asked whether it is solved."""
    stage = await db_session.scalar(select(Complaint.stage).where(Complaint.ticket_id == ticket.id))
    return stage == Stage.ANSWERED


SPEC = BackOfficeSpec(
    name=BackOffice.COMPLAINTS,
    kinds=(TicketKind.PROPERTY_COMPLAINT,),
    handler=take_complaint,
    continuation=follow_up,
    awaits_answer=awaits_verdict,
    importers=IMPORTERS,
    cron_jobs=CRON_JOBS,
    demo=load_complaints_demo,
    # After dispatch only so the demo keeps the ids it always had.
    demo_after=(BackOffice.DISPATCH,),
    routers=(router, registers_router),
)
