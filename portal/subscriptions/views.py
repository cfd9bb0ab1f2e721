"""Residents choose their notice topics on the web, after an SMS code proves the phone."""

from __future__ import annotations

from typing import Annotated

import phonenumbers
from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from limits import RateLimitItemPerHour
from sqlalchemy import select

from channels.contract import Channel
from channels.templates import render
from core.db import transaction
from core.notices import service as notices_service
from core.notices.enums import Topic
from core.notices.models import Subscription
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxKind
from core.residents import service as residents_service
from core.residents import verification
from core.residents.enums import ContactKind
from core.web.deps import HubDep, check_csrf, csrf_token
from portal.i18n import TEMPLATES, page_language, translator
from portal.simulator import service as simulator_service

router = APIRouter(prefix="/subscriptions", include_in_schema=False)

# Topics a resident chooses here. Outages in their building and the status of their own
# requests reach them unless turned off; votes and billing reminders only if turned on.
TOPICS = (Topic.OUTAGES, Topic.TICKET_STATUS, Topic.VOTES, Topic.BILLING)
DEFAULT_ON = frozenset({Topic.OUTAGES, Topic.TICKET_STATUS})


def masked_phone(e164: str) -> str:
    """Returns a phone as people write it, with all but the first group and the last two
    digits hidden: "+7 900 ***-**-01"."""
    try:
        number = phonenumbers.parse(e164)
        shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        keep_head = len(str(number.country_code)) + 3
    except phonenumbers.NumberParseException:
        shown, keep_head = e164, 4
    total = sum(ch.isdigit() for ch in shown)
    seen = 0
    out = []
    for ch in shown:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen <= keep_head or seen > total - 2 else "*")
        else:
            out.append(ch)
    return "".join(out)


async def _page(
    request: Request,
    hub: HubDep,
    *,
    error: str | None = None,
    notice: str | None = None,
    code: int = 200,
) -> HTMLResponse:
    language = page_language(request)
    phone = request.session.get("verified_phone")
    if request.session.pop("subscriptions_saved", False) and notice is None:
        notice = translator(language)("Saved.")
    chosen: dict[str, bool] = {}
    if phone:
        async with hub.session_factory() as session:
            contact = await residents_service.get_contact(
                db_session=session, kind=ContactKind.PHONE, value=phone
            )
            if contact is not None:
                rows = await session.scalars(
                    select(Subscription).where(Subscription.contact_id == contact.id)
                )
                chosen = {row.topic: row.active for row in rows}
    return TEMPLATES.TemplateResponse(
        request,
        "subscriptions/index.html",
        {
            "_": translator(language),
            "lang": language,
            "csrf": csrf_token(request),
            "stage": "topics"
            if phone
            else ("code" if "verification" in request.session else "phone"),
            "phone_tail": phone[-4:] if phone else "",
            "code_sent_to": request.session.get("verification_to", ""),
            "topics": [(t.value, chosen.get(t, t in DEFAULT_ON)) for t in TOPICS],
            "error": error,
            "notice": notice,
        },
        status_code=code,
    )


@router.get("", response_class=HTMLResponse)
async def subscriptions_page(request: Request, hub: HubDep) -> HTMLResponse:
    """Shows the phone form, the code form, or the topics, depending on the step."""
    return await _page(request, hub)


# Codes cost an SMS each: besides the per-phone limit, one client may not ask for codes for
# many different phones (SMS pumping).
_PER_CLIENT = RateLimitItemPerHour(10)


