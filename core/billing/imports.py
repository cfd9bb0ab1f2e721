"""CSV imports of billing data: suppliers, services, tariffs, accounts, meters, balances.

They run inside core.importing's framework (one transaction, every bad row reported, nothing
written if any row is bad, rows matched on their key so a second import changes nothing).
Columns are documented in docs/import-formats.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing.enums import ChargeBasis, ReadingStatus
from core.billing.identity import check_pin_format, hash_pin
from core.billing.models import (
    AccountService,
    BillingService,
    BuildingMeter,
    Meter,
    MeterReading,
    Recalculation,
    Supplier,
    Tariff,
)
from core.billing.service import PERIOD_FORMAT, parse_period
from core.importing.service import (
    ImportOptions,
    ImportReport,
    RowImporter,
    names_of,
    set_values,
    upsert,
)
from core.residents import service as residents_service
from core.residents.enums import ContactKind
from core.residents.models import Contact
from core.territory.models import Account, Building, Premises

# The longest text each column holds (the database would refuse more).
MAX_LENGTH = {"language": 8, "unit": 8, "premises": 16, "kind": 16, "holder_name": 200}


def _text(row: dict[str, str], column: str, *, required: bool = True) -> str:
    value = (row.get(column) or "").strip()
    if required and not value:
        raise ValueError(f"{column} is required")
    limit = MAX_LENGTH.get(column, 32)
    if len(value) > limit:
        raise ValueError(f"{column} is longer than {limit} characters")
    return value


def _decimal(
    row: dict[str, str], column: str, *, required: bool = True, limit: int = 10**8
) -> Decimal | None:
    raw = _text(row, column, required=required).replace(",", ".").replace(" ", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{column} is not a number: {raw!r}") from None
    # Each column has a ceiling (prices and areas 10⁸); larger is a typo, and would fail
    # in the database instead.
    if not value.is_finite() or abs(value) >= limit:
        raise ValueError(f"{column} is not a plausible number: {raw!r}")
    return value


def _period(row: dict[str, str], column: str) -> date:
    raw = _text(row, column)
    if not PERIOD_FORMAT.fullmatch(raw):
        raise ValueError(f"{column} must be YYYY-MM or YYYY-MM-DD: {raw[:20]!r}")
    try:
        return parse_period(raw)
    except ValueError as exc:
        raise ValueError(f"{column} {raw!r}: {exc}") from None


def _list(row: dict[str, str], column: str) -> list[str]:
    return [item.strip() for item in (row.get(column) or "").split("|") if item.strip()]


async def _id(db_session: AsyncSession, column: Any, key: Any, value: str, what: str) -> int:
    found = await db_session.scalar(select(column).where(key == value))
    if found is None:
        raise ValueError(f"unknown {what} {value!r}")
    return int(found)


async def _supplier_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    await upsert(
        db_session, report, Supplier, {"code": _text(row, "code")}, {"names": names_of(row)}
    )


async def _service_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    supplier_id = await _id(
        db_session, Supplier.id, Supplier.code, _text(row, "supplier"), "supplier"
    )
    normative = _decimal(row, "normative")
    allowed = _decimal(row, "allowed_hours", required=False, limit=744) or Decimal(0)
    if normative is None or normative < 0 or allowed < 0:
        raise ValueError("normative and allowed_hours cannot be negative")
    await upsert(
        db_session,
        report,
        BillingService,
        {"code": _text(row, "code")},
        {
            "names": names_of(row),
            "supplier_id": supplier_id,
            "unit": _text(row, "unit"),
            "basis": ChargeBasis(_text(row, "basis")),
            "normative": normative,
            "allowed_interruption_hours": allowed,
            "aliases": [alias.casefold() for alias in _list(row, "aliases")],
        },
    )


async def _tariff_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    service_id = await _id(
        db_session, BillingService.id, BillingService.code, _text(row, "service"), "service"
    )
    price = _decimal(row, "price")
    if price is None or price < 0:
        raise ValueError("price cannot be negative")
    valid_from = date.fromisoformat(_text(row, "valid_from"))
    await upsert(
        db_session,
        report,
        Tariff,
        {"service_id": service_id, "valid_from": valid_from},
        {"price": price},
    )


async def _holder(
    db_session: AsyncSession, row: dict[str, str], options: ImportOptions
) -> int | None:
    phone = _text(row, "holder_phone", required=False)
    if not phone:
        return None
    value = residents_service.normalise_phone(phone, options.region)
    contact = await db_session.scalar(
        select(Contact).where(Contact.kind == ContactKind.PHONE, Contact.value == value)
    )
    if contact is None:
        contact, _created = await residents_service.create_contact(
            db_session=db_session,
            kind=ContactKind.PHONE,
            value=value,
            language=_text(row, "language", required=False) or options.language,
            display_name=_text(row, "holder_name", required=False) or None,
        )
    return contact.resident_id


async def _account_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, options: ImportOptions
) -> None:
    number = _text(row, "account")
    if not number.isdigit() or not 5 <= len(number) <= 12:
        raise ValueError("account must be 5 to 12 digits")
    building_id = await _id(
        db_session, Building.id, Building.code, _text(row, "building"), "building"
    )
    area = _decimal(row, "area")
    if area is None or area <= 0:
        raise ValueError("area must be positive")
    residents = int(_text(row, "residents", required=False) or "0")
    if not 0 <= residents <= 1000:
        raise ValueError("residents must be between 0 and 1000")
    service_codes = _list(row, "services")
    service_ids = {
        code: await _id(db_session, BillingService.id, BillingService.code, code, "service")
        for code in service_codes
    }
    premises_number = _text(row, "premises")
    premises = await db_session.scalar(
        select(Premises).where(
            Premises.building_id == building_id, Premises.number == premises_number
        )
    )
    if premises is None:
        premises = Premises(
            building_id=building_id,
            number=premises_number,
            area=area,
            kind=_text(row, "kind", required=False) or "flat",
        )
        db_session.add(premises)
        await db_session.flush()
    else:
        set_values(premises, {"area": area})
    values: dict[str, Any] = {
        "premises_id": premises.id,
        "registered_residents": residents,
        "holder_id": await _holder(db_session, row, options),
    }
    pin = _text(row, "pin", required=False)
    if pin:
        values["pin_hash"] = hash_pin(
            secret=options.secret, account_number=number, pin=check_pin_format(pin)
        )
    await upsert(db_session, report, Account, {"number": number}, values)
    account_id = await _id(db_session, Account.id, Account.number, number, "account")
    current = set(
        await db_session.scalars(
            select(AccountService.service_id).where(AccountService.account_id == account_id)
        )
    )
    wanted = set(service_ids.values())
    if current - wanted:
        await db_session.execute(
            delete(AccountService).where(
                AccountService.account_id == account_id,
                AccountService.service_id.in_(current - wanted),
            )
        )
    db_session.add_all(
        AccountService(account_id=account_id, service_id=sid) for sid in wanted - current
    )
    await db_session.flush()


async def _meter_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    account_id = await _id(db_session, Account.id, Account.number, _text(row, "account"), "account")
    service_id = await _id(
        db_session, BillingService.id, BillingService.code, _text(row, "service"), "service"
    )
    serial = _text(row, "serial")
    await upsert(
        db_session,
        report,
        Meter,
        {"service_id": service_id, "serial": serial},
        {"account_id": account_id, "active": _text(row, "active", required=False) != "0"},
    )
    reading = _decimal(row, "reading", required=False)
    if reading is None:
        return
    if reading < 0:
        raise ValueError("reading cannot be negative")
    meter_id = await db_session.scalar(
        select(Meter.id).where(Meter.service_id == service_id, Meter.serial == serial)
    )
    assert meter_id is not None  # upserted just above
    period = _period(row, "period")
    seen = await db_session.scalar(
        select(MeterReading.id).where(
            MeterReading.meter_id == meter_id,
            MeterReading.period == period,
            MeterReading.channel == "import",
        )
    )
    if seen is None:  # the reading the meter was installed or handed over with
        db_session.add(
            MeterReading(
                meter_id=meter_id,
                period=period,
                value=reading,
                status=ReadingStatus.ACCEPTED,
                channel="import",
            )
        )
        await db_session.flush()


async def _building_meter_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    building_id = await _id(
        db_session, Building.id, Building.code, _text(row, "building"), "building"
    )
    service_id = await _id(
        db_session, BillingService.id, BillingService.code, _text(row, "service"), "service"
    )
    await upsert(
        db_session,
        report,
        BuildingMeter,
        {"service_id": service_id, "serial": _text(row, "serial")},
        {"building_id": building_id},
    )


async def _balance_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    account_id = await _id(db_session, Account.id, Account.number, _text(row, "account"), "account")
    service_id = await _id(
        db_session, BillingService.id, BillingService.code, _text(row, "service"), "service"
    )
    amount = _decimal(row, "amount")
    assert amount is not None
    # The debt (or, negative, the credit) carried over from the previous system, kept as a
    # recalculation of kind "opening" so balances, reports and allocation all see it.
    await upsert(
        db_session,
        report,
        Recalculation,
        {
            "account_id": account_id,
            "service_id": service_id,
            "period": _period(row, "as_of"),
            "kind": "opening",
        },
        {"amount": amount.quantize(Decimal("0.01"))},
    )


IMPORTERS: dict[str, tuple[RowImporter, tuple[str, ...]]] = {
    "suppliers": (_supplier_row, ("code", "name_en")),
    "services": (_service_row, ("code", "supplier", "name_en", "unit", "basis", "normative")),
    "tariffs": (_tariff_row, ("service", "valid_from", "price")),
    "accounts": (_account_row, ("account", "building", "premises", "area")),
    "meters": (_meter_row, ("account", "service", "serial")),
    "building_meters": (_building_meter_row, ("building", "service", "serial")),
    "balances": (_balance_row, ("account", "service", "amount", "as_of")),
}
