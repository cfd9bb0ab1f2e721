"""The owners' votes back office, declared once (see core/backoffice.py)."""

from __future__ import annotations

from core.backoffice import BackOfficeSpec
from core.routing.enums import BackOffice
from core.tickets.enums import TicketKind
from core.votes.card import card_lines
from core.votes.demo import load_votes_demo
from core.votes.intake import read_ballot_reply, take_reply
from core.votes.jobs import CRON_JOBS
from core.votes.register import FINISHERS, IMPORTERS
from core.votes.views import router

SPEC = BackOfficeSpec(
    name=BackOffice.VOTES,
    kinds=(TicketKind.VOTE,),
    handler=take_reply,
    conversation_reader=read_ballot_reply,
    importers=IMPORTERS,
    finishers=FINISHERS,
    cron_jobs=CRON_JOBS,
    demo=load_votes_demo,
    # Its register and ballots are built on complaints' estate and owners' committee.
    demo_after=(BackOffice.COMPLAINTS,),
    routers=(router,),
    card=card_lines,
)
