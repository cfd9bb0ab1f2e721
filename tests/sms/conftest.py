"""SMS fixtures: Twilio settings, a fake Twilio at the REST client's http_client, signing."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from channels.contract import Sender
from core.config import Settings
from sms.ratelimit import SendingRate
from sms.sender import TwilioSender

PUBLIC_URL = "https://hub.example.org"
TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT = "AC" + "0" * 32
SERVICE = "MG" + "1" * 32


class FakeTwilio(AsyncHttpClient):
    """Twilio's REST API as seen through the client's http_client: records and answers."""

    def __init__(self) -> None:
        super().__init__(logger=logging.getLogger("fake-twilio"), is_async=True)
        self.requests: list[dict[str, Any]] = []
        self.answers: list[tuple[int, dict[str, Any]]] = []

    async def request(
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        auth: Any = None,
        timeout: Any = None,
        allow_redirects: bool = False,
    ) -> Response:
        self.requests.append({"method": method, "url": url, "data": dict(data or {})})
        if self.answers:
            status, body = self.answers.pop(0)
        else:
            status, body = 201, {"sid": f"SM{len(self.requests):032d}", "status": "queued"}
        return Response(status, json.dumps(body))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "public_url": PUBLIC_URL,
            "twilio_account_sid": ACCOUNT,
            "twilio_auth_token": SecretStr(TOKEN),
            "twilio_messaging_service_sid": SERVICE,
            "sms_rate_per_second": 1000.0,
        }
    )


@pytest.fixture
def twilio() -> FakeTwilio:
    return FakeTwilio()


@pytest.fixture
def senders(settings: Settings, twilio: FakeTwilio) -> dict[str, Sender]:
    rate = SendingRate(
        per_second=settings.sms_rate_per_second,
        reply_reserve=settings.sms_reply_reserve,
        redis_url=settings.redis_url,
    )
    return {"sms": TwilioSender(settings, rate=rate, http_client=twilio)}


async def signed_post(
    client: httpx.AsyncClient, path: str, params: dict[str, str], *, token: str = TOKEN
) -> httpx.Response:
    """Posts a form the way Twilio does, signed with the account's auth token."""
    signature = RequestValidator(token).compute_signature(PUBLIC_URL + path, params)
    return await client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def inbound(
    body: str, *, sid: str = "SM" + "a" * 32, sender: str = "+79005550101", **extra: str
) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": ACCOUNT,
        "From": sender,
        "To": "+79001234567",
        "Body": body,
        "NumMedia": "0",
        **extra,
    }
