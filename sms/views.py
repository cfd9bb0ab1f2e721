"""Twilio webhooks: inbound SMS and delivery status, both signature-checked."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from twilio.request_validator import RequestValidator

from core.db import utcnow
from core.intake import service as intake_service
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxStatus
from core.runtime import Hub
from core.web.deps import HubDep
from sms import service as sms_service

router = APIRouter(prefix="/sms/twilio", include_in_schema=False)

XML = "application/xml"


async def _signed_form(request: Request, hub: Hub) -> dict[str, str]:
    """Returns the form if Twilio signed it; anything else is a 403 and is not read further."""
    settings = hub.settings
    if not (settings.twilio_auth_token and settings.public_url):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "SMS webhooks are not configured")
    form = {key: str(value) for key, value in (await request.form()).items()}
    # Twilio signs the URL it called: our public address, not whatever proxy we sit behind.
    url = settings.public_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    if not validator.validate(url, form, request.headers.get("X-Twilio-Signature", "")):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "bad Twilio signature")
    return form


@router.post("/inbound")
async def inbound(request: Request, hub: HubDep) -> Response:
    """Takes a resident's SMS; answers at once in TwiML when the reply is known."""
    form = await _signed_form(request, hub)
    try:
        message = sms_service.inbound_message(form, received_at=utcnow())
        result = await intake_service.receive(hub=hub, message=message, inline=True)
    except (sms_service.BadPayload, intake_service.IntakeRejected) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    except intake_service.IntakeFailed as exc:
        # Kept as failed; Twilio's retry (or fallback URL) brings it back for processing.
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    status_url = (hub.settings.public_url or "").rstrip("/") + "/sms/twilio/status"
    # A retry of a message answered before gets the answers its first request never
    # confirmed (the process died before answering); those already handed over are not
    # sent twice.
    replies = [
        (reply.outbox_id, reply.text)
        for reply in result.replies
        if not result.duplicate or reply.status == OutboxStatus.INLINE
    ]
    body = sms_service.twiml(replies, status_url)
    if replies:
        # Handed to Twilio in this answer: sent, and never sent again by the sweep; Twilio's
        # status report (the action URL names the row) then says whether it arrived.
        await outbox_service.confirm_inline_at_once(
            engine=hub.engine, ids=[outbox_id for outbox_id, _ in replies]
        )
    return Response(body, media_type=XML)


@router.post("/status", status_code=status.HTTP_204_NO_CONTENT)
async def delivery_status(request: Request, hub: HubDep) -> Response:
    """Records a delivery status report for a message we sent."""
    form = await _signed_form(request, hub)
    sid = form.get("MessageSid") or form.get("SmsSid")
    message_status = form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or not message_status:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "MessageSid and MessageStatus required")
    hint = request.query_params.get("outbox")
    if hint is not None and not hint.isdigit():
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "outbox must be a number")
    try:
        async with hub.session_factory() as session, session.begin():
            await sms_service.apply_status(
                db_session=session,
                message_sid=sid,
                status=message_status,
                error_code=form.get("ErrorCode") or None,
                outbox_hint=int(hint) if hint else None,
                max_attempts=hub.settings.outbox_max_attempts,
                retry_delay=hub.settings.outbox_retry_delay,
            )
    except sms_service.BadPayload as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    # A retry the report calls for is queued by the outbox once this commits.
    return Response(status_code=status.HTTP_204_NO_CONTENT)
