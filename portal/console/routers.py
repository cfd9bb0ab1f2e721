"""The console's routers, one per screen family; each back office's screens add theirs."""

from __future__ import annotations

from fastapi import APIRouter

from portal.console.ballot_form import router as ballot_form_router
from portal.console.billing import router as billing_router
from portal.console.complaints import router as complaints_router
from portal.console.dispatch import router as dispatch_router
from portal.console.inbox import router as inbox_router
from portal.console.people import router as people_router
from portal.console.session_views import router as session_router
from portal.console.teams import router as teams_router
from portal.console.ticket import router as ticket_router
from portal.console.ticket_actions import router as ticket_actions_router
from portal.console.votes import router as votes_router

ROUTERS: list[APIRouter] = [
    session_router,
    inbox_router,
    ticket_router,
    ticket_actions_router,
    people_router,
    teams_router,
    dispatch_router,
    complaints_router,
    # Before the ballots' own routes: /console/ballots/new is not a ballot id.
    ballot_form_router,
    votes_router,
    billing_router,
]
