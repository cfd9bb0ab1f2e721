"""Residents: turning a channel address into one person, and remembering their language."""

from __future__ import annotations

import phonenumbers
from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.residents.enums import ContactKind
from core.residents.models import Contact, Resident
from core.territory.models import Building, Community, Premises, PremisesOwner


class InvalidAddress(ValueError):
    """The sender address cannot identify anyone (an unparseable phone number, say)."""


def normalise_phone(raw: str, region: str) -> str:
    """Returns a phone number in E.164, or raises InvalidAddress."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidAddress("not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidAddress("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_address(kind: str, raw: str, *, region: str) -> tuple[ContactKind, str]:
    """Returns the contact kind and canonical value of an address of ``kind``.

    The kind comes from the channel's spec (``hub.channels.address_kind(channel)``): the
    core knows kinds of address, not channels.
    """
    try:
        kind = ContactKind(kind)
    except ValueError:
        raise InvalidAddress(f"unknown kind of address {kind!r}") from None
    value = raw.strip()
    if kind is ContactKind.PHONE:
        return kind, normalise_phone(value, region)
    if kind is ContactKind.TELEGRAM and not value.lstrip("-").isdigit():
        raise InvalidAddress("a Telegram chat id is a number")
    if not value:
        raise InvalidAddress("empty sender address")
    return kind, value


def mask_address(value: str) -> str:
    """Returns an address safe to log: a phone keeps its last two digits only."""
    if len(value) <= 4:
        return "***"
    return f"{value[:2]}***{value[-2:]}"


async def get_contact(*, db_session: AsyncSession, kind: str, value: str) -> Contact | None:
    """Returns the contact for a (kind, value) pair."""
    return await db_session.scalar(
        select(Contact).where(Contact.kind == kind, Contact.value == value)
    )


async def get_or_create_contact(
    *,
    db_session: AsyncSession,
    kind: str,
    value: str,
    language: str,
    display_name: str | None = None,
) -> tuple[Contact, bool]:
    """Returns the contact for (kind, value), creating it and its resident if new.

    Two first messages from the same new number can arrive at once; the unique constraint
    decides (ON CONFLICT DO NOTHING), and the loser drops the resident it made and reads
    the winner's contact.
    """
    contact = await get_contact(db_session=db_session, kind=kind, value=value)
    if contact is not None:
        return contact, False
    return await create_contact(
        db_session=db_session,
        kind=kind,
        value=value,
        language=language,
        display_name=display_name,
    )


async def create_contact(
    *,
    db_session: AsyncSession,
    kind: str,
    value: str,
    language: str,
    display_name: str | None = None,
) -> tuple[Contact, bool]:
    """Creates a resident and their contact; if the contact appeared meanwhile, returns it.

    Returns (contact, created). The loser of a race drops the resident it made.
    """
    now = utcnow()
    resident_id = await db_session.scalar(
        insert(Resident)
        .values(display_name=display_name, language=language, created_at=now)
        .returning(Resident.id)
    )
    dialect = postgresql if db_session.get_bind().dialect.name == "postgresql" else sqlite
    contact = await db_session.scalar(
        dialect.insert(Contact)
        .values(
            resident_id=resident_id,
            kind=kind,
            value=value,
            language=language,
            verified=False,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["kind", "value"])
        .returning(Contact)
    )
    if contact is not None:
        return contact, True
    await db_session.execute(delete(Resident).where(Resident.id == resident_id))
    contact = await get_contact(db_session=db_session, kind=kind, value=value)
    if contact is None:
        raise RuntimeError("contact vanished after a conflicting insert")
    return contact, False


async def get_home(*, db_session: AsyncSession, resident_id: int) -> tuple[int, int, int] | None:
    """Returns (building, community, district) ids of the first premises a resident owns."""
    row = (
        await db_session.execute(
            select(Building.id, Community.id, Community.district_id)
            .join(Premises, Premises.building_id == Building.id)
            .join(PremisesOwner, PremisesOwner.premises_id == Premises.id)
            .join(Community, Community.id == Building.community_id)
            .where(PremisesOwner.resident_id == resident_id)
            .order_by(PremisesOwner.id)
            .limit(1)
        )
    ).first()
    return (row[0], row[1], row[2]) if row else None


async def get(*, db_session: AsyncSession, resident_id: int) -> Resident | None:
    """Returns a resident based on the given id."""
    return await db_session.get(Resident, resident_id)
