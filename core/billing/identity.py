"""Who may hear an account's figures: its holder, a linked contact, or whoever knows its PIN.

The PIN is printed on the paper bill. Four to eight digits are easy to guess offline, so
the stored hash is keyed with the hub's secret (a leaked table alone does not give the PINs),
and guessing online is stopped by counting wrong PINs per contact and per account.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, CompoundSelect, Select, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing.commands import PIN_PATTERN
from core.billing.models import PinFailure
from core.residents.models import AccountContact, Contact
from core.territory.models import Account


class PinRejected(ValueError):
    """A PIN that cannot be set; the reason is for the operator."""


def hash_pin(*, secret: str, account_number: str, pin: str) -> str:
    """Returns the keyed hash of an account's PIN."""
    message = f"{account_number}:{pin}".encode()
    return "hmac256$" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check_pin_format(pin: str) -> str:
    """Returns the PIN if it is 4 to 8 digits, else raises PinRejected."""
    if not PIN_PATTERN.match(pin):
        raise PinRejected("a PIN is 4 to 8 digits")
    return pin


async def accounts_for_contact(*, db_session: AsyncSession, contact: Contact) -> list[Account]:
    """Returns the accounts a contact may ask about: held by its resident, or linked to it."""
    linked = select(AccountContact.account_id).where(AccountContact.contact_id == contact.id)
    allowed: Select[int] | CompoundSelect[int] = linked
    if contact.resident_id is not None:
        # A UNION, not "id IN (…) OR holder_id = …": PostgreSQL cannot use an index for
        # the OR and would read every account on every balance question.
        allowed = linked.union(select(Account.id).where(Account.holder_id == contact.resident_id))
    return list(
        await db_session.scalars(
            select(Account).where(Account.id.in_(allowed)).order_by(Account.id)
        )
    )


async def set_pin(*, db_session: AsyncSession, account: Account, pin: str, secret: str) -> None:
    """Sets an account's PIN; contacts that proved the old one must prove the new one."""
    account.pin_hash = hash_pin(
        secret=secret, account_number=account.number, pin=check_pin_format(pin)
    )
    await db_session.execute(
        delete(AccountContact).where(
            AccountContact.account_id == account.id, AccountContact.via == "pin"
        )
    )


async def link(*, db_session: AsyncSession, account_id: int, contact_id: int, via: str) -> None:
    """Links a contact to an account (again is a no-op)."""
    dialect = postgresql if db_session.get_bind().dialect.name == "postgresql" else sqlite
    await db_session.execute(
        dialect.insert(AccountContact)
        .values(account_id=account_id, contact_id=contact_id, via=via)
        .on_conflict_do_nothing(index_elements=["account_id", "contact_id"])
    )


class PinStatus(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    UNKNOWN_ACCOUNT = "unknown_account"
    NO_PIN = "no_pin"  # the account has no PIN yet: the centre issues one
    LOCKED = "locked"


@dataclass(frozen=True)
class PinCheck:
    status: PinStatus
    account: Account | None = None
    attempts_left: int = 0
    retry_minutes: int = 0


async def prove_with_pin(
    *,
    db_session: AsyncSession,
    contact: Contact,
    account_number: str,
    pin: str,
    secret: str,
    now: datetime,
    max_failures: int,
    lock_minutes: int,
) -> PinCheck:
    """Checks an account number and PIN for a contact and links them on success.

    Wrong PINs and unknown numbers both count against the contact; wrong PINs also count
    against the account, so neither one phone trying many accounts nor many phones trying
    one account get more than ``max_failures`` guesses per ``lock_minutes``.
    """
    since = now - timedelta(minutes=lock_minutes)
    # Serialises concurrent guesses from one contact (PostgreSQL; SQLite writes one at a time).
    await db_session.execute(select(Contact.id).where(Contact.id == contact.id).with_for_update())
    account = await db_session.scalar(
        select(Account).where(Account.number == account_number).with_for_update()
    )
    failures = await _failures(db_session, PinFailure.contact_id == contact.id, since)
    # The account's own count locks it against many phones, but the tries left told to
    # this sender are their own: counting the account's would tell that it exists.
    account_failures = (
        await _failures(db_session, PinFailure.account_id == account.id, since)
        if account is not None
        else 0
    )
    if max(failures, account_failures) >= max_failures:
        return PinCheck(PinStatus.LOCKED, retry_minutes=lock_minutes)
    if (
        account is None
        or account.pin_hash is None
        or not hmac.compare_digest(
            hash_pin(secret=secret, account_number=account_number, pin=pin), account.pin_hash or ""
        )
    ):
        db_session.add(
            PinFailure(
                contact_id=contact.id,
                account_id=account.id if account is not None else None,
                failed_at=now,
            )
        )
        await db_session.flush()
        left = max(0, max_failures - failures - 1)
        if left == 0:
            return PinCheck(PinStatus.LOCKED, retry_minutes=lock_minutes)
        # Every kind of miss costs a try, so probing which numbers exist is limited too.
        if account is None:
            return PinCheck(PinStatus.UNKNOWN_ACCOUNT, attempts_left=left)
        if account.pin_hash is None:
            return PinCheck(PinStatus.NO_PIN, account, attempts_left=left)
        return PinCheck(PinStatus.WRONG, attempts_left=left)
    await link(db_session=db_session, account_id=account.id, contact_id=contact.id, via="pin")
    return PinCheck(PinStatus.OK, account)


async def _failures(
    db_session: AsyncSession, condition: ColumnElement[bool], since: datetime
) -> int:
    count = await db_session.scalar(
        select(func.count(PinFailure.id)).where(condition, PinFailure.failed_at >= since)
    )
    return int(count or 0)
