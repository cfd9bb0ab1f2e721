"""Imports of the complaints registers and the authority's scoring data: companies,
managers, estates, contracts, owners' committees, indicators, score rules and weights.

They run in core.importing's framework (CSV or YAML; all or nothing; every bad row reported;
rows matched on their key, so the same file twice changes nothing). Columns:
docs/import-formats.md.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.complaints.enums import Frequency, Section, WeightDimension
from core.complaints.integrity import DEFAULT_RULES
from core.complaints.models import (
    Indicator,
    Manager,
    PropertyCompany,
    ScoreRule,
    ScoreWeight,
    ServiceContract,
)
from core.importing.service import ImportOptions, ImportReport, RowImporter, names_of, upsert
from core.residents.service import normalise_phone
from core.territory.enums import EstateKind
from core.territory.models import Building, Committee, Community, Estate, EstateBuilding

_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
_LANGUAGES = ("en", "ru", "zh")


def _cell(row: dict[str, str], column: str, *, required: bool = True, limit: int = 32) -> str:
    value = (row.get(column) or "").strip()
    if required and not value:
        raise ValueError(f"{column} is required")
    if len(value) > limit:
        raise ValueError(f"{column} is longer than {limit} characters")
    return value


def _code(row: dict[str, str], column: str = "code") -> str:
    value = _cell(row, column)
    if not _CODE.match(value):
        raise ValueError(f"{column} may hold letters, digits, _ . - only")
    return value


def _date(row: dict[str, str], column: str, *, required: bool = True) -> date | None:
    raw = _cell(row, column, required=required)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{column} is not a date (YYYY-MM-DD): {raw!r}") from None


def _decimal(row: dict[str, str], column: str, low: Decimal, high: Decimal) -> Decimal:
    raw = _cell(row, column).replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{column} is not a number: {raw!r}") from None
    if not value.is_finite() or not low <= value <= high:
        raise ValueError(f"{column} must be between {low} and {high}")
    return value


def _int(row: dict[str, str], column: str, low: int, high: int, default: int | None = None) -> int:
    raw = _cell(row, column, required=default is None)
    if not raw and default is not None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{column} is not a whole number: {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{column} must be from {low} to {high}")
    return value


def _flag(row: dict[str, str], column: str, default: bool = True) -> bool:
    raw = (row.get(column) or "").strip().lower()
    if not raw:
        return default
    if raw not in ("0", "1", "true", "false"):
        raise ValueError(f"{column} must be 0/1 or true/false")
    return raw in ("1", "true")


def _list(row: dict[str, str], column: str) -> list[str]:
    """Reads a ``a|b|c`` cell, or a YAML list (which arrives as JSON)."""
    raw = (row.get(column) or "").strip()
    if raw.startswith("["):
        import json

        try:
            items = json.loads(raw)
        except ValueError:
            raise ValueError(f"{column} is not a list") from None
        return [str(item).strip() for item in items if str(item).strip()]
    return [item.strip() for item in raw.split("|") if item.strip()]


async def _by_code(db_session: AsyncSession, model: Any, code: str, what: str) -> Any:
    found = await db_session.scalar(select(model).where(model.code == code))
    if found is None:
        raise ValueError(f"unknown {what} {code!r}")
    return found


async def _company_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, options: ImportOptions
) -> None:
    code = _code(row)
    phone_raw = _cell(row, "phone", required=False)
    language = _cell(row, "language", required=False) or options.language
    if language not in _LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(_LANGUAGES)}")
    number = _cell(row, "registration_number", required=False) or None
    if number is not None:
        other = await db_session.scalar(
            select(PropertyCompany.code).where(
                PropertyCompany.registration_number == number, PropertyCompany.code != code
            )
        )
        if other is not None:
            raise ValueError(f"registration number {number} belongs to company {other!r}")
    await upsert(
        db_session,
        report,
        PropertyCompany,
        {"code": code},
        {
            "names": names_of(row),
            "registration_number": number,
            "qualification": _cell(row, "qualification", required=False, limit=16) or None,
            "qualification_valid_until": _date(row, "qualification_valid_until", required=False),
            "phone": normalise_phone(phone_raw, options.region) if phone_raw else None,
            "language": language,
            "active": _flag(row, "active"),
        },
    )


async def _manager_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    company = await _by_code(db_session, PropertyCompany, _cell(row, "company"), "company")
    certificate = _cell(row, "certificate_number", limit=64)
    appointed = _date(row, "appointed_on")
    left = _date(row, "left_on", required=False)
    if left is not None and appointed is not None and left < appointed:
        raise ValueError("left_on is before appointed_on")
    await upsert(
        db_session,
        report,
        Manager,
        {"company_id": company.id, "certificate_number": certificate},
        {
            "full_name": _cell(row, "full_name", limit=200),
            "certificate_valid_until": _date(row, "certificate_valid_until", required=False),
            "appointed_on": appointed,
            "left_on": left,
        },
    )


async def _estate_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    code = _code(row)
    try:
        kind = EstateKind(_cell(row, "kind", required=False) or EstateKind.RESIDENTIAL)
    except ValueError:
        raise ValueError(f"kind must be one of {', '.join(EstateKind)}") from None
    community_code = _cell(row, "community", required=False)
    community = (
        await _by_code(db_session, Community, community_code, "community")
        if community_code
        else None
    )
    building_codes = _list(row, "buildings")
    buildings = []
    for building_code in building_codes:
        building = await _by_code(db_session, Building, building_code, "building")
        buildings.append(building.id)
    addresses = {
        lang: value[:500] for lang in _LANGUAGES if (value := (row.get(f"address_{lang}") or ""))
    }
    await upsert(
        db_session,
        report,
        Estate,
        {"code": code},
        {
            "names": names_of(row),
            "addresses": {k: v.strip() for k, v in addresses.items() if v.strip()},
            "kind": kind,
            "community_id": community.id if community else None,
            "area": _decimal(row, "area", Decimal(0), Decimal(100_000_000)),
            "building_count": _int(row, "building_count", 0, 10_000, default=len(buildings)),
            "facilities": _list(row, "facilities"),
        },
    )
    estate = await db_session.scalar(select(Estate).where(Estate.code == code))
    assert estate is not None
    if not building_codes:
        return
    taken = await db_session.execute(
        select(Building.code, Estate.code)
        .join(EstateBuilding, EstateBuilding.building_id == Building.id)
        .join(Estate, Estate.id == EstateBuilding.estate_id)
        .where(Building.id.in_(buildings), Estate.id != estate.id)
    )
    for building_code, other in taken:
        raise ValueError(f"building {building_code!r} is in estate {other!r} already")
    # The file's list is the estate's list: buildings it no longer names are let go.
    await db_session.execute(
        delete(EstateBuilding).where(
            EstateBuilding.estate_id == estate.id, EstateBuilding.building_id.not_in(buildings)
        )
    )
    present = set(
        await db_session.scalars(
            select(EstateBuilding.building_id).where(EstateBuilding.estate_id == estate.id)
        )
    )
    db_session.add_all(
        EstateBuilding(estate_id=estate.id, building_id=b) for b in buildings if b not in present
    )
    await db_session.flush()


async def _contract_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    number = _cell(row, "number", limit=64)
    company = await _by_code(db_session, PropertyCompany, _cell(row, "company"), "company")
    estate = await _by_code(db_session, Estate, _cell(row, "estate"), "estate")
    starts = _date(row, "starts_on")
    ends = _date(row, "ends_on", required=False)
    assert starts is not None
    if ends is not None and ends < starts:
        raise ValueError("ends_on is before starts_on")
    # Two contracts of one estate on one day would make the routing a guess.
    overlapping = [
        ServiceContract.estate_id == estate.id,
        ServiceContract.number != number,
        or_(ServiceContract.ends_on.is_(None), ServiceContract.ends_on >= starts),
    ]
    if ends is not None:
        overlapping.append(ServiceContract.starts_on <= ends)
    clash = await db_session.scalar(select(ServiceContract.number).where(*overlapping).limit(1))
    if clash is not None:
        raise ValueError(f"overlaps contract {clash!r} of estate {estate.code!r}")
    await upsert(
        db_session,
        report,
        ServiceContract,
        {"number": number},
        {"company_id": company.id, "estate_id": estate.id, "starts_on": starts, "ends_on": ends},
    )


async def _committee_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    estate = await _by_code(db_session, Estate, _cell(row, "estate"), "estate")
    elected = _date(row, "elected_on")
    term_ends = _date(row, "term_ends_on", required=False)
    if term_ends is not None and elected is not None and term_ends < elected:
        raise ValueError("term_ends_on is before elected_on")
    await upsert(
        db_session,
        report,
        Committee,
        {"code": _code(row)},
        {
            "estate_id": estate.id,
            "names": names_of(row),
            "chair_name": _cell(row, "chair_name", required=False, limit=200) or None,
            "elected_on": elected,
            "term_ends_on": term_ends,
        },
    )


async def _indicator_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    try:
        frequency = Frequency(_cell(row, "frequency"))
    except ValueError:
        raise ValueError(f"frequency must be one of {', '.join(Frequency)}") from None
    max_score = _int(row, "max_score", 1, 1000)
    pass_score = _int(row, "pass_score", 0, max_score)
    await upsert(
        db_session,
        report,
        Indicator,
        {"code": _code(row)},
        {
            "names": names_of(row),
            "frequency": frequency,
            "max_score": max_score,
            "pass_score": pass_score,
            "active": _flag(row, "active"),
        },
    )


async def _rule_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    code = _code(row)
    try:
        section = Section(_cell(row, "section"))
    except ValueError:
        raise ValueError(f"section must be one of {', '.join(Section)}") from None
    # A rule for a built-in kind keeps its section: an award cannot become a deduction.
    fixed = DEFAULT_RULES[code][0] if code in DEFAULT_RULES else None
    if fixed is not None and section != fixed:
        raise ValueError(f"rule {code!r} belongs to the {fixed} section")
    await upsert(
        db_session,
        report,
        ScoreRule,
        {"code": code},
        {
            "section": section,
            "points": _decimal(row, "points", Decimal(0), Decimal(100)),
            "names": names_of(row),
        },
    )


async def _weight_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    try:
        dimension = WeightDimension(_cell(row, "dimension"))
    except ValueError:
        raise ValueError(f"dimension must be one of {', '.join(WeightDimension)}") from None
    key = _cell(row, "key")
    if dimension is WeightDimension.ESTATE_KIND and key not in set(EstateKind):
        raise ValueError(f"an estate_kind key is one of {', '.join(EstateKind)}")
    if dimension is WeightDimension.AREA_FROM:
        try:
            threshold = Decimal(key)
        except InvalidOperation:
            raise ValueError("an area_from key is a floor area in m²") from None
        if not threshold.is_finite() or threshold < 0 or threshold != threshold.to_integral():
            raise ValueError("an area_from key is a whole number of m², 0 or more")
        key = str(int(threshold))
    await upsert(
        db_session,
        report,
        ScoreWeight,
        {"dimension": dimension, "key": key},
        {"factor": _decimal(row, "factor", Decimal(0), Decimal(10))},
    )


IMPORTERS: dict[str, tuple[RowImporter, tuple[str, ...]]] = {
    "companies": (_company_row, ("code", "name_en")),
    "managers": (_manager_row, ("company", "certificate_number", "full_name", "appointed_on")),
    "estates": (_estate_row, ("code", "name_en", "area")),
    "contracts": (_contract_row, ("number", "company", "estate", "starts_on")),
    "committees": (_committee_row, ("code", "estate", "name_en", "elected_on")),
    "indicators": (_indicator_row, ("code", "name_en", "frequency", "max_score", "pass_score")),
    "score_rules": (_rule_row, ("code", "section", "points", "name_en")),
    "score_weights": (_weight_row, ("dimension", "key", "factor")),
}
