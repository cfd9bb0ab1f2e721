"""Open311 GeoReport v2 (DOMAIN §2): services, definitions, requests, tokens.

Parameters are read by hand rather than by FastAPI's validation, so that every error,
a malformed date included, comes back in the spec's own shape ([{code, description}],
403 bad api_key, 404 unknown resource or jurisdiction, 400 otherwise) and format.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.types import Message

from channels.contract import Attachment, Channel, InboundMessage, Location
from core.auth import service as auth_service
from core.config import Settings
from core.db import utcnow
from core.dispatch import open311
from core.dispatch import service as dispatch_service
from core.dispatch.models import Case, CaseCategory
from core.i18n import pick_name
from core.intake import service as intake_service
from core.intake.models import InboundRecord
from core.territory.geocode import geocode
from core.territory.models import Building, GazetteerEntry
from core.tickets.models import Ticket, TicketMessage
from core.tickets.numbers import format_public_number, parse_public_number
from core.web.deps import HubDep, SessionDep
from portal.open311.discovery import discovery
from portal.open311.render import FORMATS, error, format_of, respond

router = APIRouter(prefix="/open311/v2", tags=["open311"])
logger = logging.getLogger("hub.open311")

MAX_PERIOD = timedelta(days=90)
YEARS = (1900, 9000)
ATTRIBUTE_FIELD = re.compile(r"^attribute\[([^\[\]]+)\](?:\[\])?$")
PERSONAL_FIELDS = ("email", "first_name", "last_name", "phone", "device_id", "account_id")
# A service request form is small: a 4000-character description, a URL, a few attributes.
# The hub's own body limit is larger (it serves file imports); this one answers in the
# spec's shape.
MAX_FORM_BYTES = 256 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Refused(Exception):
    def __init__(self, status_code: int, description: str) -> None:
        super().__init__(description)
        self.status_code = status_code
        self.description = description


def _language(request: Request, languages: tuple[str, ...], default: str) -> str:
    wanted = request.query_params.get("locale") or request.headers.get("accept-language", "")
    for part in wanted.replace("_", "-").split(","):
        code = part.split(";")[0].strip().split("-")[0].lower()
        if code in languages:
            return code
    return default


def _check(fmt: str, request: Request, jurisdiction: str) -> None:
    if fmt not in FORMATS:
        raise Refused(404, f"unknown format {fmt!r}: json or xml")
    _check_text([*request.path_params.items(), *request.query_params.multi_items()])
    _check_jurisdiction(request.query_params.get("jurisdiction_id"), jurisdiction)


def _check_text(items: Iterable[tuple[str, object]]) -> None:
    """Refuses NUL characters: PostgreSQL cannot hold them in text, even to compare."""
    for name, value in items:
        if "\x00" in name or "\x00" in str(value):
            raise Refused(400, f"{name[:40]!r} holds a NUL character")


def _check_jurisdiction(given: object, jurisdiction: str) -> None:
    if given is not None and given != jurisdiction:
        raise Refused(404, f"unknown jurisdiction_id {given!r}")


def _answer(fmt: str, exc: Refused) -> Response:
    return error(fmt if fmt in FORMATS else "xml", exc.status_code, exc.description)


@router.get("/discovery.{fmt}")
async def get_discovery(fmt: str, request: Request, hub: HubDep) -> Response:
    """GET discovery: where this endpoint is, its formats, and how to get a key."""
    settings = hub.settings
    try:
        _check(fmt, request, settings.open311_jurisdiction)
    except Refused as exc:
        return _answer(fmt, exc)
    # Behind a proxy the request's own address may be an inner one; the configured public
    # address is the one clients can reach.
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    body = discovery(
        base_url=f"{base}{router.prefix}/",
        production=not settings.embedded,
        language=_language(request, settings.languages, settings.default_language),
    )
    return respond(fmt, "discovery", body)


@router.get("/services.{fmt}")
async def list_services(
    fmt: str, request: Request, hub: HubDep, db_session: SessionDep
) -> Response:
    """GET services: every city-case category."""
    try:
        _check(fmt, request, hub.settings.open311_jurisdiction)
    except Refused as exc:
        return _answer(fmt, exc)
    language = _language(request, hub.settings.languages, hub.settings.default_language)
    body = await open311.services(db_session=db_session, language=language)
    return respond(fmt, "services", body)


@router.get("/services/{code}.{fmt}")
async def service_definition(
    code: str, fmt: str, request: Request, hub: HubDep, db_session: SessionDep
) -> Response:
    """GET services/{code}: a service's definition (its attributes)."""
    try:
        _check(fmt, request, hub.settings.open311_jurisdiction)
        found = await open311.find_service(db_session=db_session, code=code)
        if found is None:
            raise Refused(404, f"unknown service_code {code!r}")
    except Refused as exc:
        return _answer(fmt, exc)
    language = _language(request, hub.settings.languages, hub.settings.default_language)
    return respond(fmt, "service_definition", open311.definition_of(*found, language))


