"""The simulator: a person plays a resident on SMS, Telegram, the phone keypad or the web."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import InboundMessage
from channels.spec import ChannelSpec, Compose, Delivery
from core.complaints import presenters as complaints_presenters
from core.db import utcnow
from core.i18n import pick_name
from core.intake import service as intake_service
from core.residents.enums import ContactKind
from core.residents.service import InvalidAddress, normalise_address
from core.routing.enums import BackOffice
from core.routing.models import Category
from core.runtime import Hub
from core.tickets import presenters
from core.tickets import service as tickets_service
from core.tickets.numbers import parse_public_number
from core.web.deps import HubDep, SessionDep, check_csrf, csrf_token, get_hub
from portal.i18n import TEMPLATES, page_language, translator
from portal.simulator import service as simulator_service

router = APIRouter(prefix="/simulator", include_in_schema=False)

MAX_TEXT = 4000
CHOICE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def _playable(hub: Hub) -> list[ChannelSpec]:
    """Returns the installed channels a person can play here, in the registry's order."""
    specs = [hub.channels.spec(name) for name in hub.channels.names()]
    return [spec for spec in specs if spec.compose is not None]


async def _menu(
    db_session: AsyncSession, playable: list[ChannelSpec], language: str
) -> list[tuple[str, str]]:
    """Returns the keypad channels' first menu: (key, category name) in key order."""
    menu = {
        key: code
        for spec in playable
        if spec.compose is Compose.KEYS
        for key, code in spec.menu.items()
    }
    names = {
        category.code: pick_name(category.names, language)
        for category in await db_session.scalars(
            select(Category).where(Category.code.in_(menu.values()), Category.active.is_(True))
        )
    }
    return [(key, names[code]) for key, code in sorted(menu.items()) if code in names]


def _identities(request: Request) -> list[tuple[str, str, str]]:
    return simulator_service.identities(request.session)


def _secret(request: Request) -> str:
    return get_hub(request).settings.secret_key.get_secret_value()


def _ticket_link(secret: str, number: str) -> str:
    ticket_id = parse_public_number(number)
    assert ticket_id is not None  # numbers here come from our own rows
    key = simulator_service.ticket_key(secret=secret, ticket_id=ticket_id)
    return f"/simulator/tickets/{number}/{key}"


def _web_address(request: Request) -> str:
    if "sim_web" not in request.session:
        request.session["sim_web"] = "web-" + secrets.token_hex(8)
    return str(request.session["sim_web"])


async def _page(
    request: Request,
    db_session: SessionDep,
    *,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    code: int = 200,
) -> HTMLResponse:
    language = page_language(request)
    playable = _playable(get_hub(request))
    lines = await simulator_service.conversation(
        db_session=db_session, identities=_identities(request)
    )
    secret = _secret(request)
    links = {
        line.ticket_number: _ticket_link(secret, line.ticket_number)
        for line in lines
        if line.ticket_number
    }
    return TEMPLATES.TemplateResponse(
        request,
        "simulator/index.html",
        {
            "_": translator(language),
            "lang": language,
            "csrf": csrf_token(request),
            "channels": [spec.name for spec in playable],
            # Channels whose residents press buttons; on the others a choice is answered
            # the way a resident would, by its number.
            "button_channels": {spec.name for spec in playable if spec.capabilities.buttons},
            "keypad_channels": {spec.name for spec in playable if spec.compose is Compose.KEYS},
            "menu": await _menu(db_session, playable, language),
            "lines": lines,
            "links": links,
            "error": error,
            "form": form or request.session.get("sim_form") or {"channel": "sms"},
            "message_id": uuid.uuid4().hex,
        },
        status_code=code,
    )


def _not_found(request: Request) -> HTMLResponse:
    """A page, in the reader's language, for a ticket link that opens nothing."""
    language = page_language(request)
    _ = translator(language)
    return TEMPLATES.TemplateResponse(
        request,
        "error.html",
        {
            "_": _,
            "lang": language,
            "title": _("Request not found"),
            "message": _("There is no such request, or the link is not complete."),
            "back": "/simulator",
        },
        status_code=status.HTTP_404_NOT_FOUND,
    )


