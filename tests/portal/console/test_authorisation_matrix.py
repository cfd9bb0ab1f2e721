# ruff: noqa: E501 (the matrix is a table: one row per route, one column per role)
"""The authorisation matrix: every demo role against every console route and action, each
cell asserted: "ok" (through the role gate and inside the scope: a page, a redirect, or
the form's own 409/422), 403 (the role may not) or 404 (outside the scope, or no such
thing). A console route missing from the matrix fails the test, so none is forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, update

from core.db import transaction
from core.runtime import Hub
from core.territory.models import District
from core.tickets.models import Ticket
from core.tickets.numbers import parse_public_number
from core.votes.enums import BallotStatus
from core.votes.models import Ballot
from portal.app import create_app
from tests.core.billing.factories import setup_billing
from tests.core.complaints.factories import complain, resident_of
from tests.core.dispatch.factories import report
from tests.factories import inbound
from tests.portal.console.helpers import console_login

# Columns, in this order: the demo logins.
# fmt: off
ROLES = (
    "admin", "agent", "north", "dispatcher", "sanitation",
    "inspector", "supervisor", "company", "committee", "billing",
)
# fmt: on
# Routes anyone may open: the login page itself.
PUBLIC = {("GET", "/console/login"), ("POST", "/console/login")}


@dataclass(frozen=True)
class Cell:
    method: str
    route: str
    # One expectation per role in ROLES: "ok", 403 or 404, separated by spaces.
    expected: str
    form: tuple[tuple[str, str], ...] = ()
    query: str = ""
    upload: bool = False


# T: a general request in the North district; X: a city case in the North district;
# P: a complaint about the company "uyut"; R: T's resident; B: the demo's open ballot.
#               admin agent north disp  sanit insp  super comp  comm  billing
# fmt: off
MATRIX = [
    Cell("GET", "/console", "ok ok ok ok ok ok ok 403 403 ok"),
    Cell("GET", "/console/inbox/rows", "ok ok ok ok ok ok ok 403 403 ok", query="numbers={T}"),
    Cell("GET", "/console/search", "ok ok ok ok ok ok ok 403 403 ok"),
    Cell("POST", "/console/search", "ok ok ok ok ok ok ok 403 403 ok", (("query", "{T}"),)),
    Cell("GET", "/console/account", "ok ok ok ok ok ok ok ok ok ok"),
    Cell("POST", "/console/language", "ok ok ok ok ok ok ok ok ok ok", (("language", "en"),)),
    Cell("POST", "/console/presence", "ok ok ok ok 403 403 ok 403 403 403", (("available", "no"),)),
    Cell("GET", "/console/tickets/{number}", "ok ok ok ok 404 ok ok 403 403 404"),
    Cell("GET", "/console/tickets/{number}/thread", "ok ok ok ok 404 ok ok 403 403 404"),
    Cell("POST", "/console/tickets/{number}/reply", "ok ok ok ok 404 403 ok 403 403 404"),
    Cell("POST", "/console/tickets/{number}/note", "ok ok ok ok 404 ok ok 403 403 404"),
    Cell("POST", "/console/tickets/{number}/assign", "ok ok ok ok 403 403 ok 403 403 403", (("assignee", "x"),)),
    Cell("POST", "/console/tickets/{number}/status", "ok ok ok ok 403 403 ok 403 403 403"),
    Cell("POST", "/console/tickets/{number}/merge", "ok ok ok ok 403 403 ok 403 403 403"),
    Cell("POST", "/console/tickets/{number}/split", "ok ok ok ok 403 403 ok 403 403 403"),
    Cell("GET", "/console/residents/{resident_id}/card", "ok ok ok ok 404 ok ok 403 403 404"),
    Cell("GET", "/console/canned", "ok 403 403 403 403 403 ok 403 403 403"),
    Cell("POST", "/console/canned", "ok 403 403 403 403 403 ok 403 403 403"),
    Cell("GET", "/console/dispatch", "ok 403 ok ok ok ok ok 403 403 ok"),
    Cell("GET", "/console/dispatch/cases/{number}", "ok 403 ok ok 404 ok ok 403 403 404", query="case"),
    Cell("POST", "/console/dispatch/cases/{number}/act", "ok 403 ok ok 404 ok ok 403 403 404", query="case"),
    Cell("POST", "/console/dispatch/cases/{number}/extensions/{extension_id}", "ok 403 ok ok 404 ok ok 403 403 404", query="case"),
    Cell("POST", "/console/dispatch/cases/{number}/merge", "ok 403 ok ok 404 ok ok 403 403 404", query="case"),
    Cell("POST", "/console/dispatch/cases/{number}/photos", "ok 403 ok ok 404 ok ok 403 403 404", query="case", upload=True),
    Cell("GET", "/console/complaints", "ok 403 403 403 403 ok ok ok 403 403"),
    Cell("GET", "/console/complaints/items/{number}", "ok 403 403 403 403 ok ok ok 403 403", query="complaint"),
    Cell("POST", "/console/complaints/items/{number}/answer", "403 403 403 403 403 403 403 ok 403 403", query="complaint"),
    Cell("POST", "/console/complaints/items/{number}/route", "ok 403 403 403 403 ok ok 403 403 403", query="complaint"),
    Cell("POST", "/console/complaints/items/{number}/finding", "ok 403 403 403 403 ok ok 403 403 403", query="complaint"),
    Cell("GET", "/console/complaints/orders", "ok 403 403 403 403 ok ok ok 403 403"),
    Cell("POST", "/console/complaints/orders/{order_id}", "404 403 403 403 403 404 404 404 403 403"),
    Cell("GET", "/console/complaints/score", "ok 403 403 403 403 ok ok ok 403 403"),
    Cell("POST", "/console/complaints/score/events/{event_id}", "404 403 403 403 403 404 404 404 403 403"),
    Cell("GET", "/console/ballots", "ok 403 403 403 403 ok ok 403 ok 403"),
    Cell("GET", "/console/ballots/new", "ok 403 403 403 403 403 ok 403 ok 403"),
    Cell("POST", "/console/ballots", "ok 403 403 403 403 403 ok 403 ok 403"),
    Cell("GET", "/console/ballots/{ballot_id}", "ok 403 403 403 403 ok ok 403 ok 403"),
    Cell("GET", "/console/ballots/{ballot_id}/tally", "ok 403 403 403 403 ok ok 403 ok 403"),
    Cell("POST", "/console/ballots/{ballot_id}/step", "ok 403 403 403 403 403 ok 403 ok 403"),
    Cell("POST", "/console/ballots/{ballot_id}/paper", "ok 403 403 403 403 403 ok 403 ok 403"),
    Cell("GET", "/console/billing", "ok ok ok ok ok 403 ok 403 403 ok"),
    Cell("POST", "/console/billing/account", "ok ok ok ok 404 403 ok 403 403 ok", (("number", "7700001"),)),
    Cell("POST", "/console/billing/payment", "ok ok ok ok ok 403 ok 403 403 ok", (("number", "7700001"), ("amount", "x"))),
    Cell("POST", "/console/billing/readings/{reading_id}", "404 404 404 404 404 403 404 403 403 404"),
    # Last in each row: it ends the session.
    Cell("POST", "/console/logout", "ok ok ok ok ok ok ok ok ok ok"),
]
# fmt: on


async def _fixtures(hub: Hub) -> dict[str, str]:
    """Makes T, X, P (see MATRIX) and returns the values the paths take."""
    await setup_billing(hub)
    general = await hub_receive(hub, "Подскажите часы приёма в управе", "+79005550133")
    case = await report(hub, sender="+79005550134")
    complaint = await complain(hub, "Не работает лифт в подъезде", sender=resident_of(1))
    async with transaction(hub.session_factory) as session:
        north = await session.scalar(select(District.id).where(District.code == "north"))
        ids = [parse_public_number(n or "") for n in (general, case.ticket_number)]
        await session.execute(update(Ticket).where(Ticket.id.in_(ids)).values(district_id=north))
        resident = await session.scalar(select(Ticket.resident_id).where(Ticket.id == ids[0]))
        ballot = await session.scalar(select(Ballot.id).where(Ballot.status == BallotStatus.OPEN))
    return {
        "T": general or "",
        "case": case.ticket_number or "",
        "complaint": complaint.ticket_number or "",
        "resident_id": str(resident),
        "ballot_id": str(ballot),
        "extension_id": "999999",
        "order_id": "999999",
        "event_id": "999999",
        "reading_id": "999999",
    }


async def hub_receive(hub: Hub, text: str, sender: str) -> str | None:
    from core.intake import service as intake_service

    return (
        await intake_service.receive(hub=hub, message=inbound(text, sender=sender))
    ).ticket_number


def _path(cell: Cell, values: dict[str, str]) -> str:
    number = values[cell.query] if cell.query in ("case", "complaint") else values["T"]
    path = cell.route.replace("{number}", number)
    for key, value in values.items():
        path = path.replace("{" + key + "}", value)
    if cell.query and cell.query not in ("case", "complaint"):
        path += "?" + cell.query.replace("{T}", values["T"])
    return path


def _verdict(status: int) -> str:
    if status in (403, 404):
        return str(status)
    # Through the gate: a page, a redirect, or the form's own refusal (409, 422).
    assert status < 500 and status != 401, status
    return "ok"


async def _row(
    client: httpx.AsyncClient, role: str, column: int, values: dict[str, str]
) -> list[str]:
    token = await console_login(client, role)
    wrong = []
    for cell in MATRIX:
        data: dict[str, Any] = {"csrf": token}
        data.update({k: v.replace("{T}", values["T"]) for k, v in cell.form})
        files = {"photo": ("x.png", b"not a picture", "image/png")} if cell.upload else None
        path = _path(cell, values)
        if cell.method == "GET":
            response = await client.get(path)
        else:
            response = await client.post(path, data=data, files=files)
        expected = cell.expected.split()[column]
        if _verdict(response.status_code) != expected:
            wrong.append(
                f"{role} {cell.method} {cell.route}: {response.status_code}, not {expected}"
            )
    client.cookies.clear()
    return wrong


def _flatten(routes: list[Any]) -> list[Any]:
    """Returns the routes, with those of included routers (kept apart by FastAPI) inlined."""
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found += _flatten(list(inner.routes)) if inner is not None else [route]
    return found


def test_every_console_route_is_in_the_matrix(settings: Any, hub: Hub) -> None:
    app = create_app(settings, hub=hub, run_worker=False, prepare_database=False)
    routes = {
        (method, route.path)
        for route in _flatten(app.routes)
        if getattr(route, "path", "").startswith("/console")
        for method in getattr(route, "methods", set()) - {"HEAD"}
    }
    assert len(routes) > 40
    listed = {(cell.method, cell.route) for cell in MATRIX} | PUBLIC
    assert routes == listed
    assert all(len(cell.expected.split()) == len(ROLES) for cell in MATRIX)


async def test_each_role_against_each_route(client: httpx.AsyncClient, hub: Hub) -> None:
    values = await _fixtures(hub)
    wrong = []
    for column, role in enumerate(ROLES):
        wrong += await _row(client, role, column, values)
    assert wrong == []
