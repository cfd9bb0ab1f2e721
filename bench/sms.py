"""SMS webhook throughput and a 10,000-recipient notice blast, on PostgreSQL + Redis.

    python -m bench.sms [--requests 3000] [--recipients 10000] [--rate 100]

1. Signed inbound webhooks (signature check + intake + TwiML) through the real app, beside
   a bare FastAPI endpoint doing one INSERT on the same engine, same transport, same
   concurrency.
2. A notice to 10,000 subscribers: time to write and enqueue every message, then the
   send rate the bulk worker achieves through the Twilio client (Twilio faked at its
   http_client) against the configured rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import insert, select, text
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from bench.common import REDIS_URL, bench_database_url, recreate_database, run_concurrently
from channels.installed import registry as installed_channels
from core.config import Settings
from core.db import utcnow
from core.demo import load_demo_if_empty
from core.installed import installed
from core.jobs.tasks import running_workers, send_notice
from core.migrate import upgrade_engine
from core.notices import service as notices_service
from core.notices.enums import Audience, Topic
from core.notices.models import Subscription
from core.outbox.enums import OutboxStatus
from core.outbox.models import OutboxMessage
from core.residents.models import Contact, Resident
from core.runtime import open_hub
from portal.app import create_app
from sms.ratelimit import SendingRate
from sms.sender import TwilioSender

PUBLIC = "https://hub.example.org"
TOKEN = "bench-token-0123456789abcdef0123"


class Twilio(AsyncHttpClient):
    def __init__(self) -> None:
        super().__init__(logger=logging.getLogger("bench-twilio"), is_async=True)
        self.sent = 0
        self.first: float | None = None
        self.last = 0.0

    async def request(self, method: str, url: str, **_: Any) -> Response:
        self.sent += 1
        now = time.perf_counter()
        self.first = self.first or now
        self.last = now
        return Response(201, json.dumps({"sid": f"SM{self.sent:032d}", "status": "queued"}))


async def main(requests: int, recipients: int, rate: float, concurrency: int) -> dict[str, Any]:
    await recreate_database()
    settings = Settings(
        database_url=bench_database_url(),
        redis_url=REDIS_URL,
        db_pool_size=concurrency,
        db_max_overflow=0,
        secret_key="bench-only-secret-value-0123456789",
        public_url=PUBLIC,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token=SecretStr(TOKEN),
        twilio_messaging_service_sid="MG" + "1" * 32,
        sms_rate_per_second=rate,
    )
    twilio = Twilio()
    sms = TwilioSender(
        settings,
        http_client=twilio,
        rate=SendingRate(
            per_second=rate, reply_reserve=settings.sms_reply_reserve, redis_url=REDIS_URL
        ),
    )
    channels = installed_channels(settings, senders={"sms": sms})
    hub = await open_hub(settings, channels=channels, offices=installed())
    result: dict[str, Any] = {"concurrency": concurrency}
    try:
        if hub.redis is not None:
            await hub.redis.flushdb()
        await upgrade_engine(hub.engine, settings)
        await load_demo_if_empty(session_factory=hub.session_factory, with_staff=False)
        async with hub.engine.begin() as connection:
            await connection.execute(
                text("CREATE TABLE bench_bare (id bigserial PRIMARY KEY, payload text NOT NULL)")
            )

        app = create_app(settings, hub=hub, run_worker=False, prepare_database=False)
        bare = FastAPI()

        @bare.post("/bare")
        async def bare_insert(payload: dict[str, str]) -> dict[str, str]:
            async with hub.engine.connect() as connection:
                await connection.execute(
                    text("INSERT INTO bench_bare (payload) VALUES (:p)"), {"p": payload["Body"]}
                )
                await connection.commit()
            return {}

        validator = RequestValidator(TOKEN)
        url = PUBLIC + "/sms/twilio/inbound"
        forms = [
            {
                "MessageSid": f"SM{i:032d}",
                "From": f"+7912{i % (requests // 2):07d}",
                "To": "+79001234567",
                "Body": "Нет воды с утра, Садовая 3",
                "NumMedia": "0",
            }
            for i in range(requests)
        ]
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as web,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=bare), base_url=PUBLIC) as raw,
        ):

            async def post_bare(form: object) -> None:
                assert isinstance(form, dict)
                (await raw.post("/bare", json=form)).raise_for_status()

            async def post_webhook(form: object) -> None:
                assert isinstance(form, dict)
                signature = validator.compute_signature(url, form)
                response = await web.post(
                    "/sms/twilio/inbound", data=form, headers={"X-Twilio-Signature": signature}
                )
                response.raise_for_status()

            bare_stats = await run_concurrently(forms, post_bare, concurrency)
            hook_stats = await run_concurrently(forms, post_webhook, concurrency)
        result["bare_endpoint"] = bare_stats.line("bare FastAPI INSERT endpoint")
        result["webhook"] = hook_stats.line("signed webhook + intake + TwiML")
        result["webhook_ratio"] = round(hook_stats.per_second / bare_stats.per_second, 3)

        # The blast: subscribers written in bulk, then one notice to all of them.
        async with hub.session_factory() as session, session.begin():
            residents = list(
                await session.scalars(
                    insert(Resident).returning(Resident.id),
                    [
                        {"language": ("ru", "en", "zh")[i % 3], "created_at": utcnow()}
                        for i in range(recipients)
                    ],
                )
            )
            contacts = list(
                await session.scalars(
                    insert(Contact).returning(Contact.id),
                    [
                        {
                            "resident_id": rid,
                            "kind": "phone",
                            "value": f"+7913{i:07d}",
                            "verified": True,
                            "language": ("ru", "en", "zh")[i % 3],
                            "created_at": utcnow(),
                        }
                        for i, rid in enumerate(residents)
                    ],
                )
            )
            await session.execute(
                insert(Subscription),
                [
                    {
                        "contact_id": cid,
                        "topic": Topic.OUTAGES,
                        "active": True,
                        "updated_at": utcnow(),
                    }
                    for cid in contacts
                ],
            )
            notice = await notices_service.create_notice(
                db_session=session,
                topic=Topic.OUTAGES,
                audience=Audience.SUBSCRIBERS,
                scope_kind="city",
                scope_id=None,
                send_at=None,
                created_by="bench",
                max_parts=3,
                texts={
                    "en": "Water off Tuesday 10:00-14:00.",
                    "ru": "Во вторник с 10 до 14 не будет воды.",
                    "zh": "周二10点至14点停水。",
                },
            )
        started = time.perf_counter()
        enqueued = await send_notice({"hub": hub}, notice_id=notice.id)  # type: ignore[typeddict-item]
        result["blast_enqueue"] = (
            f"{enqueued} messages written and enqueued in {time.perf_counter() - started:.2f} s"
        )

        target = min(enqueued, int(rate * 30))
        async with running_workers(hub, concurrency=20):
            while twilio.sent < target:  # noqa: ASYNC110 (polling a counter in a benchmark)
                await asyncio.sleep(0.2)
        achieved = (twilio.sent - 1) / (twilio.last - (twilio.first or twilio.last))
        result["blast_send"] = (
            f"{twilio.sent} sent, {achieved:.1f}/s achieved against "
            f"{rate:.0f}/s configured ({rate * 0.8:.0f}/s for bulk "
            f"with the 20 % reply reserve)"
        )
        async with hub.session_factory() as session:
            failed = await session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.FAILED).limit(1)
            )
        result["provider_errors"] = "none" if failed is None else "some"
    finally:
        await hub.close()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    print(
        json.dumps(
            asyncio.run(main(args.requests, args.recipients, args.rate, args.concurrency)),
            indent=2,
            ensure_ascii=False,
        )
    )