def _float(form: FormData, name: str, low: float, high: float) -> float | None:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Refused(400, f"{name} is not a number") from None
    if not low <= value <= high:
        raise Refused(400, f"{name} must be between {low:g} and {high:g}")
    return value


def _token(key_id: str, form: FormData) -> str:
    """Returns the request's token: a digest of who sent what, today.

    GeoReport v2 has no idempotency key; a client that retries a POST after a timeout
    sends the same fields, and gets the same request back instead of a second one.
    """
    fields = sorted((k, str(v)) for k, v in form.multi_items() if k != "api_key")
    day = utcnow().date().isoformat()
    digest = hashlib.sha256(json.dumps([key_id, day, fields]).encode()).hexdigest()
    return digest[:32]


async def _read_form(request: Request) -> FormData:
    """Returns the POST's form, or raises why not: too large (413), or not a form (400)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in FORM_TYPES:
        raise Refused(400, "the body must be application/x-www-form-urlencoded")
    too_large = Refused(413, f"the request body is larger than {MAX_FORM_BYTES // 1024} KB")
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise too_large
    # Counted as it arrives: a body sent without a length is refused once it passes the
    # limit, never held whole.
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise too_large

    async def replay() -> Message:
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    try:
        return await Request(request.scope, replay).form(max_files=0, max_fields=200)
    except (HTTPException, MultiPartException) as exc:
        # Starlette's own words: too many fields, a file where none is taken, a bad part.
        reason = exc.detail if isinstance(exc, HTTPException) else exc.message
        raise Refused(400, f"the form cannot be read: {reason}") from None


async def _place(
    db_session: SessionDep, form: FormData, max_age: float
) -> tuple[Location | None, str | None]:
    """Returns the point and address of a new request, or raises why it has none."""
    lat = _float(form, "lat", -90, 90)
    lon = _float(form, "long", -180, 180)
    address = str(form.get("address_string") or "").strip()[:500] or None
    address_id = str(form.get("address_id") or "").strip()
    if (lat is None) != (lon is None):
        raise Refused(400, "lat and long go together")
    if lat is not None and lon is not None:
        hit = await dispatch_service.locate(
            db_session=db_session, latitude=lat, longitude=lon, max_age=max_age
        )
        if hit is None:
            raise Refused(400, "the point (lat, long) is outside the city's grid")
        return Location(latitude=lat, longitude=lon), address
    if address_id:
        entry = await db_session.scalar(
            select(GazetteerEntry).where(GazetteerEntry.code == address_id[:64])
        )
        if entry is not None:
            named = address or pick_name(entry.names, "en")
            return Location(latitude=entry.latitude, longitude=entry.longitude), named
        building = await db_session.scalar(select(Building).where(Building.code == address_id[:32]))
        if building is None or building.latitude is None or building.longitude is None:
            raise Refused(400, f"unknown address_id {address_id!r}")
        named = address or pick_name(building.addresses, "en")
        return Location(latitude=building.latitude, longitude=building.longitude), named
    if address:
        place = await geocode(db_session=db_session, text=address)
        if place is not None:
            return Location(latitude=place.latitude, longitude=place.longitude), address
        # An address we cannot place is still an address: a person will place it.
        return None, address
    raise Refused(400, "a location is required: lat and long, address_string or address_id")


def _attributes(form: FormData, details: CaseCategory | None) -> dict[str, Any]:
    """Returns the form's attribute answers checked against the service's definition."""
    given: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if not name.startswith("attribute["):
            continue
        # attribute[code]=value, and attribute[code][]=value for each value of a
        # multivaluelist, as the spec writes them.
        match = ATTRIBUTE_FIELD.match(name)
        if match is None:
            raise Refused(400, f"malformed attribute field {name[:80]!r}")
        given.setdefault(match.group(1), []).append(str(value))
    try:
        return open311.check_attributes(details, given)
    except ValueError as exc:
        raise Refused(400, str(exc)) from None


def _description_and_media(form: FormData) -> tuple[str, str]:
    """Returns the form's description and media_url, checked."""
    description = str(form.get("description") or "").strip()
    if len(description) > 4000:
        raise Refused(400, "description is longer than 4000 characters")
    media_url = str(form.get("media_url") or "").strip()
    if media_url and (not media_url.startswith(("https://", "http://")) or len(media_url) > 2000):
        raise Refused(400, "media_url must be an http(s) URL of at most 2000 characters")
    return description, media_url