@router.get("", response_class=HTMLResponse)
async def simulator_page(request: Request, db_session: SessionDep) -> HTMLResponse:
    """Shows the simulator with this browser's conversation so far."""
    return await _page(request, db_session)


@router.post("/send", response_class=HTMLResponse)
async def simulator_send(
    request: Request,
    hub: HubDep,
    db_session: SessionDep,
    # Fields are checked here rather than by FastAPI so a person gets the page back with a
    # sentence in their language, not a JSON error.
    channel: Annotated[str, Form()] = "",
    message_id: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    keys: Annotated[str, Form()] = "",
    choice: Annotated[str, Form()] = "",
) -> Response:
    """Sends one message as a resident would, then shows the conversation again."""
    check_csrf(request, csrf)
    _ = translator(page_language(request))
    form = {"channel": channel, "address": address[:64], "text": text[:MAX_TEXT], "keys": keys[:20]}
    spec = next((s for s in _playable(hub) if s.name == channel), None)
    error = _form_error(_, spec, message_id=message_id, text=text, keys=keys, choice=choice)
    if error is not None or spec is None:
        return await _page(request, db_session, form=form, code=422, error=error)
    if spec.address_kind is ContactKind.WEB:
        address = _web_address(request)
    if len(address) > 64:
        address = ""  # no real phone or chat id is this long: treat it as not given
    try:
        _kind, normalised = normalise_address(
            spec.address_kind, address, region=hub.settings.phone_region
        )
    except InvalidAddress:
        error = (
            _("Enter a Telegram chat id (digits).")
            if spec.address_kind is ContactKind.TELEGRAM
            else _("Enter a phone number, e.g. +7 900 123-45-67.")
        )
        return await _page(request, db_session, error=error, form=form, code=422)
    message = _message(request, spec, address, text, keys.strip(), choice, message_id)
    try:
        await intake_service.receive(hub=hub, message=message)
    except intake_service.IntakeRejected as exc:
        return await _page(request, db_session, error=str(exc), form=form, code=422)
    _remember(request, hub, spec, address, normalised)
    keep = {"channel": spec.name, "address": address if spec.address_kind != "web" else ""}
    request.session["sim_form"] = keep
    return RedirectResponse("/simulator", status_code=status.HTTP_303_SEE_OTHER)


def _form_error(
    _: Callable[..., str],
    spec: ChannelSpec | None,
    *,
    message_id: str,
    text: str,
    keys: str,
    choice: str,
) -> str | None:
    """Returns what is wrong with a message the page sent, in the reader's words, or None."""
    if len(text) > MAX_TEXT:
        return _("The message is too long: at most {n} characters.", n=MAX_TEXT)
    if not 8 <= len(message_id) <= 64 or not message_id.isalnum():
        # The page always sends one; without it a double click could not be recognised.
        return _("The form has expired. Please send again.")
    if spec is None:
        return _("Choose a channel.")
    if choice:
        # A button of an earlier reply: intake checks it against that reply's choices.
        return (
            None if CHOICE_ID.fullmatch(choice) else _("The form has expired. Please send again.")
        )
    if spec.compose is Compose.KEYS:
        keys = keys.strip()
        if not keys.isdigit() or len(keys) > 20:
            return _("Press a menu key: digits only.")
    elif not text.strip():
        return _("Write a message first.")
    return None


def _message(
    request: Request,
    spec: ChannelSpec,
    address: str,
    text: str,
    keys: str,
    choice: str,
    message_id: str,
) -> InboundMessage:
    """Returns the message as the channel's adapter would hand it to intake."""
    keypad = spec.compose is Compose.KEYS
    return InboundMessage(
        channel=spec.name,
        sender_address=address,
        text="" if keypad or choice else text,
        menu_choice=keys if keypad and not choice else None,
        choice_id=choice or None,
        # The page issues a fresh id per message, so a double click is one message.
        provider_message_id=f"sim-{message_id}",
        received_at=utcnow(),
        # A caller or a web visitor chose their language on the page; SMS and chat
        # residents are read from what they write.
        language=page_language(request) if spec.delivery is Delivery.INLINE else None,
        raw={"simulator": True},
    )


