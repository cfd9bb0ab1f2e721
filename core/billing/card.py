"""The billing part of a resident's card in the console: each account's balance."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.templates import render
from core.billing import inquiries
from core.config import Settings
from core.residents.models import AccountContact, Contact
from core.territory.models import Account


async def accounts_of(*, db_session: AsyncSession, resident_id: int) -> list[Account]:
    """Returns the accounts a resident holds or has proven (by PIN) to speak for."""
    linked = (
        select(AccountContact.account_id)
        .join(Contact, Contact.id == AccountContact.contact_id)
        .where(Contact.resident_id == resident_id)
    )
    rows = await db_session.scalars(
        select(Account)
        .where(or_(Account.holder_id == resident_id, Account.id.in_(linked)))
        .order_by(Account.number)
        .limit(10)
    )
    return list(rows)


async def card_lines(
    *, db_session: AsyncSession, resident_id: int, language: str, settings: Settings
) -> list[str]:
    """Returns the balance of each of the resident's accounts, as the resident reads it."""
    lines = []
    for account in await accounts_of(db_session=db_session, resident_id=resident_id):
        answer = await inquiries.balance(db_session=db_session, account=account)
        lines.append(
            render("web", "billing_balance", language, currency=settings.billing_currency, **answer)
        )
    return lines
