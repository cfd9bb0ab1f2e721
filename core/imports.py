"""Every import by name, for ``hub import``: the reference data kept here (departments,
categories, routing rules, calendar days) and each back office's own importers.

This module sits above the back offices: it lists them, so none of them imports it. They
run their own files through ``core.importing.service.run_import`` with their own table.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.importing.service import (
    Finisher,
    ImportOptions,
    ImportReport,
    RowImporter,
    names_of,
    run_import,
    upsert,
)
from core.installed import installed
from core.routing import service as routing_service
from core.routing.models import Category, Department, RoutingRule
from core.routing.schemas import RoutingRuleIn
from core.sla.models import CalendarDay, WorkCalendar
from core.tickets.enums import Priority, TicketKind


async def _department_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    code = row.get("code", "").strip()
    if not code:
        raise ValueError("code is required")
    await upsert(
        db_session,
        report,
        Department,
        {"code": code},
        {"names": names_of(row), "active": row.get("active", "1").strip() != "0"},
    )


async def _category_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    code = row.get("code", "").strip()
    if not code:
        raise ValueError("code is required")
    kind = TicketKind(row.get("kind", "").strip())
    priority = Priority(row.get("priority", "").strip() or Priority.NORMAL)
    keywords = {
        lang: [w.strip() for w in row.get(f"keywords_{lang}", "").split("|") if w.strip()]
        for lang in ("en", "ru", "zh")
    }
    await upsert(
        db_session,
        report,
        Category,
        {"code": code},
        {
            "kind": kind,
            "names": names_of(row),
            "default_priority": priority,
            "keywords": {k: v for k, v in keywords.items() if v},
            "active": row.get("active", "1").strip() != "0",
        },
    )


async def _rule_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    data = RoutingRuleIn(
        position=int(row.get("position", "")),
        name=row.get("name", "").strip(),
        match_kind=row.get("match_kind", "").strip() or None,
        match_category_code=row.get("match_category", "").strip() or None,
        match_district_code=row.get("match_district", "").strip() or None,
        match_community_code=row.get("match_community", "").strip() or None,
        back_office=row.get("back_office", "").strip(),
        department_code=row.get("department", "").strip() or None,
        sla_policy_code=row.get("sla_policy", "").strip() or None,
        priority=row.get("priority", "").strip() or None,
        active=row.get("active", "1").strip() != "0",
    )
    values = await routing_service.rule_values(db_session=db_session, data=data)
    name = values.pop("name")
    await upsert(db_session, report, RoutingRule, {"name": name}, values)


async def _calendar_day_row(
    db_session: AsyncSession, row: dict[str, str], report: ImportReport, _options: ImportOptions
) -> None:
    calendar_id = await db_session.scalar(
        select(WorkCalendar.id).where(WorkCalendar.code == row.get("calendar", "").strip())
    )
    if calendar_id is None:
        raise ValueError(f"unknown calendar {row.get('calendar', '')!r}")
    working = row.get("is_working", "").strip().lower()
    if working not in ("0", "1", "true", "false"):
        raise ValueError("is_working must be 0/1 or true/false")
    await upsert(
        db_session,
        report,
        CalendarDay,
        {"calendar_id": calendar_id, "day": date.fromisoformat(row.get("date", "").strip())},
        {"is_working": working in ("1", "true"), "note": row.get("note", "").strip() or None},
    )


IMPORTERS: dict[str, tuple[RowImporter, tuple[str, ...]]] = {
    "departments": (_department_row, ("code", "name_en")),
    "categories": (_category_row, ("code", "kind", "name_en")),
    "routing": (_rule_row, ("position", "name", "back_office")),
    "calendar": (_calendar_day_row, ("calendar", "date", "is_working")),
}


def importers() -> dict[str, tuple[RowImporter, tuple[str, ...]]]:
    """Returns every importer by name: the reference data here and each back office's."""
    return {**IMPORTERS, **installed().importers()}


def finishers() -> dict[str, Finisher]:
    """Returns the whole-file steps of the importers that have one."""
    return installed().finishers()


async def import_text(
    *,
    db_session: AsyncSession,
    what: str,
    text: str,
    fmt: str,
    options: ImportOptions | None = None,
) -> ImportReport:
    """Imports a file of any importer ``what`` in ``fmt`` (csv, yaml, geojson); all or none."""
    return await run_import(
        db_session=db_session,
        importers=importers(),
        finishers=finishers(),
        what=what,
        text=text,
        fmt=fmt,
        options=options,
    )


async def import_csv(
    *, db_session: AsyncSession, what: str, text: str, options: ImportOptions | None = None
) -> ImportReport:
    """Imports one CSV file of ``what``; raises ImportRejected (nothing written) on bad rows."""
    return await import_text(
        db_session=db_session, what=what, text=text, fmt="csv", options=options
    )
