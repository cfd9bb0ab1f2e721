"""Sending SMS through Twilio's REST API (the async client), at the allowed rate."""

from __future__ import annotations

import logging

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from channels.contract import Channel, Reply, SendError, SendResult
from core.config import Settings
from sms.ratelimit import SendingRate

logger = logging.getLogger("hub.sms.twilio")

# REST errors worth another try later: too many requests, Twilio's own server errors,
# and the queue overflow. Anything else (an invalid or unsubscribed number, a landline,
# a blocked sender) fails the same way every time.
RETRYABLE_REST_CODES = frozenset({20429, 20500, 20503, 30001})


class TwilioSender:
    """The SMS channel's Sender for Twilio; another gateway implements the same ``send``."""

    channel: str = Channel.SMS

    def __init__(
        self,
        settings: Settings,
        *,
        rate: SendingRate,
        http_client: AsyncHttpClient | None = None,
    ) -> None:
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            raise ValueError("HUB_TWILIO_ACCOUNT_SID and HUB_TWILIO_AUTH_TOKEN are required")
        if not (settings.twilio_messaging_service_sid or settings.twilio_from_number):
            raise ValueError("set HUB_TWILIO_MESSAGING_SERVICE_SID or HUB_TWILIO_FROM_NUMBER")
        if not settings.public_url:
            raise ValueError("HUB_PUBLIC_URL is required for delivery status callbacks")
        self._client = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            http_client=http_client or AsyncTwilioHttpClient(timeout=10),
        )
        self._service = settings.twilio_messaging_service_sid
        self._from = settings.twilio_from_number
        self._status_url = settings.public_url.rstrip("/") + "/sms/twilio/status"
        # The outbox id rides in the callback URL: a status report can then find its row
        # even if it arrives before the send's own result is committed.
        self._rate = rate
        self._rate_key = self._service or self._from or "default"

    async def send(self, reply: Reply, *, idempotency_key: str) -> SendResult:
        """Sends one SMS; the rate limit may make this wait its turn."""
        await self._rate.acquire(self._rate_key, bulk=reply.bulk)
        sender = (
            {"messaging_service_sid": self._service} if self._service else {"from_": self._from}
        )
        try:
            message = await self._client.messages.create_async(
                to=reply.address,
                body=reply.text,
                status_callback=(
                    f"{self._status_url}?outbox={reply.reference}"
                    if reply.reference
                    else self._status_url
                ),
                **sender,
            )
        except TwilioRestException as exc:
            code = exc.code
            retryable = exc.status == 429 or exc.status >= 500 or code in RETRYABLE_REST_CODES
            raise SendError(
                exc.msg or "Twilio refused the message",
                retryable=retryable,
                code=str(code or exc.status),
            ) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise SendError(f"Twilio unreachable: {exc!r}", retryable=True, code="network") from exc
        return SendResult(
            provider_message_id=str(message.sid), status=str(message.status or "queued")
        )
