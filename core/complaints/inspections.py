"""Standards and inspections: the indicator catalogue, campaigns that check companies'
estates against it, the results, and rectification orders tracked to done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.complaints import integrity
from core.complaints.enums import (
    FREQUENCY_DAYS,
    InspectionStatus,
    OrderStatus,
    ScoreKind,
    Stage,
)
from core.complaints.flow import issue_order, move
from core.complaints.models import (
    Campaign,
    Complaint,
    Indicator,
    Inspection,
    InspectionResult,
    PropertyCompany,
    RectificationOrder,
    ServiceContract,
)
from core.complaints.notify import tell_resident
from core.complaints.service import (
    AUTHORITY_ROLES,
    Context,
    IllegalStep,
    NotAllowed,
    company_of,
    local_day,
)
from core.config import Settings
from core.i18n import pick_name
from core.territory.models import Estate
from core.tickets.models import Ticket


def _require_authority(ctx: Context) -> None:
    if ctx.principal.role not in AUTHORITY_ROLES:
        raise NotAllowed("only the housing authority takes this step")


async def report_order(*, ctx: Context, order: RectificationOrder, text: str) -> None:
    """The company reports an order done; the authority then checks it."""
    if company_of(ctx.principal) != order.company_id:
        raise NotAllowed("only the company the order is for reports on it")
    if order.status != OrderStatus.OPEN:
        raise IllegalStep(f"the order is {order.status}")
    report = text.strip()
    if not report or len(report) > 4000:
        raise IllegalStep("say what was done, in up to 4000 characters")
    order.status = OrderStatus.REPORTED
    # A second report follows the authority's note on the first: the history stays.
    order.report = f"{order.report}\n— {report}"[:8000] if order.report else report
    order.reported_at = ctx.now


async def check_order(
    *,
    db_session: AsyncSession,
    ctx: Context,
    outbox_ids: list[int],
    order: RectificationOrder,
    accepted: bool,
    note: str | None = None,
) -> None:
    """The authority checks a reported order: done, or back to the company.

    When the last order of an upheld complaint is done, the complaint is resolved and
    the resident told.
    """
    _require_authority(ctx)
    if order.status != OrderStatus.REPORTED:
        raise IllegalStep(f"the order is {order.status}, not reported done")
    order.checked_by = ctx.actor
    if not accepted:
        if not (note or "").strip():
            raise IllegalStep("say what is still not done")
        order.status = OrderStatus.OPEN
        order.report = f"{order.report}\n— {ctx.actor}: {note.strip() if note else ''}"[:8000]
        return
    order.status = OrderStatus.DONE
    order.done_at = ctx.now
    if order.ticket_id is None:
        return
    await db_session.flush()
    row = (
        await db_session.execute(
            select(Ticket, Complaint)
            .join(Complaint, Complaint.ticket_id == Ticket.id)
            .where(Ticket.id == order.ticket_id)
            .with_for_update()
        )
    ).first()
    if row is None or row[1].stage != Stage.RECTIFYING:
        return
    still_open = await db_session.scalar(
        select(func.count())
        .select_from(RectificationOrder)
        .where(
            RectificationOrder.ticket_id == order.ticket_id,
            RectificationOrder.status != OrderStatus.DONE,
        )
    )
    if still_open:
        return
    ticket, complaint = row
    move(db_session, ticket, complaint, Stage.RESOLVED, actor=ctx.actor, reason="rectified")
    await tell_resident(
        db_session=db_session,
        ticket=ticket,
        notice="complaint_rectified",
        outbox_ids=outbox_ids,
        number=ticket.public_number,
    )


async def mark_overdue_orders(
    *, db_session: AsyncSession, ctx: Context, outbox_ids: list[int], batch: int = 500
) -> int:
    """Marks open orders past their due time overdue, each with a pending deduction."""
    orders = list(
        await db_session.scalars(
            select(RectificationOrder)
            .where(
                RectificationOrder.status == OrderStatus.OPEN,
                RectificationOrder.overdue.is_(False),
                RectificationOrder.due_at < ctx.now,
            )
            .order_by(RectificationOrder.due_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    for order in orders:
        order.overdue = True
        company = await db_session.get(PropertyCompany, order.company_id)
        assert company is not None
        await integrity.record(
            db_session=db_session,
            ctx=ctx,
            outbox_ids=outbox_ids,
            company=company,
            kind=ScoreKind.OVERDUE_RECTIFICATION,
            source=f"order:{order.id}",
            estate_id=order.estate_id,
            ticket_id=order.ticket_id,
            order_id=order.id,
        )
    return len(orders)


def _current_contract(on: date) -> Any:
    return and_(
        ServiceContract.starts_on <= on,
        or_(ServiceContract.ends_on.is_(None), ServiceContract.ends_on >= on),
    )


async def start_campaign(
    *,
    db_session: AsyncSession,
    ctx: Context,
    code: str,
    names: dict[str, str],
    indicator_codes: list[str],
    company_codes: list[str] | None,
    starts_on: date,
    ends_on: date,
) -> tuple[Campaign, int]:
    """Starts a campaign: one planned inspection of every estate the chosen companies (all
    if None) serve on the start day. Returns the campaign and the number of inspections."""
    _require_authority(ctx)
    if ends_on < starts_on:
        raise IllegalStep("the campaign ends before it starts")
    if not indicator_codes:
        raise IllegalStep("a campaign checks at least one indicator")
    indicators = list(
        await db_session.scalars(
            select(Indicator).where(Indicator.code.in_(indicator_codes), Indicator.active)
        )
    )
    missing = sorted(set(indicator_codes) - {i.code for i in indicators})
    if missing:
        raise IllegalStep(f"unknown or retired indicators: {', '.join(missing)}")
    query = (
        select(ServiceContract.company_id, ServiceContract.estate_id)
        .join(PropertyCompany, PropertyCompany.id == ServiceContract.company_id)
        .where(_current_contract(starts_on), PropertyCompany.active.is_(True))
    )
    if company_codes is not None:
        known = set(
            await db_session.scalars(
                select(PropertyCompany.code).where(PropertyCompany.code.in_(company_codes))
            )
        )
        unknown = sorted(set(company_codes) - known)
        if unknown:
            raise IllegalStep(f"unknown companies: {', '.join(unknown)}")
        query = query.where(PropertyCompany.code.in_(company_codes))
    pairs = list(await db_session.execute(query.order_by(ServiceContract.estate_id)))
    campaign = Campaign(
        code=code,
        names=names,
        indicator_ids=sorted(i.id for i in indicators),
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=ctx.actor,
        created_at=ctx.now,
    )
    try:
        async with db_session.begin_nested():
            db_session.add(campaign)
            await db_session.flush()
    except IntegrityError:
        raise IllegalStep(f"a campaign {code!r} exists already") from None
    db_session.add_all(
        Inspection(
            campaign_id=campaign.id,
            company_id=company_id,
            estate_id=estate_id,
            status=InspectionStatus.PLANNED,
            due_on=ends_on,
        )
        for company_id, estate_id in pairs
    )
    await db_session.flush()
    return campaign, len(pairs)


@dataclass(frozen=True)
class ResultIn:
    indicator: str
    score: int
    note: str | None = None


async def record_results(
    *,
    db_session: AsyncSession,
    ctx: Context,
    outbox_ids: list[int],
    inspection: Inspection,
    results: list[ResultIn],
    order_days: int | None = None,
) -> RectificationOrder | None:
    """Records a campaign inspection's scores; failed indicators become one order."""
    _require_authority(ctx)
    if inspection.status != InspectionStatus.PLANNED:
        raise IllegalStep("this inspection is done already")
    if inspection.campaign_id is None:
        raise IllegalStep("a complaint's inspection ends with a finding on the complaint")
    campaign = await db_session.get(Campaign, inspection.campaign_id)
    assert campaign is not None
    indicators = {
        i.code: i
        for i in await db_session.scalars(
            select(Indicator).where(Indicator.id.in_(campaign.indicator_ids))
        )
    }
    given = [r.indicator for r in results]
    if len(set(given)) != len(given):
        raise IllegalStep("an indicator is scored twice")
    if set(given) != set(indicators):
        raise IllegalStep(
            f"score exactly the campaign's indicators: {', '.join(sorted(indicators))}"
        )
    failed: list[Indicator] = []
    for result in results:
        indicator = indicators[result.indicator]
        if not 0 <= result.score <= indicator.max_score:
            raise IllegalStep(f"{indicator.code} is scored from 0 to {indicator.max_score}")
        passed = result.score >= indicator.pass_score
        if not passed:
            failed.append(indicator)
        db_session.add(
            InspectionResult(
                inspection_id=inspection.id,
                indicator_id=indicator.id,
                score=result.score,
                passed=passed,
                note=(result.note or "").strip()[:1000] or None,
            )
        )
    inspection.status = InspectionStatus.DONE
    inspection.done_at = ctx.now
    inspection.inspector = ctx.actor
    inspection.passed = not failed
    if not failed:
        return None
    company = await db_session.get(PropertyCompany, inspection.company_id)
    assert company is not None
    text = "; ".join(
        pick_name(i.names, company.language) for i in sorted(failed, key=lambda i: i.code)
    )
    return await issue_order(
        db_session=db_session,
        ctx=ctx,
        outbox_ids=outbox_ids,
        company=company,
        estate_id=inspection.estate_id,
        text=text,
        days=order_days,
        inspection_id=inspection.id,
    )