def _sender(actor: str, form: FormData) -> str:
    """Returns the contact address that stands for this client's reporter.

    The personal fields stay in the raw record (the database), never in the address that
    logs show masked.
    """
    reporter = next(
        (
            str(form.get(f)).strip()
            for f in ("device_id", "account_id", "email", "phone")
            if form.get(f)
        ),
        "anonymous",
    )
    return f"{actor}:" + hashlib.sha256(reporter.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class _NewRequest:
    """A POSTed service request, checked: everything intake needs from the form."""

    actor: str
    form: FormData
    category_code: str
    answers: dict[str, Any]
    description: str
    media_url: str
    location: Location | None
    address: str | None


async def _read_new_request(
    fmt: str, request: Request, settings: Settings, db_session: SessionDep
) -> _NewRequest:
    """Returns the POST's checked request, or raises Refused with the spec's status."""
    _check(fmt, request, settings.open311_jurisdiction)
    if "api_key" in request.query_params:
        # A URL is written to access logs, proxies' logs and browser histories; the
        # spec sends api_key as a form field, and a key sent otherwise is refused
        # (then masked in our own log) so the client's author learns of it.
        raise Refused(400, "send api_key in the form body, never in the URL")
    form = await _read_form(request)
    _check_text(form.multi_items())
    # A POST carries its arguments in the body, jurisdiction_id among them.
    _check_jurisdiction(form.get("jurisdiction_id"), settings.open311_jurisdiction)
    key = str(form.get("api_key") or "")
    principal = (
        await auth_service.authenticate_api_key(db_session=db_session, key=key) if key else None
    )
    if principal is None:
        raise Refused(403, "api_key is missing, unknown or revoked")
    code = str(form.get("service_code") or "").strip()
    if not code:
        raise Refused(400, "service_code is required")
    found = await open311.find_service(db_session=db_session, code=code[:32])
    if found is None:
        raise Refused(400, f"unknown service_code {code!r}")
    category, details = found
    answers = _attributes(form, details)
    description, media_url = _description_and_media(form)
    location, address = await _place(db_session, form, settings.routing_cache_seconds)
    return _NewRequest(
        actor=principal.actor,
        form=form,
        # Read here: the caller's rollback expires every loaded row (reading one then
        # would be lazy IO outside the async context).
        category_code=category.code,
        answers=answers,
        description=description,
        media_url=media_url,
        location=location,
        address=address,
    )


def _inbound(new: _NewRequest, token: str, language: str) -> InboundMessage:
    """Returns the request as the message intake takes from every channel."""
    form = new.form
    return InboundMessage(
        channel=Channel.OPEN311,
        sender_address=_sender(new.actor, form),
        text=new.description,
        provider_message_id=token,
        received_at=utcnow(),
        attachments=[Attachment(url=new.media_url)] if new.media_url else [],
        location=new.location,
        address_text=new.address,
        category_code=new.category_code,
        language=language,
        continue_recent=False,
        # Back offices read the typed fields; raw keeps the answers as checked and the
        # personal fields, for the record only.
        fields={f"attribute:{code}": value for code, value in new.answers.items()},
        raw={
            "attributes": new.answers,
            **{f: str(form.get(f))[:200] for f in PERSONAL_FIELDS if form.get(f)},
        },
    )


@router.post("/requests.{fmt}")
async def create_request(
    fmt: str, request: Request, hub: HubDep, db_session: SessionDep
) -> Response:
    """POST requests: a new city case from an outside client (api_key required)."""
    settings = hub.settings
    try:
        new = await _read_new_request(fmt, request, settings, db_session)
    except Refused as exc:
        return _answer(fmt, exc)
    await db_session.rollback()  # end the read transaction before intake writes (SQLite)

    token = _token(new.actor, new.form)
    language = _language(request, settings.languages, settings.default_language)
    try:
        message = _inbound(new, token, language)
    except ValidationError as exc:
        # The form passed its own checks but not the channel contract's limits (a
        # service defined with more attributes than a message carries).
        return error(fmt, 400, f"the request cannot be taken: {exc.errors()[0]['msg']}")
    try:
        result = await intake_service.receive(hub=hub, message=message)
    except intake_service.IntakeRejected as exc:
        return error(fmt, 400, str(exc))
    except intake_service.IntakeFailed:
        return error(fmt, 503, "the request was kept and will be processed; try again shortly")
    # A media_url is fetched by the job that dispatch intake queues once its commit lands.
    # 200, not 201, as the spec says, for a new request and a retried one alike. No
    # service_notice or account_id: the hub has none to give, so they are left out.
    body = [{"service_request_id": result.ticket_number, "token": token}]
    return respond(fmt, "service_requests", body)


def _moment(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Refused(400, f"{name} must be a W3C date-time with a timezone") from None
    if moment.tzinfo is None:
        raise Refused(400, f"{name} must carry a timezone")
    # Near year 1 or 9999 the move to UTC and the 90-day default window overflow.
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise Refused(400, f"{name} must fall in the years {YEARS[0]} to {YEARS[1]}")
    return moment.astimezone(UTC)


@router.get("/requests.{fmt}")
async def list_requests(
    fmt: str, request: Request, hub: HubDep, db_session: SessionDep
) -> Response:
    """GET requests: by id list, or by service, date range (at most 90 days) and status."""
    params = request.query_params
    try:
        _check(fmt, request, hub.settings.open311_jurisdiction)
        ids = params.get("service_request_id")
        numbers = [n.strip() for n in ids.split(",") if n.strip()][:1000] if ids else None
        end = _moment(params.get("end_date"), "end_date")
        start = _moment(params.get("start_date"), "start_date")
        if end is None:
            end = (start + MAX_PERIOD) if start else utcnow()
        if start is None:
            start = end - MAX_PERIOD
        if end <= start:
            raise Refused(400, "end_date must be after start_date")
        if end - start > MAX_PERIOD:
            raise Refused(400, "the date range is at most 90 days")
        statuses = {s.strip() for s in params.get("status", "").split(",") if s.strip()} or None
        if statuses and not statuses <= {"open", "closed"}:
            raise Refused(400, "status is open or closed")
        codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()]
    except Refused as exc:
        return _answer(fmt, exc)
    rows = await open311.query_requests(
        db_session=db_session,
        numbers=numbers,
        service_codes=codes or None,
        start=start,
        end=end,
        statuses=statuses,
    )
    language = _language(request, hub.settings.languages, hub.settings.default_language)
    body = await open311.request_views(db_session=db_session, rows=rows, language=language)
    return respond(fmt, "service_requests", body)


@router.get("/requests/{number}.{fmt}")
async def get_request(
    number: str, fmt: str, request: Request, hub: HubDep, db_session: SessionDep
) -> Response:
    """GET requests/{id}: one request (as a one-item list, as the spec has it)."""
    try:
        _check(fmt, request, hub.settings.open311_jurisdiction)
        ticket_id = parse_public_number(number)
        found = await dispatch_service.get(db_session=db_session, ticket_id=ticket_id or 0)
        if ticket_id is None or found is None:
            raise Refused(404, f"unknown service_request_id {number!r}")
    except Refused as exc:
        return _answer(fmt, exc)
    language = _language(request, hub.settings.languages, hub.settings.default_language)
    body = await open311.request_views(db_session=db_session, rows=[found], language=language)
    return respond(fmt, "service_requests", body)


@router.get("/tokens/{token}.{fmt}")
async def get_token(
    token: str, fmt: str, request: Request, hub: HubDep, db_session: SessionDep
) -> Response:
    """GET tokens/{token}: the request id a POST's token stands for."""
    try:
        _check(fmt, request, hub.settings.open311_jurisdiction)
        ticket_id = await db_session.scalar(
            select(Ticket.id)
            .join(TicketMessage, TicketMessage.ticket_id == Ticket.id)
            .join(InboundRecord, InboundRecord.id == TicketMessage.inbound_id)
            .join(Case, Case.ticket_id == Ticket.id)
            .where(
                InboundRecord.channel == Channel.OPEN311,
                InboundRecord.provider_message_id == token[:200],
            )
        )
        if ticket_id is None:
            raise Refused(404, f"unknown token {token!r}")
    except Refused as exc:
        return _answer(fmt, exc)
    body = [{"service_request_id": format_public_number(ticket_id), "token": token}]
    return respond(fmt, "service_requests", body)


@router.api_route("/{path:path}", methods=["GET", "POST"], include_in_schema=False)
async def unknown_resource(path: str) -> Response:
    """Anything else under the API: the spec's 404, in the format the path names."""
    return error(format_of(path), 404, f"unknown resource {path[:200]!r}")
