"""Owners' votes in the demo city: the owner register of Riverside Gardens (b001–b005), with
a couple owning a flat half each and the developer's two unsold units, the estate
committee's login, a draft ballot of b001's owners the committee can publish, and a ballot
of b004's owners open on the day the demo is loaded, so a newcomer can vote by SMS at once.
Both are building ballots: under the Housing Code a general meeting is one building's."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import service as auth_service
from core.auth.enums import Role, ScopeKind
from core.auth.service import Principal
from core.backoffice import DemoContext
from core.db import utcnow
from core.importing.service import run_import
from core.residents.enums import ContactKind
from core.residents.models import Contact, Resident
from core.territory.models import (
    Building,
    Committee,
    Estate,
    EstateBuilding,
    Premises,
    PremisesOwner,
)
from core.tickets.service import Scope
from core.votes.ballots import create_ballot, open_ballot, publish_ballot
from core.votes.register import FINISHERS, IMPORTERS
from core.votes.schemas import BallotIn

COLUMNS = (
    "building",
    "premises",
    "area",
    "owner",
    "owner_kind",
    "owner_name",
    "share",
    "phones",
    "language",
)
SPOUSE_PHONE = "+79002000002"
DEVELOPER_PHONE = "+79005550990"
TIMEZONE = "Europe/Moscow"
OPEN_BUILDING = "b004"
# The couple's building: its draft shows a flat owned half each.
DRAFT_BUILDING = "b001"


async def _register_csv(db_session: AsyncSession) -> str:
    rows = await db_session.execute(
        select(Building.code, Premises.number, Premises.area, Contact.value, Resident.display_name)
        .join(Premises, Premises.building_id == Building.id)
        .join(PremisesOwner, PremisesOwner.premises_id == Premises.id)
        .join(Resident, Resident.id == PremisesOwner.resident_id)
        .join(Contact, (Contact.resident_id == Resident.id) & (Contact.kind == ContactKind.PHONE))
        .join(EstateBuilding, EstateBuilding.building_id == Building.id)
        .join(Estate, Estate.id == EstateBuilding.estate_id)
        .where(Estate.code == "gardens")
        .order_by(Building.code, Premises.number)
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for building, number, area, phone, name in rows:
        joint = building == "b001" and number == "2"
        writer.writerow(
            (
                building,
                number,
                area,
                f"RS-{building}-{number}",
                "person",
                name,
                "1/2" if joint else "1",
                phone,
                "",  # the demo owners keep the language they already have
            )
        )
        if joint:
            writer.writerow(
                (
                    building,
                    number,
                    area,
                    "RS-b001-2-spouse",
                    "person",
                    "Owner 1-2 (spouse)",
                    "1/2",
                    SPOUSE_PHONE,
                    "ru",
                )
            )
    for number, unsold_area in (("7", "64.30"), ("8", "71.10")):
        writer.writerow(
            (
                "b005",
                number,
                unsold_area,
                "DEV-RIVERSIDE",
                "developer",
                "Riverside Development LLC",
                "1",
                DEVELOPER_PHONE,
                "ru",
            )
        )
    return out.getvalue()


async def load_votes_demo(*, db_session: AsyncSession, demo: DemoContext) -> None:
    """Loads the owner register of Riverside Gardens, the committee login, a draft ballot and
    an open one."""
    await run_import(
        db_session=db_session,
        importers=IMPORTERS,
        finishers=FINISHERS,
        what="owners",
        text=await _register_csv(db_session),
    )
    committee_id = await db_session.scalar(
        select(Committee.id).where(Committee.code == "gardens_2024")
    )
    if committee_id is None:
        return
    if demo.with_staff:
        username = "committee"
        await auth_service.create_staff(
            db_session=db_session,
            username=username,
            password=f"{username}-demo",
            role=Role.COMMITTEE,
            scope_kind=ScopeKind.COMMITTEE,
            scope_id=committee_id,
            language="ru",
        )
    committee = Principal("committee", Role.COMMITTEE, Scope(ScopeKind.COMMITTEE, committee_id))
    await _draft_ballot(db_session, committee)
    await _open_ballot(db_session, committee)


async def _draft_ballot(db_session: AsyncSession, committee: Principal) -> None:
    now = utcnow()
    # Round local hours: told tomorrow at 9, voting from 9 in twelve days for two weeks.
    today = now.astimezone(ZoneInfo(TIMEZONE)).replace(hour=9, minute=0, second=0, microsecond=0)
    notice_at, opens_at = today + timedelta(days=1), today + timedelta(days=12)
    closes_at = opens_at + timedelta(days=14, hours=11)
    await create_ballot(
        db_session=db_session,
        principal=committee,
        data=BallotIn.model_validate(
            {
                "scope": "building",
                "building": DRAFT_BUILDING,
                "titles": {
                    "en": "Management company and lifts",
                    "ru": "Управляющая компания и лифты",
                    "zh": "物业公司与电梯",
                },
                "language": "ru",
                "rule_set": "ru-housing-code",
                "notice_at": notice_at.isoformat(),
                "opens_at": opens_at.isoformat(),
                "closes_at": closes_at.isoformat(),
                "questions": [
                    {
                        "matter": "hire_company",
                        "texts": {
                            "en": "Keep «Uyut» as the management company?",
                            "ru": "Оставить «Уют» управляющей компанией?",
                            "zh": "继续由“舒适”担任物业公司？",
                        },
                    },
                    {
                        "matter": "repair_fund_use",
                        "texts": {
                            "en": "Replace the lifts from the repair fund?",
                            "ru": "Заменить лифты за счёт фонда капремонта?",
                            "zh": "用大修基金更换电梯？",
                        },
                    },
                ],
            }
        ),
        now=now,
        max_parts=6,
        timezone=TIMEZONE,
    )


async def _open_ballot(db_session: AsyncSession, committee: Principal) -> None:
    """A building's ballot that opened an hour ago and runs for two weeks.

    It is written and published as the committee would, with the notice the rules require
    (ten days), then its dates are moved back as if those days had gone by, and it is opened
    by the lifecycle step: its electorate frozen, its SMS ballot queued to every owner.
    The notice itself is recorded as given, not sent now: it announced a vote that has begun.
    """
    now = utcnow()
    days = timedelta(days=10)
    ballot = await create_ballot(
        db_session=db_session,
        principal=committee,
        data=BallotIn.model_validate(
            {
                "scope": "building",
                "building": OPEN_BUILDING,
                "titles": {
                    "en": "Entrance door intercom",
                    "ru": "Домофон в подъезде",
                    "zh": "单元门对讲机",
                },
                "language": "ru",
                "rule_set": "ru-housing-code",
                "notice_at": now.isoformat(),
                "opens_at": (now + days).isoformat(),
                "closes_at": (now + days + timedelta(days=14)).isoformat(),
                "questions": [
                    {
                        "matter": "default",
                        "texts": {
                            "en": "Install an intercom on the entrance door?",
                            "ru": "Установить домофон на входную дверь?",
                            "zh": "在单元门安装对讲机？",
                        },
                    }
                ],
            }
        ),
        now=now,
        max_parts=6,
        timezone=TIMEZONE,
    )
    await publish_ballot(db_session=db_session, principal=committee, ballot=ballot, now=now)
    opened = now - timedelta(hours=1)
    ballot.notice_at, ballot.announced_at = opened - days, opened - days
    ballot.opens_at, ballot.closes_at = opened, opened + timedelta(days=14)
    await db_session.flush()
    # The queue hand-off happens when the outbox sweep finds the rows pending (the demo is
    # loaded before any worker runs).
    await open_ballot(db_session=db_session, ballot_id=ballot.id, now=now, timezone=TIMEZONE)
