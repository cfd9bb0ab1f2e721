"""Evaluation of departments per period (DOMAIN §1 考评): rates, weights, score.

For a period [start, end) a department's *due* cases (应结案数) are those dispatched to it
that were due by the end of the period (or closed within it early), and not already
closed before it began. Parked cases sit in the problem pool and are not due. Each rate
is a count over due; the score is Σ weight × rate, with (1 − rate) for the "bad" rates.
Weights are data (dispatch_indicator_weights); DEFAULT_WEIGHTS apply until set.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.dispatch.enums import Stage
from core.dispatch.models import Case, Evaluation, IndicatorWeight
from core.exports import CsvWriter
from core.routing.models import Department
from core.tickets.models import Ticket

# code → (weight, bad). Sums to 100, so the score reads as points.
DEFAULT_WEIGHTS: dict[str, tuple[Decimal, bool]] = {
    "closing_rate": (Decimal(20), False),
    "on_time_closing_rate": (Decimal(30), False),
    "handling_rate": (Decimal(10), False),
    "on_time_handling_rate": (Decimal(20), False),
    "rework_rate": (Decimal(10), True),
    "overdue_open_rate": (Decimal(10), True),
    "extension_rate": (Decimal(0), True),
}
# Which count each rate divides by the due count.
RATE_OF = {
    "closing_rate": "closed",
    "on_time_closing_rate": "closed_on_time",
    "handling_rate": "handled",
    "on_time_handling_rate": "handled_on_time",
    "rework_rate": "reworked",
    "overdue_open_rate": "overdue_open",
    "extension_rate": "extended",
}
COUNTS = ("due", *RATE_OF.values())
_PERCENT = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive

    def bounds(self, timezone: ZoneInfo) -> tuple[datetime, datetime]:
        """Returns the period as UTC instants, its days taken in the city's time zone."""
        return (
            datetime.combine(self.start, time.min, tzinfo=timezone).astimezone(UTC),
            datetime.combine(self.end, time.min, tzinfo=timezone).astimezone(UTC),
        )


def rates_and_score(
    counts: dict[str, int], weights: dict[str, tuple[Decimal, bool]]
) -> tuple[dict[str, Decimal | None], Decimal | None]:
    """Returns each rate in percent (2 places) and the weighted score; None when nothing
    was due (a department with no cases is not scored, rather than scored 0 or 100)."""
    due = counts.get("due", 0)
    if due == 0:
        return {code: None for code in RATE_OF}, None
    rates: dict[str, Decimal | None] = {}
    score = Decimal(0)
    for code, count_name in RATE_OF.items():
        rate = Decimal(counts.get(count_name, 0)) / Decimal(due)
        rates[code] = (rate * 100).quantize(_PERCENT, ROUND_HALF_UP)
        weight, bad = weights.get(code, (Decimal(0), False))
        score += weight * ((1 - rate) if bad else rate)
    return rates, score.quantize(_PERCENT, ROUND_HALF_UP)


async def weights(*, db_session: AsyncSession) -> dict[str, tuple[Decimal, bool]]:
    """Returns the indicator weights: the stored ones over the defaults."""
    stored = {
        row.code: (Decimal(row.weight), row.bad)
        for row in await db_session.scalars(select(IndicatorWeight))
    }
    return {**DEFAULT_WEIGHTS, **stored}


async def count_cases(
    *, db_session: AsyncSession, start: datetime, end: datetime
) -> dict[int, dict[str, int]]:
    """Returns the indicator counts per department id for the period [start, end)."""
    closed_in = and_(Case.closed_at >= start, Case.closed_at < end)
    due = and_(
        Ticket.department_id.is_not(None),
        Case.dispatched_at.is_not(None),
        Case.dispatched_at < end,
        Case.stage.not_in([Stage.PARKED, Stage.CANCELLED, Stage.MERGED]),
        or_(Case.handle_due_at < end, closed_in),
        or_(Case.closed_at.is_(None), Case.closed_at >= start),
    )
    handled = and_(Case.reported_at.is_not(None), Case.reported_at < end)
    open_at_end = or_(Case.closed_at.is_(None), Case.closed_at >= end)

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    rows = await db_session.execute(
        select(
            Ticket.department_id,
            func.count(),
            count(closed_in),
            count(and_(closed_in, Case.handled_on_time.is_(True))),
            count(handled),
            count(and_(handled, Case.handled_on_time.is_(True))),
            count(Case.reworks > 0),
            # Waiting for the inspector is the centre's time, not the department's.
            count(and_(open_at_end, Case.handle_due_at < end, not_(handled))),
            count(Case.extensions > 0),
        )
        .join(Case, Case.ticket_id == Ticket.id)
        .where(due)
        .group_by(Ticket.department_id)
    )
    return {
        int(row[0]): dict(zip(COUNTS, (int(v or 0) for v in row[1:]), strict=True)) for row in rows
    }


async def evaluate(
    *, db_session: AsyncSession, period: Period, timezone: ZoneInfo
) -> list[dict[str, object]]:
    """Returns one result per department: counts, rates (%) and score, best score first."""
    start, end = period.bounds(timezone)
    counts = await count_cases(db_session=db_session, start=start, end=end)
    current = await weights(db_session=db_session)
    departments = {d.id: d for d in await db_session.scalars(select(Department))}
    results: list[dict[str, object]] = []
    for department_id, department_counts in counts.items():
        rates, score = rates_and_score(department_counts, current)
        department = departments.get(department_id)
        results.append(
            {
                "department": department.code if department else str(department_id),
                "names": department.names if department else {},
                **department_counts,
                **{code: (str(rate) if rate is not None else None) for code, rate in rates.items()},
                "score": str(score) if score is not None else None,
            }
        )
    results.sort(key=lambda r: (Decimal(str(r["score"] or -1)), r["department"]), reverse=True)
    return results


async def publish(
    *, db_session: AsyncSession, period: Period, timezone: ZoneInfo, actor: str
) -> Evaluation:
    """Freezes a period's evaluation and marks its closed cases as evaluated (考评)."""
    results = await evaluate(db_session=db_session, period=period, timezone=timezone)
    current = await weights(db_session=db_session)
    evaluation = Evaluation(
        period_start=period.start,
        period_end=period.end,
        weights={code: [str(w), bad] for code, (w, bad) in current.items()},
        results=results,
        created_by=actor,
    )
    db_session.add(evaluation)
    await db_session.flush()
    start, end = period.bounds(timezone)
    await db_session.execute(
        update(Case)
        .where(
            Case.stage == Stage.CLOSED,
            Case.closed_at >= start,
            Case.closed_at < end,
            Case.evaluation_id.is_(None),
        )
        .values(evaluation_id=evaluation.id)
    )
    return evaluation


def to_csv(results: list[dict[str, object]], language: str) -> str:
    """Returns the results as CSV, department names in ``language``."""
    from core.i18n import pick_name

    buffer = io.StringIO()
    columns = ["department", "name", *COUNTS, *RATE_OF, "score"]
    writer = CsvWriter(buffer)
    writer.writerow(columns)
    for row in results:
        names = row.get("names")
        name = pick_name(names if isinstance(names, dict) else {}, language)
        writer.writerow([row["department"], name, *(row.get(c) for c in columns[2:])])
    return buffer.getvalue()