def _remember(request: Request, hub: Hub, spec: ChannelSpec, address: str, normalised: str) -> None:
    """Adds the identity played to this browser's conversation, and where its later
    notices go (a caller hears about their ticket by SMS to the same number)."""
    simulator_service.remember_identity(request.session, (spec.name, address, normalised))
    notify = hub.channels.notify_channel(spec.name)
    if notify not in (None, spec.name) and hub.channels.address_kind(notify) == spec.address_kind:
        simulator_service.remember_identity(request.session, (notify, address, normalised))


@router.get("/conversation")
async def simulator_conversation(request: Request, db_session: SessionDep) -> JSONResponse:
    """Returns this browser's conversation as JSON, for the page to refresh statuses."""
    lines = await simulator_service.conversation(
        db_session=db_session, identities=_identities(request)
    )
    return JSONResponse(
        [
            {
                "at": line.at.isoformat(),
                "direction": line.direction,
                "channel": line.channel,
                "text": line.text,
                "status": line.status,
                "keys": line.keys,
                "ticket": line.ticket_number,
                # Buttons for the reply's choices: the page sends the id back as "choice".
                "choices": [{"id": c.id, "label": c.label(line.language)} for c in line.choices],
            }
            for line in lines
        ]
    )


@router.get("/tickets/{number}")
async def simulator_my_ticket(number: str, request: Request, db_session: SessionDep) -> Response:
    """Sends this browser from a ticket it raised to the ticket's shareable link."""
    ticket_id = parse_public_number(number)
    ticket = (
        None
        if ticket_id is None
        else await simulator_service.ticket_if_mine(
            db_session=db_session, ticket_id=ticket_id, identities=_identities(request)
        )
    )
    if ticket is None:
        return _not_found(request)
    link = _ticket_link(_secret(request), ticket.public_number)
    if request.url.query:
        link += "?" + request.url.query  # keep ?lang=
    return RedirectResponse(link, status_code=status.HTTP_303_SEE_OTHER)


@router.get("/tickets/{number}/{key}", response_class=HTMLResponse)
async def simulator_ticket(
    number: str, key: str, request: Request, db_session: SessionDep
) -> HTMLResponse:
    """Shows a ticket to whoever holds its link: its thread and its history in words."""
    ticket_id = parse_public_number(number)
    ticket = None
    if ticket_id is not None and simulator_service.key_opens(
        secret=_secret(request), ticket_id=ticket_id, key=key[:64]
    ):
        ticket = await tickets_service.get(db_session=db_session, ticket_id=ticket_id)
    if ticket is None:
        # A wrong key and an unknown number look alike: the number alone tells nothing.
        return _not_found(request)
    language = page_language(request)
    category = await db_session.get(Category, ticket.category_id) if ticket.category_id else None
    events = await tickets_service.events(db_session=db_session, ticket_id=ticket.id)
    names = await presenters.names_for(db_session=db_session, ticket=ticket, events=events)
    # A complaint is handled by the inspection but answered by the company it went to.
    company = (
        await complaints_presenters.company_name(
            db_session=db_session, ticket_id=ticket.id, language=language
        )
        if ticket.back_office == BackOffice.COMPLAINTS
        else None
    )
    return TEMPLATES.TemplateResponse(
        request,
        "simulator/ticket.html",
        {
            "_": translator(language),
            "lang": language,
            "ticket": ticket,
            "status": presenters.status_word(language, ticket.status),
            "back_office": presenters.back_office_name(language, ticket.back_office),
            "department": presenters.department_name(ticket, names, language),
            "company": company,
            "category": pick_name(category.names, language) if category else "",
            "messages": await tickets_service.thread(db_session=db_session, ticket_id=ticket.id),
            "history": presenters.history_rows(
                ticket, events, names, language=language, public=True
            ),
        },
    )
