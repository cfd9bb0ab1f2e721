"""The resident card and staff search: one person across every channel, found by what the
caller has at hand (a phone, an account number, a request number, an address).

Staff see a resident only through their scope: a city-wide role sees anyone; a district's
or a department's staff see residents who have a request in their territory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import ScopeKind
from core.backoffice import BackOffices
from core.config import Settings
from core.i18n import pick_name
from core.residents.models import AccountContact, Contact, Resident
from core.residents.service import InvalidAddress, normalise_phone
from core.territory.models import Account, Building, Premises
from core.tickets.enums import OPEN_STATUSES
from core.tickets.models import Ticket
from core.tickets.numbers import parse_public_number
from core.tickets.service import Scope

RESULTS = 20


@dataclass(frozen=True)
class ResidentCard:
    resident: Resident
    contacts: list[Contact]
    premises: list[str]
    open_tickets: list[Ticket]
    # Back office name → its lines (a balance, an open ballot), in the reader's language.
    offices: dict[str, list[str]] = field(default_factory=dict)


async def visible(*, db_session: AsyncSession, scope: Scope, resident_id: int) -> bool:
    """Returns whether staff of ``scope`` may see this resident (see the module's note)."""
    if scope.kind is ScopeKind.CITY:
        return await db_session.get(Resident, resident_id) is not None
    found = await db_session.scalar(
        scope.apply(select(Ticket.id).where(Ticket.resident_id == resident_id)).limit(1)
    )
    return found is not None


async def _premises(db_session: AsyncSession, resident_id: int, language: str) -> list[str]:
    linked = (
        select(AccountContact.account_id)
        .join(Contact, Contact.id == AccountContact.contact_id)
        .where(Contact.resident_id == resident_id)
    )
    rows = await db_session.execute(
        select(Building.addresses, Premises.number, Account.number)
        .join(Premises, Premises.building_id == Building.id)
        .join(Account, Account.premises_id == Premises.id)
        .where((Account.holder_id == resident_id) | Account.id.in_(linked))
        .order_by(Account.number)
        .limit(10)
    )
    return [f"{pick_name(a, language)}, {flat} ({account})" for a, flat, account in rows.all()]


async def resident_card(
    *,
    db_session: AsyncSession,
    offices: BackOffices,
    settings: Settings,
    scope: Scope,
    resident_id: int,
    language: str,
) -> ResidentCard | None:
    """Returns the card, or None if there is no such resident inside ``scope``."""
    if not await visible(db_session=db_session, scope=scope, resident_id=resident_id):
        return None
    resident = await db_session.get(Resident, resident_id)
    assert resident is not None
    contacts = list(
        await db_session.scalars(
            select(Contact).where(Contact.resident_id == resident_id).order_by(Contact.kind)
        )
    )
    tickets = await db_session.scalars(
        scope.apply(
            select(Ticket).where(
                Ticket.resident_id == resident_id,
                Ticket.status.in_([str(s) for s in OPEN_STATUSES]),
            )
        )
        .order_by(Ticket.created_at.desc())
        .limit(RESULTS)
    )
    return ResidentCard(
        resident=resident,
        contacts=contacts,
        premises=await _premises(db_session, resident_id, language),
        open_tickets=list(tickets),
        offices=await offices.card_lines(
            db_session=db_session, resident_id=resident_id, language=language, settings=settings
        ),
    )


@dataclass(frozen=True)
class SearchResults:
    tickets: list[Ticket]
    residents: list[Resident]


async def _residents_by_phone(db_session: AsyncSession, query: str, region: str) -> list[int]:
    try:
        phone = normalise_phone(query, region)
    except InvalidAddress:
        return []
    rows = await db_session.scalars(select(Contact.resident_id).where(Contact.value == phone))
    return list(rows)


async def _residents_by_account(db_session: AsyncSession, number: str) -> list[int]:
    account = await db_session.scalar(select(Account).where(Account.number == number))
    if account is None:
        return []
    linked = await db_session.scalars(
        select(Contact.resident_id)
        .join(AccountContact, AccountContact.contact_id == Contact.id)
        .where(AccountContact.account_id == account.id)
    )
    return sorted({*([account.holder_id] if account.holder_id else []), *linked})


async def search(
    *, db_session: AsyncSession, scope: Scope, query: str, region: str
) -> SearchResults:
    """Finds requests and residents by request number, phone, account number or address."""
    text = query.strip()[:200]
    tickets: dict[int, Ticket] = {}
    resident_ids: list[int] = []
    ticket_id = parse_public_number(text)
    if ticket_id is not None:
        ticket = await db_session.get(Ticket, ticket_id)
        if ticket is not None and scope.allows(ticket):
            tickets[ticket.id] = ticket
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 7:
        resident_ids += await _residents_by_phone(db_session, text, region)
    if digits == text and 5 <= len(digits) <= 12:
        resident_ids += await _residents_by_account(db_session, digits)
    if len(text) >= 3 and digits != text:
        pattern = "%" + text.replace("\\", "").replace("%", "").replace("_", "") + "%"
        found = await db_session.scalars(
            scope.apply(select(Ticket).where(func.lower(Ticket.address).like(pattern.lower())))
            .order_by(Ticket.created_at.desc())
            .limit(RESULTS)
        )
        tickets.update({t.id: t for t in found})
    residents = [
        resident
        for resident_id in dict.fromkeys(resident_ids)
        if await visible(db_session=db_session, scope=scope, resident_id=resident_id)
        and (resident := await db_session.get(Resident, resident_id)) is not None
    ]
    if residents:
        found = await db_session.scalars(
            scope.apply(select(Ticket).where(Ticket.resident_id.in_([r.id for r in residents])))
            .order_by(Ticket.created_at.desc())
            .limit(RESULTS)
        )
        tickets.update({t.id: t for t in found})
    return SearchResults(tickets=list(tickets.values())[:RESULTS], residents=residents[:RESULTS])