@dataclass(frozen=True)
class DueCheck:
    estate_code: str
    company_code: str
    indicator_code: str
    last_checked: date | None
    due_since: date


async def due_checks(
    *, db_session: AsyncSession, settings: Settings, now: datetime, limit: int = 1000
) -> list[DueCheck]:
    """Returns (estate, indicator) pairs whose last check is older than the indicator's
    frequency: what the authority should inspect next, the longest overdue first."""
    today = local_day(settings, now)
    indicators = list(await db_session.scalars(select(Indicator).where(Indicator.active)))
    served = list(
        await db_session.execute(
            select(Estate.id, Estate.code, PropertyCompany.code)
            .join(ServiceContract, ServiceContract.estate_id == Estate.id)
            .join(PropertyCompany, PropertyCompany.id == ServiceContract.company_id)
            .where(_current_contract(today), PropertyCompany.active.is_(True))
        )
    )
    last = {
        (estate_id, indicator_id): done_at
        for estate_id, indicator_id, done_at in await db_session.execute(
            select(
                Inspection.estate_id, InspectionResult.indicator_id, func.max(Inspection.done_at)
            )
            .join(InspectionResult, InspectionResult.inspection_id == Inspection.id)
            .group_by(Inspection.estate_id, InspectionResult.indicator_id)
        )
    }
    found: list[DueCheck] = []
    for estate_id, estate_code, company_code in served:
        for indicator in indicators:
            checked = last.get((estate_id, indicator.id))
            every = timedelta(days=FREQUENCY_DAYS[indicator.frequency])
            if checked is not None and checked + every > now:
                continue
            last_day = local_day(settings, checked) if checked is not None else None
            since = local_day(settings, checked + every) if checked is not None else today
            found.append(DueCheck(estate_code, company_code, indicator.code, last_day, since))
    found.sort(key=lambda d: (d.last_checked is not None, d.due_since, d.estate_code))
    return found[:limit]
