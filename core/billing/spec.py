"""The billing back office, declared once (see core/backoffice.py)."""

from __future__ import annotations

from core.backoffice import BackOfficeSpec
from core.billing.card import card_lines
from core.billing.demo import load_billing_demo
from core.billing.imports import IMPORTERS
from core.billing.intake import handle_billing, read_billing_command
from core.billing.views import router
from core.routing.enums import BackOffice
from core.tickets.enums import TicketKind

SPEC = BackOfficeSpec(
    name=BackOffice.BILLING,
    kinds=(TicketKind.BILLING_INQUIRY, TicketKind.METER_READING),
    handler=handle_billing,
    command_reader=read_billing_command,
    importers=IMPORTERS,
    demo=load_billing_demo,
    # Last, as it always was: the demo's accounts keep their ids.
    demo_after=(BackOffice.VOTES,),
    routers=(router,),
    card=card_lines,
)
