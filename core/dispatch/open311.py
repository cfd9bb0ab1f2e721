"""The dispatch data as Open311 GeoReport v2 sees it: services, definitions, requests.

Plain dicts in the spec's field names; portal/open311 renders them as JSON or XML.
Requests are ordinary city cases; their ten stages fold into the spec's open/closed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.dispatch import service as dispatch_service
from core.dispatch.enums import Stage
from core.dispatch.models import Case, CaseCategory, CasePhoto
from core.i18n import gettext, pick_name
from core.routing.models import Category, Department
from core.tickets.enums import Direction, TicketKind
from core.tickets.models import Ticket, TicketMessage
from core.tickets.numbers import parse_public_number

CLOSED_STAGES = frozenset({Stage.CLOSED, Stage.CANCELLED, Stage.MERGED})
MAX_RESULTS = 1000
LIST_DATATYPES = ("singlevaluelist", "multivaluelist")


def service_of(category: Category, details: CaseCategory | None, language: str) -> dict[str, Any]:
    """Returns one category as an Open311 service."""
    keywords = (category.keywords or {}).get(language) or (category.keywords or {}).get("en") or []
    return {
        "service_code": category.code,
        "service_name": pick_name(category.names, language),
        "description": pick_name(details.conditions, language) or None if details else None,
        "metadata": bool(details and details.attributes),
        "type": "realtime",
        "keywords": ",".join(keywords) or None,
        "group": pick_name(details.group_names, language) or None if details else None,
    }


async def services(*, db_session: AsyncSession, language: str) -> list[dict[str, Any]]:
    """Returns every active city-case category as an Open311 service."""
    return [
        service_of(category, details, language)
        for category, details in await dispatch_service.dispatch_categories(db_session=db_session)
    ]


async def find_service(
    *, db_session: AsyncSession, code: str
) -> tuple[Category, CaseCategory | None] | None:
    """Returns the active city-case category with ``code`` and its details, or None."""
    row = (
        await db_session.execute(
            select(Category, CaseCategory)
            .outerjoin(CaseCategory, CaseCategory.category_id == Category.id)
            .where(
                Category.code == code,
                Category.kind == TicketKind.CITY_CASE,
                Category.active.is_(True),
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


def definition_of(
    category: Category, details: CaseCategory | None, language: str
) -> dict[str, Any]:
    """Returns a category's Open311 service definition (its attributes)."""
    attributes = []
    for item in (details.attributes if details else None) or []:
        attribute = {
            "variable": True,
            "code": item["code"],
            "datatype": item["datatype"],
            "required": bool(item.get("required")),
            "order": item.get("order"),
            "description": pick_name(item.get("names"), language),
        }
        # Only a list has values to choose from; others leave the field out.
        if item["datatype"] in LIST_DATATYPES:
            attribute["values"] = [
                {"key": value["key"], "name": pick_name(value.get("names"), language)}
                for value in item.get("values") or []
            ]
        attributes.append(attribute)
    return {"service_code": category.code, "attributes": attributes}


def check_attributes(details: CaseCategory | None, given: dict[str, list[str]]) -> dict[str, Any]:
    """Returns the attribute answers checked against the definition, or raises ValueError."""
    definitions = {item["code"]: item for item in (details.attributes if details else None) or []}
    unknown = sorted(set(given) - set(definitions))
    if unknown:
        raise ValueError(f"unknown attribute {unknown[0]!r} for this service")
    answers: dict[str, Any] = {}
    for code, item in definitions.items():
        values = [v.strip() for v in given.get(code, []) if v.strip()]
        if not values:
            if item.get("required"):
                raise ValueError(f"attribute {code!r} is required")
            continue
        datatype = item["datatype"]
        keys = {value["key"] for value in item.get("values") or []}
        if datatype in LIST_DATATYPES:
            if any(v not in keys for v in values):
                raise ValueError(f"attribute {code!r} must be one of {', '.join(sorted(keys))}")
            if datatype == "singlevaluelist" and len(values) > 1:
                raise ValueError(f"attribute {code!r} takes one value")
            answers[code] = values if datatype == "multivaluelist" else values[0]
        elif datatype == "number":
            try:
                number = float(values[0])
            except ValueError:
                raise ValueError(f"attribute {code!r} must be a number") from None
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError(f"attribute {code!r} must be a finite number")
            answers[code] = number
        elif datatype == "datetime":
            try:
                moment = datetime.fromisoformat(values[0].replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"attribute {code!r} must be an ISO 8601 date-time") from None
            # A time without its offset is a different moment in every reader's timezone.
            if moment.tzinfo is None:
                raise ValueError(f"attribute {code!r} must carry a timezone")
            answers[code] = moment.isoformat()
        else:
            answers[code] = values[0][:2000]
    return answers


