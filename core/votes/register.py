"""The owner register: who owns which unit, in what share, of what area, reachable at which
phones. Imported from the housing authority's register (CSV or YAML, ``hub import owners``).

One row is one owner of one unit. Joint owners are several rows for one unit, each with a
share; one person with several units is one owner key on several rows; the developer's
unsold units are rows of an owner of kind ``developer``. A file is the whole truth for the
units it names: an owner it no longer lists for a unit has sold it, and the phones it lists
for an owner are all of that owner's phones.

A number added to an owner who already had one is *pending* until it is confirmed (by the
account PIN on the bill, or by staff who saw the owner's documents): a register edit or a
recycled number must not hand someone else's vote to a stranger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.importing.service import Finisher, ImportOptions, ImportReport, RowImporter
from core.residents import service as residents_service
from core.residents.enums import ContactKind
from core.residents.models import AccountContact, Contact, Resident
from core.territory.models import Account, Building, Premises, PremisesOwner
from core.votes.enums import OwnerKind, PhoneStatus
from core.votes.models import Owner, OwnerPhone

MAX_PHONES = 3
_PHONE_SPLIT = re.compile(r"[;,|]")
_CENT = Decimal("0.01")
_SHARE_STEP = Decimal("0.000001")


@dataclass
class _FileState:
    """What the rows so far said, for the whole-file step."""

    # premises id → {resident id: share}, and the lines that named the premises.
    owners_of: dict[int, dict[int, Decimal]] = field(default_factory=dict)
    lines_of: dict[int, list[int]] = field(default_factory=dict)
    label_of: dict[int, str] = field(default_factory=dict)
    # owner id → phones (E.164) and the language they read.
    phones_of: dict[int, set[str]] = field(default_factory=dict)
    language_of: dict[int, str] = field(default_factory=dict)
    created_owners: set[int] = field(default_factory=set)
    # Owners with a row already counted as updated.
    updated_owners: set[int] = field(default_factory=set)
    building_ids: dict[str, int] = field(default_factory=dict)


def _state(report: ImportReport) -> _FileState:
    state = report.state.get("owners")
    if state is None:
        state = report.state["owners"] = _FileState()
    assert isinstance(state, _FileState)
    return state


def _text(row: dict[str, str], column: str, *, required: bool = True, limit: int = 200) -> str:
    value = (row.get(column) or "").strip()
    if required and not value:
        raise ValueError(f"{column} is required")
    if len(value) > limit:
        raise ValueError(f"{column} is longer than {limit} characters")
    return value


def _area(row: dict[str, str], column: str) -> Decimal | None:
    raw = _text(row, column, required=False).replace(",", ".").replace(" ", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{column} {raw!r} is not a number") from None
    if not value.is_finite() or value <= 0 or value >= Decimal("100000000"):
        raise ValueError(f"{column} must be a positive area in m²")
    if value != value.quantize(_CENT):
        raise ValueError(f"{column} has more than two decimals")
    return value


def parse_share(raw: str) -> Decimal:
    """Returns a share written as 1, 0.5 or 1/3, to six decimals (1/3 → 0.333333)."""
    text = raw.strip().replace(",", ".") or "1"
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"share {raw!r} is not a fraction like 1, 0.5 or 1/3") from None
    if not 0 < value <= 1:
        raise ValueError("share must be more than 0 and at most 1")
    share = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(_SHARE_STEP)
    if share == 0:
        raise ValueError("share is too small (under one millionth)")
    return share


def _phones(row: dict[str, str], region: str) -> set[str]:
    raw = _text(row, "phones", required=False, limit=200)
    phones = {
        residents_service.normalise_phone(p.strip(), region)
        for p in _PHONE_SPLIT.split(raw)
        if p.strip()
    }
    if len(phones) > MAX_PHONES:
        raise ValueError(f"at most {MAX_PHONES} phones per owner")
    return phones


async def _building_id(db_session: AsyncSession, state: _FileState, code: str) -> int:
    if code not in state.building_ids:
        found = await db_session.scalar(select(Building.id).where(Building.code == code))
        if found is None:
            raise ValueError(f"unknown building {code!r}")
        state.building_ids[code] = found
    return state.building_ids[code]


async def _premises(
    db_session: AsyncSession, row: dict[str, str], building_id: int
) -> tuple[Premises, bool]:
    number = _text(row, "premises", limit=16)
    registered, surveyed, contract = (
        _area(row, "area"),
        _area(row, "area_surveyed"),
        _area(row, "area_contract"),
    )
    # DOMAIN §3: the property register's area, else the surveyed one, else the contract's.
    area = registered or surveyed or contract
    if area is None:
        raise ValueError("one of area, area_surveyed or area_contract is required")
    values = {
        "area": area,
        "registered_area": registered,
        "surveyed_area": surveyed,
        "contract_area": contract,
        "kind": _text(row, "kind", required=False, limit=16) or "flat",
    }
    premises = await db_session.scalar(
        select(Premises).where(Premises.building_id == building_id, Premises.number == number)
    )
    if premises is None:
        premises = Premises(building_id=building_id, number=number, **values)
        db_session.add(premises)
        await db_session.flush()
        return premises, True
    changed = False
    for name, value in values.items():
        if getattr(premises, name) != value:
            setattr(premises, name, value)
            changed = True
    return premises, changed


async def _owner(
    db_session: AsyncSession, row: dict[str, str], phones: set[str], options: ImportOptions
) -> tuple[Owner, bool, bool]:
    """Returns the row's owner, whether it is new, and whether its kind or name changed."""
    code = _text(row, "owner", limit=64)
    kind = OwnerKind(_text(row, "owner_kind", required=False) or OwnerKind.PERSON)
    name = _text(row, "owner_name", required=False) or None
    language = _text(row, "language", required=False, limit=8) or None
    if language is not None and language not in ("en", "ru", "zh"):
        raise ValueError("language must be en, ru or zh")
    owner = await db_session.scalar(select(Owner).where(Owner.code == code))
    if owner is not None:
        changed = owner.kind != kind
        owner.kind = kind
        resident = await db_session.get(Resident, owner.resident_id)
        if resident is not None and name and resident.display_name != name:
            resident.display_name = name
            changed = True
        return owner, False, changed
    # Someone who already writes to us from one of these phones, and is not yet anyone's
    # register entry, is this owner: their conversations and their vote meet.
    resident_id = await db_session.scalar(
        select(Contact.resident_id)
        .where(
            Contact.kind == ContactKind.PHONE,
            Contact.value.in_(sorted(phones)),
            ~select(Owner.id).where(Owner.resident_id == Contact.resident_id).exists(),
        )
        .order_by(Contact.id)
        .limit(1)
    )
    if resident_id is None:
        resident = Resident(display_name=name, language=language or options.language)
        db_session.add(resident)
        await db_session.flush()
        resident_id = resident.id
    elif name:
        # The register is the authority for the name printed on protocols.
        known = await db_session.get(Resident, resident_id)
        if known is not None:
            known.display_name = name
    owner = Owner(code=code, resident_id=resident_id, kind=kind)
    db_session.add(owner)
    await db_session.flush()
    return owner, True, True


