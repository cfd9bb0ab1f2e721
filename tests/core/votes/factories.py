"""Votes test helpers on top of the demo city: Riverside Gardens (estate ``gardens``,
buildings b001–b005) has an owner register (every demo flat owner, flat b001-2 owned half
each by a couple, the developer's unsold b005-7 and b005-8) and a committee, gardens_2024.

The default ballot is a Russian one of building b001 (six flats, 377.40 m², seven owners:
the couple's flat and owners reading English, Chinese and Russian), since under the Housing
Code a general meeting is one building's; a test about a whole estate uses the Chinese
rules, whose owners' assembly is the estate's.

Ballots must be announced days before they open, so tests write them with real future
dates and then move them into the past (``shift_open``), as if the days had gone by."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from core.auth import service as auth_service
from core.auth.enums import Role, ScopeKind
from core.db import transaction, utcnow
from core.intake import service as intake
from core.intake.service import IntakeResult
from core.runtime import Hub
from core.territory.models import Committee
from core.votes import ballots
from core.votes.models import Ballot
from tests.factories import inbound

SPOUSE = "+79002000002"
DEVELOPER = "+79005550990"
TIMEZONE = "Europe/Moscow"


def owner_phone(building: int, flat: int = 1) -> str:
    """Returns the phone of the demo owner of ``flat`` in building b<building>."""
    return f"+7900100{(building - 1) * 6 + flat:04d}"


async def committee_key(hub: Hub, code: str = "gardens_2024") -> dict[str, str]:
    """Returns headers with an API key of the owners' committee ``code``."""
    async with transaction(hub.session_factory) as session:
        committee_id = await session.scalar(select(Committee.id).where(Committee.code == code))
        _, key = await auth_service.create_api_key(
            db_session=session,
            name=f"committee {code}",
            role=Role.COMMITTEE,
            scope_kind=ScopeKind.COMMITTEE,
            scope_id=committee_id,
        )
    return {"X-API-Key": key}


def ballot_body(**overrides: Any) -> dict[str, Any]:
    """Returns a valid Russian ballot of building b001, one ordinary question, told tomorrow,
    open in 12 days for 14 days."""
    start = utcnow().replace(microsecond=0)
    body: dict[str, Any] = {
        "scope": "building",
        "building": "b001",
        "titles": {"en": "Playground", "ru": "Детская площадка", "zh": "儿童游乐场"},
        "language": "ru",
        "rule_set": "ru-housing-code",
        "notice_at": (start + timedelta(days=1)).isoformat(),
        "opens_at": (start + timedelta(days=12)).isoformat(),
        "closes_at": (start + timedelta(days=26)).isoformat(),
        "questions": [
            {
                "matter": "default",
                "texts": {
                    "en": "Build a playground?",
                    "ru": "Построить детскую площадку?",
                    "zh": "建儿童游乐场？",
                },
            }
        ],
    }
    body.update(overrides)
    return body


def chinese_estate(**overrides: Any) -> dict[str, Any]:
    """Returns the overrides of ``ballot_body`` for a Chinese-rules ballot of the whole of
    Riverside Gardens (the owners' assembly is the estate's): told tomorrow, open in 17 days
    (15 days' notice) for 10 days, one question on "other major matters"."""
    start = utcnow().replace(microsecond=0)
    return {
        "scope": "estate",
        "estate": "gardens",
        "building": None,
        "rule_set": "cn-civil-code",
        "language": "zh",
        "notice_at": (start + timedelta(days=1)).isoformat(),
        "opens_at": (start + timedelta(days=17)).isoformat(),
        "closes_at": (start + timedelta(days=27)).isoformat(),
        "questions": [
            {
                "matter": "other",
                "texts": {
                    "en": "Build a playground?",
                    "ru": "Построить детскую площадку?",
                    "zh": "建儿童游乐场？",
                },
            }
        ],
        **overrides,
    }


async def shift_open(hub: Hub, ballot_id: int, *, now: datetime | None = None) -> list[int]:
    """Moves a published ballot's dates back so it opened a minute ago (durations kept) and
    runs the opening step; returns the outbox ids of the SMS ballot."""
    now = now or utcnow()
    async with transaction(hub.session_factory) as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        delta = ballot.opens_at - (now - timedelta(minutes=1))
        await session.execute(
            update(Ballot)
            .where(Ballot.id == ballot_id)
            .values(
                notice_at=ballot.notice_at - delta,
                opens_at=ballot.opens_at - delta,
                closes_at=ballot.closes_at - delta,
            )
        )
    async with transaction(hub.session_factory) as session:
        return await ballots.open_ballot(
            db_session=session, ballot_id=ballot_id, now=now, timezone=TIMEZONE
        )


async def close_at(hub: Hub, ballot_id: int, now: datetime) -> list[int]:
    """Runs the closing step as if it were ``now``."""
    async with transaction(hub.session_factory) as session:
        return await ballots.close_ballot(
            db_session=session, ballot_id=ballot_id, now=now, timezone=TIMEZONE
        )


async def reply(hub: Hub, text: str, *, sender: str) -> IntakeResult:
    """Sends an owner's SMS through intake."""
    return await intake.receive(hub=hub, message=inbound(text, sender=sender))


async def open_ballot_via_api(
    hub: Hub, client: Any, headers: dict[str, str], **overrides: Any
) -> int:
    """Creates, publishes and opens a ballot through the API; returns its id."""
    created = await client.post(
        "/api/v1/votes/ballots", json=ballot_body(**overrides), headers=headers
    )
    assert created.status_code == 201, created.text
    ballot_id = int(created.json()["id"])
    published = await client.post(f"/api/v1/votes/ballots/{ballot_id}/publish", headers=headers)
    assert published.status_code == 200, published.text
    await shift_open(hub, ballot_id)
    return ballot_id
