"""Canned responses: ready answers per language that an admin keeps and agents insert."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.i18n import LANGUAGES

MAX_TITLE, MAX_BODY = 100, 1000


class CannedResponse(Base):
    __tablename__ = "canned_responses"
    __table_args__ = (Index("ix_canned_language_active", "language", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CannedRefused(ValueError):
    """A canned response with no title, no text, or in a language the hub does not speak."""


def _clean(language: str, title: str, body: str) -> tuple[str, str, str]:
    title, body = title.strip(), body.strip()
    if language not in LANGUAGES:
        raise CannedRefused(f"language must be one of {', '.join(LANGUAGES)}")
    if not title or len(title) > MAX_TITLE:
        raise CannedRefused(f"a title of 1 to {MAX_TITLE} characters is needed")
    if not body or len(body) > MAX_BODY:
        raise CannedRefused(f"a text of 1 to {MAX_BODY} characters is needed")
    return language, title, body


async def list_canned(
    *, db_session: AsyncSession, language: str | None = None, include_inactive: bool = False
) -> list[CannedResponse]:
    """Returns the canned responses (of one language), by title."""
    query = select(CannedResponse)
    if language is not None:
        query = query.where(CannedResponse.language == language)
    if not include_inactive:
        query = query.where(CannedResponse.active.is_(True))
    return list(
        await db_session.scalars(query.order_by(CannedResponse.language, CannedResponse.title))
    )


async def create(
    *, db_session: AsyncSession, language: str, title: str, body: str
) -> CannedResponse:
    """Adds a canned response; raises CannedRefused."""
    language, title, body = _clean(language, title, body)
    row = CannedResponse(
        language=language, title=title, body=body, active=True, created_at=utcnow()
    )
    db_session.add(row)
    await db_session.flush()
    return row


async def update(
    *, db_session: AsyncSession, canned_id: int, language: str, title: str, body: str, active: bool
) -> CannedResponse | None:
    """Changes a canned response; None if there is none with that id."""
    row = await db_session.get(CannedResponse, canned_id)
    if row is None:
        return None
    row.language, row.title, row.body = _clean(language, title, body)
    row.active = active
    return row


# The demo's: the answers a call centre gives most, in each language.
DEMO = {
    "en": [
        ("Greeting", "Hello! Thank you for contacting the city service centre. How can we help?"),
        (
            "Passed on",
            "Thank you. We have passed your request to the service in charge; "
            "you will hear from us when it moves.",
        ),
        ("Account number", "Please send the account number from your bill so we can look into it."),
    ],
    "ru": [
        (
            "Приветствие",
            "Здравствуйте! Спасибо, что обратились в городской центр обслуживания. "
            "Чем можем помочь?",
        ),
        (
            "Передано в службу",
            "Спасибо. Мы передали ваше обращение в ответственную службу и сообщим, "
            "когда по нему будут новости.",
        ),
        (
            "Номер лицевого счёта",
            "Пожалуйста, пришлите номер лицевого счёта из квитанции, чтобы мы могли разобраться.",
        ),
    ],
    "zh": [
        ("问候", "您好！感谢您联系城市服务中心。请问有什么可以帮您？"),
        ("已转交", "谢谢。我们已将您的诉求转交给负责部门，有进展时会通知您。"),
        ("账户号码", "请发送账单上的账户号码，以便我们核查。"),
    ],
}


async def load_demo(*, db_session: AsyncSession) -> None:
    """Adds the demo's canned responses."""
    for language, items in DEMO.items():
        for title, body in items:
            await create(db_session=db_session, language=language, title=title, body=body)
