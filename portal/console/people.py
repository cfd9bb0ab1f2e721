"""Search (by phone, account, request number, address), the resident card, canned replies.

A phone is personal data: the search form posts it, so it never lands in a URL, a log
line or the browser's history.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core.auth.enums import Role
from core.i18n import gettext
from core.tickets import canned as canned_service
from core.tickets.card import resident_card, search
from core.web.deps import HubDep, SessionDep
from portal.console.auth import NotFound, Staff, allow
from portal.console.inbox import Lookups
from portal.console.nav import TICKET_ROLES
from portal.console.pages import fragment, page

router = APIRouter(prefix="/console", include_in_schema=False)
SearcherDep = Annotated[Staff, Depends(allow(*TICKET_ROLES))]
AdminDep = Annotated[Staff, Depends(allow(Role.SUPERVISOR, Role.ADMIN))]
ResidentId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/search", response_class=HTMLResponse)
async def search_form(request: Request, staff: SearcherDep) -> Response:
    """The search box."""
    return page(request, staff, "console/search.html", query="", results=None)


@router.post("/search", response_class=HTMLResponse)
async def run_search(
    request: Request,
    hub: HubDep,
    db_session: SessionDep,
    staff: SearcherDep,
    query: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Finds requests and residents in the staff member's scope."""
    if len(query.strip()) < 3:
        error = gettext(staff.language, "Type at least 3 characters.")
        return page(
            request,
            staff,
            "console/search.html",
            query=query,
            results=None,
            error=error,
            status_code=422,
        )
    results = await search(
        db_session=db_session,
        scope=staff.principal.scope,
        query=query,
        region=hub.settings.phone_region,
    )
    lookups = await Lookups.cached(hub, db_session, staff.language)
    return page(
        request, staff, "console/search.html", query=query, results=results, lookups=lookups
    )


@router.get("/residents/{resident_id}/card", response_class=HTMLResponse)
async def card(
    request: Request,
    resident_id: ResidentId,
    hub: HubDep,
    db_session: SessionDep,
    staff: SearcherDep,
) -> Response:
    """The resident card: contacts on every channel, premises, balance, open requests and
    ballots (a fragment: the ticket page and the call pop-up load it)."""
    found = await resident_card(
        db_session=db_session,
        offices=hub.offices,
        settings=hub.settings,
        scope=staff.principal.scope,
        resident_id=resident_id,
        language=staff.language,
    )
    if found is None:
        raise NotFound(staff.language)
    return fragment(request, staff, "console/_resident_card.html", card=found)


@router.get("/canned", response_class=HTMLResponse)
async def canned_page(request: Request, db_session: SessionDep, staff: AdminDep) -> Response:
    """Canned responses per language, for supervisors and admins to keep."""
    rows = await canned_service.list_canned(db_session=db_session, include_inactive=True)
    return page(request, staff, "console/canned.html", rows=rows)


@router.post("/canned", response_class=HTMLResponse)
async def save_canned(
    request: Request,
    db_session: SessionDep,
    staff: AdminDep,
    language: Annotated[str, Form(max_length=8)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    body: Annotated[str, Form(max_length=2000)] = "",
    canned_id: Annotated[str, Form(max_length=12)] = "",
    active: Annotated[str, Form(max_length=8)] = "yes",
) -> Response:
    """Adds a canned response, or changes (or retires) one."""
    try:
        if canned_id.isdigit():
            row = await canned_service.update(
                db_session=db_session,
                canned_id=int(canned_id),
                language=language,
                title=title,
                body=body,
                active=active == "yes",
            )
            if row is None:
                raise NotFound(staff.language)
        else:
            await canned_service.create(
                db_session=db_session, language=language, title=title, body=body
            )
    except canned_service.CannedRefused:
        rows = await canned_service.list_canned(db_session=db_session, include_inactive=True)
        error = gettext(staff.language, "Choose a language and fill in the title and the text.")
        return page(request, staff, "console/canned.html", rows=rows, error=error, status_code=422)
    await db_session.commit()
    return RedirectResponse("/console/canned", 303)
