"""Reports for the authority: complaints per company, estate or category over a period,
estates with the same problem again and again, and the ranking as CSV."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import exports
from core.auth.service import Principal
from core.complaints.enums import OPEN_STAGES, Escalation, Stage, Verdict
from core.complaints.integrity import Score
from core.complaints.models import Complaint, PropertyCompany
from core.complaints.service import visible
from core.routing.models import Category
from core.territory.models import Estate
from core.tickets.models import Ticket

GroupBy = Literal["company", "estate", "category"]


@dataclass(frozen=True)
class ReportRow:
    code: str | None
    names: dict[str, str]
    total: int
    open: int
    disputed: int
    overdue: int
    upheld: int
    dismissed: int


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


async def complaints_report(
    *,
    db_session: AsyncSession,
    principal: Principal,
    by: GroupBy,
    since: datetime,
    until: datetime,
) -> list[ReportRow]:
    """Counts complaints received in [since, until) per company, estate or category.

    Complaints with no company, estate or category yet form one row with no code.
    """
    model: Any = {"company": PropertyCompany, "estate": Estate, "category": Category}[by]
    column: Any = {
        "company": Complaint.company_id,
        "estate": Complaint.estate_id,
        "category": Ticket.category_id,
    }[by]
    # Grouped by id, named afterwards: PostgreSQL cannot group by a json column.
    query: Any = (
        select(
            column,
            func.count(),
            _count(Complaint.stage.in_([str(s) for s in OPEN_STAGES])),
            _count(Complaint.verdict == Verdict.DISPUTED),
            _count(Complaint.escalation == Escalation.OVERDUE),
            _count(Complaint.upheld.is_(True)),
            _count(Complaint.stage == Stage.DISMISSED),
        )
        .select_from(Ticket)
        .join(Complaint, Complaint.ticket_id == Ticket.id)
        .where(Ticket.created_at >= since, Ticket.created_at < until)
        .group_by(column)
    )
    counted = list(await db_session.execute(visible(principal, query)))
    named = await _names(db_session, model, {row[0] for row in counted})
    rows = []
    for key, total, still_open, disputed, overdue, upheld, dismissed in counted:
        code, names = named.get(key, (None, {}))
        rows.append(
            ReportRow(
                code,
                names,
                int(total),
                int(still_open or 0),
                int(disputed or 0),
                int(overdue or 0),
                int(upheld or 0),
                int(dismissed or 0),
            )
        )
    rows.sort(key=lambda r: (-r.total, r.code or ""))
    return rows


async def _names(
    db_session: AsyncSession, model: Any, ids: set[int | None]
) -> dict[int | None, tuple[str | None, dict[str, str]]]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = await db_session.execute(
        select(model.id, model.code, model.names).where(model.id.in_(wanted))
    )
    return {row_id: (code, names) for row_id, code, names in rows}


@dataclass(frozen=True)
class RepeatRow:
    estate_code: str
    estate_names: dict[str, str]
    category_code: str
    category_names: dict[str, str]
    count: int
    last_at: datetime


async def repeats(
    *,
    db_session: AsyncSession,
    principal: Principal,
    since: datetime,
    until: datetime,
    min_count: int,
) -> list[RepeatRow]:
    """Returns estates with at least ``min_count`` complaints of one category in the period."""
    query: Any = (
        select(Complaint.estate_id, Ticket.category_id, func.count(), func.max(Ticket.created_at))
        .select_from(Ticket)
        .join(Complaint, Complaint.ticket_id == Ticket.id)
        .where(
            Ticket.created_at >= since,
            Ticket.created_at < until,
            Complaint.estate_id.is_not(None),
            Ticket.category_id.is_not(None),
        )
        .group_by(Complaint.estate_id, Ticket.category_id)
        .having(func.count() >= min_count)
    )
    counted = list(await db_session.execute(visible(principal, query)))
    estates = await _names(db_session, Estate, {row[0] for row in counted})
    categories = await _names(db_session, Category, {row[1] for row in counted})
    found = []
    for estate_id, category_id, n, last in counted:
        estate_code, estate_names = estates[estate_id]
        category_code, category_names = categories[category_id]
        found.append(
            RepeatRow(
                estate_code or "", estate_names, category_code or "", category_names, int(n), last
            )
        )
    found.sort(key=lambda r: (-r.count, r.estate_code, r.category_code))
    return found


def csv_line(values: Any) -> str:
    """Returns one CSV line of ``values``."""
    return exports.csv_line(values, lineterminator="")


RANKING_COLUMNS = (
    "rank",
    "company",
    "name",
    "score",
    "band",
    "basic",
    "good",
    "bad",
    "upheld_complaints",
)


def ranking_csv(scores: list[Score], language: str) -> str:
    """Returns the public ranking as CSV (UTF-8, a header row, one company per row)."""
    out = io.StringIO()
    writer = exports.CsvWriter(out, lineterminator="\n")
    writer.writerow(RANKING_COLUMNS)
    for rank, score in enumerate(scores, start=1):
        name = score.names.get(language) or score.names.get("en", score.code)
        writer.writerow(
            [
                rank,
                score.code,
                name,
                f"{score.total:.2f}",
                score.band,
                f"{score.basic:.2f}",
                f"{score.good:.2f}",
                f"{score.bad:.2f}",
                score.upheld_complaints,
            ]
        )
    return out.getvalue()