async def _phones_differ(
    db_session: AsyncSession, owner_id: int, phones: set[str], language: str | None
) -> bool:
    """Whether the row's phones, or the language they read, differ from the register's."""
    current = dict(
        (
            await db_session.execute(
                select(OwnerPhone.phone, Contact.language)
                .outerjoin(
                    Contact,
                    (Contact.kind == ContactKind.PHONE) & (Contact.value == OwnerPhone.phone),
                )
                .where(OwnerPhone.owner_id == owner_id)
            )
        ).all()
    )
    # A number new to the owner is a change; one the file drops shows only once all the
    # owner's rows are read (see _finish_owners).
    if not phones <= set(current):
        return True
    return language is not None and any(current[p] != language for p in phones)


async def _owner_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, options: ImportOptions
) -> None:
    state = _state(report)
    building_code = _text(row, "building", limit=32)
    building_id = await _building_id(db_session, state, building_code)
    premises, unit_changed = await _premises(db_session, row, building_id)
    share = parse_share(row.get("share") or "")
    phones = _phones(row, options.region)
    owner, created, owner_changed = await _owner(db_session, row, phones, options)
    language = _text(row, "language", required=False, limit=8) or None
    # The phones themselves change in the whole-file step; the row reports them here.
    changed = (
        unit_changed
        or owner_changed
        or await _phones_differ(db_session, owner.id, phones, language)
    )
    if owner.resident_id in state.owners_of.get(premises.id, {}):
        raise ValueError(f"owner {owner.code} is listed twice for unit {premises.number}")
    holding = await db_session.scalar(
        select(PremisesOwner).where(
            PremisesOwner.premises_id == premises.id,
            PremisesOwner.resident_id == owner.resident_id,
        )
    )
    if holding is None:
        db_session.add(
            PremisesOwner(premises_id=premises.id, resident_id=owner.resident_id, share=share)
        )
        report.created += 1
    elif holding.share != share or changed:
        holding.share = share
        report.updated += 1
        state.updated_owners.add(owner.id)
    else:
        report.unchanged += 1
    await db_session.flush()
    # Only now, with the row written, does the file's memory learn of it.
    state.owners_of.setdefault(premises.id, {})[owner.resident_id] = share
    state.lines_of.setdefault(premises.id, []).append(int(report.state.get("line", 0)))
    state.label_of[premises.id] = f"{building_code} {premises.number}"
    if phones:
        # A row without phones (an area correction) leaves the owner's numbers alone.
        state.phones_of.setdefault(owner.id, set()).update(phones)
    if language:
        state.language_of[owner.id] = language
    if created:
        state.created_owners.add(owner.id)