async def request_views(
    *, db_session: AsyncSession, rows: list[tuple[Ticket, Case]], language: str
) -> list[dict[str, Any]]:
    """Returns cases as Open311 service requests."""
    category_ids = {t.category_id for t, _ in rows if t.category_id}
    department_ids = {t.department_id for t, _ in rows if t.department_id}
    ticket_ids = [t.id for t, _ in rows]
    categories = {
        c.id: c
        for c in await db_session.scalars(select(Category).where(Category.id.in_(category_ids)))
    }
    departments = {
        d.id: d
        for d in await db_session.scalars(
            select(Department).where(Department.id.in_(department_ids))
        )
    }
    # The reporter's own words are shown only for reports sent to this public API; a text
    # message or a call may hold names and flat numbers meant for the city alone.
    words: dict[int, str] = {}
    media: dict[int, str] = {}
    if ticket_ids:
        for ticket_id, text in await db_session.execute(
            select(TicketMessage.ticket_id, TicketMessage.text)
            .join(Ticket, Ticket.id == TicketMessage.ticket_id)
            .where(
                TicketMessage.ticket_id.in_(ticket_ids),
                TicketMessage.direction == Direction.IN,
                Ticket.channel == "open311",
            )
            .order_by(TicketMessage.id.desc())
        ):
            words[ticket_id] = text
        for ticket_id, url in await db_session.execute(
            select(CasePhoto.ticket_id, CasePhoto.source_url).where(
                CasePhoto.ticket_id.in_(ticket_ids),
                CasePhoto.source == "open311",
                CasePhoto.source_url.is_not(None),
            )
        ):
            if url:
                media.setdefault(ticket_id, url)
    views = []
    for ticket, case in rows:
        category = categories.get(ticket.category_id or 0)
        department = departments.get(ticket.department_id or 0)
        stage = Stage(case.stage)
        closed = stage in CLOSED_STAGES
        public = ticket.channel == "open311"
        views.append(
            {
                "service_request_id": ticket.public_number,
                "status": "closed" if closed else "open",
                "status_notes": _status_notes(case, stage, language),
                "service_name": pick_name(category.names, language) if category else None,
                "service_code": category.code if category else "",
                "description": words.get(ticket.id),
                "agency_responsible": pick_name(department.names, language) if department else None,
                "service_notice": None,
                "requested_datetime": ticket.created_at.isoformat(),
                "updated_datetime": ticket.updated_at.isoformat(),
                "expected_datetime": case.handle_due_at.isoformat()
                if case.handle_due_at and not closed
                else None,
                "address": ticket.address if public else None,
                "address_id": None,
                "zipcode": None,
                "lat": _blurred(ticket.latitude, public),
                "long": _blurred(ticket.longitude, public),
                "media_url": media.get(ticket.id),
            }
        )
    return views


def _blurred(value: float | None, exact: bool) -> float | None:
    """Returns a coordinate as given to Open311, or to about 100 m for other channels: a
    phone's shared location is where the reporter stood, often their own door."""
    if value is None or exact:
        return value
    return round(value, 3)


def _status_notes(case: Case, stage: Stage, language: str) -> str | None:
    if stage == Stage.CLOSED:
        return case.result_note
    if stage == Stage.MERGED and case.merged_into_id:
        from core.tickets.numbers import format_public_number

        return gettext(
            language,
            "Already reported: handled as {number}.",
            number=format_public_number(case.merged_into_id),
        )
    return gettext(language, f"stage:{stage}")


async def query_requests(
    *,
    db_session: AsyncSession,
    numbers: list[str] | None,
    service_codes: list[str] | None,
    start: datetime,
    end: datetime,
    statuses: set[str] | None,
) -> list[tuple[Ticket, Case]]:
    """Returns the city cases a GET requests call asks for, newest first (at most 1000)."""
    query = select(Ticket, Case).join(Case, Case.ticket_id == Ticket.id)
    if numbers is not None:
        ids = [i for i in (parse_public_number(n) for n in numbers) if i is not None]
        query = query.where(Ticket.id.in_(ids))
    else:
        query = query.where(Ticket.created_at >= start, Ticket.created_at < end)
        if service_codes:
            query = query.join(Category, Category.id == Ticket.category_id).where(
                Category.code.in_(service_codes)
            )
        if statuses == {"open"}:
            query = query.where(Case.stage.not_in(list(CLOSED_STAGES)))
        elif statuses == {"closed"}:
            query = query.where(Case.stage.in_(list(CLOSED_STAGES)))
    rows = await db_session.execute(
        query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(MAX_RESULTS)
    )
    return [(r[0], r[1]) for r in rows]