@router.post("/phone", response_class=HTMLResponse)
async def send_code(
    request: Request,
    hub: HubDep,
    phone: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Sends a one-time code to the phone by SMS."""
    check_csrf(request, csrf)
    language = page_language(request)
    _ = translator(language)
    client = request.client.host if request.client else "unknown"
    if not await hub.limiter.hit(_PER_CLIENT, "sms-codes", client):
        return await _page(
            request, hub, code=429, error=_("Too many codes from here. Try again in an hour.")
        )
    try:
        e164 = residents_service.normalise_phone(phone[:40], hub.settings.phone_region)
    except residents_service.InvalidAddress:
        return await _page(
            request, hub, code=422, error=_("Enter a phone number, e.g. +7 900 123-45-67.")
        )
    try:
        async with transaction(hub.session_factory) as session:
            started, code = await verification.start(db_session=session, phone=e164)
            # The outbox queues the code for delivery once this commits, on the channel
            # that carries texts to phones.
            channel = hub.channels.notices_channel(ContactKind.PHONE) or Channel.SMS
            await outbox_service.create(
                db_session=session,
                kind=OutboxKind.REPLY,
                channel=channel,
                address=e164,
                language=language,
                text=render(channel, "otp_code", language, code=code),
            )
    except verification.TooManyCodes:
        return await _page(
            request,
            hub,
            code=429,
            error=_("Too many codes for this number. Try again in 15 minutes."),
        )
    request.session["verification"] = started.id
    # Only the masked number is kept in the (signed, readable) cookie, to say where the
    # code went: enough to spot a typo, not enough to read someone's number off a screen.
    request.session["verification_to"] = masked_phone(e164)
    if hub.settings.simulator_on:
        # Without an SMS provider the code is "sent" to the console sender: the simulator
        # in this browser shows it, as it shows every SMS to the numbers played there.
        simulator_service.remember_identity(request.session, (Channel.SMS.value, phone, e164))
    return RedirectResponse("/subscriptions", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/code", response_class=HTMLResponse)
async def check_code(
    request: Request,
    hub: HubDep,
    code: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Checks the code; on success this browser may manage that phone's topics."""
    check_csrf(request, csrf)
    _ = translator(page_language(request))
    started = request.session.get("verification")
    if not isinstance(started, int):
        return RedirectResponse("/subscriptions", status_code=status.HTTP_303_SEE_OTHER)
    async with transaction(hub.session_factory) as session:
        phone = await verification.check(
            db_session=session, verification_id=started, code=code[:12]
        )
    if phone is None:
        return await _page(request, hub, code=422, error=_("The code is wrong or has expired."))
    request.session.pop("verification", None)
    request.session.pop("verification_to", None)
    request.session["verified_phone"] = phone
    return RedirectResponse("/subscriptions", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/topics", response_class=HTMLResponse)
async def save_topics(request: Request, hub: HubDep) -> Response:
    """Saves the chosen topics for the verified phone."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    phone = request.session.get("verified_phone")
    if not phone:
        return RedirectResponse("/subscriptions", status_code=status.HTTP_303_SEE_OTHER)
    wanted = {str(value) for value in form.getlist("topic")}
    language = page_language(request)
    async with transaction(hub.session_factory) as session:
        contact, _created = await residents_service.get_or_create_contact(
            db_session=session, kind=ContactKind.PHONE, value=str(phone), language=language
        )
        contact.verified = True
        current = {
            row.topic: row.active
            for row in await session.scalars(
                select(Subscription).where(Subscription.contact_id == contact.id)
            )
        }
        # Only what the person changed is written: an untouched default stays a default.
        for topic in TOPICS:
            if (topic in wanted) != current.get(topic, topic in DEFAULT_ON):
                await notices_service.set_subscription(
                    db_session=session,
                    contact_id=contact.id,
                    topic=topic,
                    active=topic in wanted,
                )
    # Redirect after POST: the page that shows the saved topics can be reloaded.
    request.session["subscriptions_saved"] = True
    return RedirectResponse("/subscriptions", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/topics")
async def topics_page() -> RedirectResponse:
    """Sends a reloaded or bookmarked form address to the page that shows the topics."""
    return RedirectResponse("/subscriptions", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/sign-out")
async def sign_out(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    """Forgets the verified phone in this browser."""
    check_csrf(request, csrf)
    request.session.pop("verified_phone", None)
    request.session.pop("verification", None)
    request.session.pop("verification_to", None)
    return RedirectResponse("/subscriptions", status_code=status.HTTP_303_SEE_OTHER)
