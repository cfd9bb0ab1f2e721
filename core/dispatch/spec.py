"""The city case dispatch back office, declared once (see core/backoffice.py)."""

from __future__ import annotations

from core.backoffice import BackOfficeSpec
from core.dispatch.demo import load_dispatch_demo
from core.dispatch.imports import IMPORTERS
from core.dispatch.intake import add_to_report, take_report
from core.dispatch.jobs import CRON_JOBS, JOBS
from core.dispatch.views import router
from core.routing.enums import BackOffice
from core.tickets.enums import TicketKind

SPEC = BackOfficeSpec(
    name=BackOffice.DISPATCH,
    kinds=(TicketKind.CITY_CASE,),
    handler=take_report,
    continuation=add_to_report,
    # Dispatch puts cases on hold for its own reasons (returned, parked, merged); it never
    # waits on the resident there, so a later message from them is not an answer.
    importers=IMPORTERS,
    jobs=JOBS,
    cron_jobs=CRON_JOBS,
    demo=load_dispatch_demo,
    routers=(router,),
)