async def _finish_owners(
    db_session: AsyncSession, report: ImportReport, options: ImportOptions
) -> None:
    state = _state(report)
    for premises_id, owners in state.owners_of.items():
        total = sum(owners.values(), Decimal(0))
        if total > 1:
            rows = ", ".join(map(str, state.lines_of[premises_id]))
            report.rejected.append(
                (0, f"unit {state.label_of[premises_id]}: shares add up to {total} (rows {rows})")
            )
    if report.rejected:
        return
    for premises_id, owners in state.owners_of.items():
        await db_session.execute(
            delete(PremisesOwner).where(
                PremisesOwner.premises_id == premises_id,
                PremisesOwner.resident_id.not_in(list(owners)),
            )
        )
    now = utcnow()
    for owner_id, phones in state.phones_of.items():
        dropped = await db_session.scalar(
            select(OwnerPhone.id)
            .where(OwnerPhone.owner_id == owner_id, OwnerPhone.phone.not_in(sorted(phones)))
            .limit(1)
        )
        if dropped is not None and owner_id not in state.updated_owners and report.unchanged:
            # A number the file no longer lists changes the owner: one of its rows counts
            # as updated, not unchanged.
            report.unchanged -= 1
            report.updated += 1
        await _set_phones(
            db_session,
            owner_id=owner_id,
            phones=phones,
            trusted=owner_id in state.created_owners,
            language=state.language_of.get(owner_id),
            now=now,
        )
    await db_session.flush()


async def _set_phones(
    db_session: AsyncSession,
    *,
    owner_id: int,
    phones: set[str],
    trusted: bool,
    language: str | None,
    now: datetime,
) -> None:
    """Makes an owner's phones exactly ``phones``; new numbers of a known owner are pending."""
    current = {
        row.phone: row
        for row in await db_session.scalars(
            select(OwnerPhone).where(OwnerPhone.owner_id == owner_id)
        )
    }
    gone = set(current) - phones
    if gone:
        await db_session.execute(
            delete(OwnerPhone).where(OwnerPhone.owner_id == owner_id, OwnerPhone.phone.in_(gone))
        )
    # The register is believed about the numbers an owner comes with when first entered;
    # any number added later is a change, and changes are confirmed before they vote.
    first_numbers = trusted
    owner = await db_session.get(Owner, owner_id)
    assert owner is not None
    if language:
        # The register's language is the one ballots go in, for kept numbers as for new.
        for contact in await db_session.scalars(
            select(Contact).where(
                Contact.kind == ContactKind.PHONE, Contact.value.in_(sorted(phones))
            )
        ):
            if contact.language != language:
                contact.language = language
    for phone in sorted(phones - set(current)):
        db_session.add(
            OwnerPhone(
                owner_id=owner_id,
                phone=phone,
                status=PhoneStatus.VERIFIED if first_numbers else PhoneStatus.PENDING,
                added_at=now,
                verified_at=now if first_numbers else None,
                verified_by="register" if first_numbers else None,
            )
        )
        existing = await db_session.scalar(
            select(Contact.id).where(Contact.kind == ContactKind.PHONE, Contact.value == phone)
        )
        if existing is None:
            db_session.add(
                Contact(
                    resident_id=owner.resident_id,
                    kind=ContactKind.PHONE,
                    value=phone,
                    language=language,
                )
            )


def confirm_phone(phone: OwnerPhone, *, by: str, reference: str | None, now: datetime) -> None:
    """Marks a pending number confirmed: from now on it votes."""
    phone.status = PhoneStatus.VERIFIED
    phone.verified_at = now
    phone.verified_by = by
    phone.reference = reference


async def confirmed_by_pin(
    *, db_session: AsyncSession, phone: OwnerPhone, owner: Owner, contact_id: int
) -> bool:
    """Whether this number proved, after it was added, the PIN of a bill for the owner's unit.

    Texting "ACCOUNT <number> <PIN>" links a phone to an account (billing's check, with its
    lockout against guessing); a link to an account of one of the owner's own units made
    after the number was added is the owner holding both the phone and the paper bill.
    """
    found = await db_session.scalar(
        select(AccountContact.id)
        .join(Account, Account.id == AccountContact.account_id)
        .join(PremisesOwner, PremisesOwner.premises_id == Account.premises_id)
        .where(
            AccountContact.contact_id == contact_id,
            AccountContact.via == "pin",
            AccountContact.created_at >= phone.added_at,
            PremisesOwner.resident_id == owner.resident_id,
        )
        .limit(1)
    )
    return found is not None


IMPORTERS: dict[str, tuple[RowImporter, tuple[str, ...]]] = {
    "owners": (_owner_row, ("building", "premises", "owner")),
}
FINISHERS: dict[str, Finisher] = {"owners": _finish_owners}
