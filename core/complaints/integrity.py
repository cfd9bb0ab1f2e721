"""The integrity score (DOMAIN §5): basic information (capped) + good conduct (capped) −
bad conduct, over a rolling window of confirmed events.

A deduction starts pending: the company gets a pre-deduction notice and may appeal with
evidence until the appeal date. It counts only once confirmed — by the appeal date
passing, or by the authority refusing the appeal. An upheld appeal withdraws it.

Deductions are weighted: rule points × the estate kind's factor × the factor of the
company's managed area (a company serving a million m² gets more complaints than one
serving ten thousand for the same conduct). Awards are not weighted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import Role
from core.complaints.enums import (
    SECTION_OF_KIND,
    AppealDecision,
    ScoreKind,
    ScoreStatus,
    Section,
    WeightDimension,
)
from core.complaints.models import Manager, PropertyCompany, ScoreEvent, ScoreRule
from core.complaints.models import ScoreWeight as WeightRow
from core.complaints.notify import tell_company
from core.complaints.service import (
    Context,
    IllegalStep,
    NotAllowed,
    company_of,
    local_day,
    managed_area,
)
from core.config import Settings
from core.territory.enums import EstateKind
from core.territory.models import Estate

TWO = Decimal("0.01")
# Rules used where the authority has not imported its own (score_rules rows win).
DEFAULT_RULES: dict[str, tuple[Section, Decimal, dict[str, str]]] = {
    "registered": (
        Section.BASIC,
        Decimal(60),
        {"en": "Registered and active", "ru": "Зарегистрирована", "zh": "已登记"},
    ),
    "qualified": (
        Section.BASIC,
        Decimal(10),
        {"en": "Valid qualification", "ru": "Действующая квалификация", "zh": "资质有效"},
    ),
    "certified_managers": (
        Section.BASIC,
        Decimal(10),
        {
            "en": "Certified managers, none shared",
            "ru": "Аттестованные управляющие",
            "zh": "项目经理持证且不兼职",
        },
    ),
    ScoreKind.AWARD: (Section.GOOD, Decimal(5), {"en": "Award", "ru": "Поощрение", "zh": "表彰"}),
    ScoreKind.UPHELD_COMPLAINT: (
        Section.BAD,
        Decimal(2),
        {"en": "Upheld complaint", "ru": "Обоснованная жалоба", "zh": "有效投诉"},
    ),
    ScoreKind.OVERDUE_RECTIFICATION: (
        Section.BAD,
        Decimal(5),
        {"en": "Overdue rectification", "ru": "Просрочено предписание", "zh": "整改逾期"},
    ),
    ScoreKind.SANCTION: (
        Section.BAD,
        Decimal(10),
        {"en": "Administrative sanction", "ru": "Административное взыскание", "zh": "行政处罚"},
    ),
}
DEFAULT_WEIGHTS: dict[tuple[str, str], Decimal] = {
    (WeightDimension.ESTATE_KIND, EstateKind.RESIDENTIAL): Decimal(1),
    (WeightDimension.ESTATE_KIND, EstateKind.MIXED): Decimal(1),
    (WeightDimension.ESTATE_KIND, EstateKind.COMMERCIAL): Decimal("0.8"),
    (WeightDimension.AREA_FROM, "0"): Decimal(1),
    (WeightDimension.AREA_FROM, "100000"): Decimal("0.8"),
    (WeightDimension.AREA_FROM, "500000"): Decimal("0.6"),
}


@dataclass(frozen=True)
class Rule:
    code: str
    section: Section
    points: Decimal
    names: dict[str, str]


async def rules(db_session: AsyncSession) -> dict[str, Rule]:
    """Returns every rule by code: the defaults, overridden by imported rows."""
    found = {
        code: Rule(code, section, points, names)
        for code, (section, points, names) in DEFAULT_RULES.items()
    }
    for row in await db_session.scalars(select(ScoreRule)):
        found[row.code] = Rule(row.code, Section(row.section), Decimal(row.points), row.names)
    return found


async def weights(db_session: AsyncSession) -> dict[tuple[str, str], Decimal]:
    """Returns the weight factors: the defaults, overridden by imported rows."""
    found = dict(DEFAULT_WEIGHTS)
    for row in await db_session.scalars(select(WeightRow)):
        found[(row.dimension, row.key)] = Decimal(row.factor)
    return found


def factor_for(
    table: dict[tuple[str, str], Decimal], estate_kind: str | None, area: Decimal
) -> Decimal:
    """Returns the deduction factor: the estate kind's times the managed area tier's."""
    kind_factor = table.get((WeightDimension.ESTATE_KIND, estate_kind or ""), Decimal(1))
    tiers = sorted(
        (Decimal(key), value)
        for (dimension, key), value in table.items()
        if dimension == WeightDimension.AREA_FROM
    )
    area_factor = Decimal(1)
    for threshold, value in tiers:
        if area >= threshold:
            area_factor = value
    return (kind_factor * area_factor).quantize(Decimal("0.001"), ROUND_HALF_UP)


async def record(
    *,
    db_session: AsyncSession,
    ctx: Context,
    outbox_ids: list[int],
    company: PropertyCompany,
    kind: ScoreKind,
    source: str,
    rule_code: str | None = None,
    estate_id: int | None = None,
    ticket_id: int | None = None,
    order_id: int | None = None,
    note: str | None = None,
) -> ScoreEvent:
    """Records an integrity event once per ``source``; a repeat returns the first one.

    A deduction starts pending with a pre-deduction notice to the company; an award
    counts at once.
    """
    existing = await db_session.scalar(select(ScoreEvent).where(ScoreEvent.source == source))
    if existing is not None:
        return existing
    known = await rules(db_session)
    rule = known.get(rule_code or kind)
    section = SECTION_OF_KIND[kind]
    if rule is None or rule.section != section:
        raise IllegalStep(f"no {section} rule {rule_code or kind!r}")
    factor = Decimal(1)
    if section is Section.BAD:
        estate = await db_session.get(Estate, estate_id) if estate_id else None
        area = await managed_area(db_session=db_session, company_id=company.id, on=ctx.today)
        factor = factor_for(await weights(db_session), estate.kind if estate else None, area)
    pending = section is Section.BAD
    event = ScoreEvent(
        company_id=company.id,
        kind=kind,
        rule_code=rule.code,
        section=section,
        base_points=rule.points.quantize(TWO, ROUND_HALF_UP),
        factor=factor,
        points=(rule.points * factor).quantize(TWO, ROUND_HALF_UP),
        status=ScoreStatus.PENDING if pending else ScoreStatus.CONFIRMED,
        source=source,
        estate_id=estate_id,
        ticket_id=ticket_id,
        order_id=order_id,
        note=note,
        created_by=ctx.actor,
        occurred_at=ctx.now,
        appeal_by=_appeal_by(ctx) if pending else None,
        confirmed_at=None if pending else ctx.now,
        appeal_evidence=[],
    )
    try:
        async with db_session.begin_nested():
            db_session.add(event)
            await db_session.flush()
    except IntegrityError:
        # Someone recorded the same source a moment ago: theirs is the one.
        found = await db_session.scalar(select(ScoreEvent).where(ScoreEvent.source == source))
        assert found is not None
        return found
    if pending:
        await tell_company(
            db_session=db_session,
            company=company,
            notice="score_pre_deduction",
            outbox_ids=outbox_ids,
            points=f"{event.points}",
            rule=rule.names.get(company.language) or rule.names.get("en", rule.code),
            appeal_by=f"{local_day(ctx.settings, event.appeal_by or ctx.now)}",
        )
    return event


def _appeal_by(ctx: Context) -> datetime:
    """Returns the end of the city day the notice names: the company is told a date, so
    the whole of that day is theirs, whatever hour the deduction was recorded."""
    last_day = ctx.today + timedelta(days=ctx.settings.complaints_appeal_days)
    zone = ZoneInfo(ctx.settings.timezone)
    return datetime.combine(last_day + timedelta(days=1), time(), zone).astimezone(UTC) - (
        timedelta(microseconds=1)
    )


async def appeal(
    *,
    db_session: AsyncSession,
    ctx: Context,
    event: ScoreEvent,
    text: str,
    evidence: list[dict[str, Any]],
) -> None:
    """Files the company's appeal against a pending deduction, with its evidence."""
    if company_of(ctx.principal) != event.company_id:
        raise NotAllowed("only the company itself may appeal its deduction")
    if event.status != ScoreStatus.PENDING:
        raise IllegalStep(f"this deduction is {event.status} and cannot be appealed")
    if event.appeal_by is None or ctx.now > event.appeal_by:
        day = local_day(ctx.settings, event.appeal_by or ctx.now)
        raise IllegalStep(f"the appeal period ended on {day}")
    if not text.strip():
        raise IllegalStep("say why the deduction is wrong")
    event.status = ScoreStatus.APPEALED
    event.appeal_text = text.strip()
    event.appeal_evidence = evidence
    event.appealed_at = ctx.now


async def decide(
    *,
    db_session: AsyncSession,
    ctx: Context,
    outbox_ids: list[int],
    event: ScoreEvent,
    decision: AppealDecision,
    reason: str,
) -> None:
    """The authority decides an appeal: upheld withdraws the deduction, refused confirms it."""
    if ctx.principal.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise NotAllowed("a supervisor decides appeals")
    if event.status != ScoreStatus.APPEALED:
        raise IllegalStep(f"this deduction is {event.status}, not under appeal")
    if not reason.strip():
        raise IllegalStep("give the reason for the decision")
    event.decision = decision
    event.decision_reason = reason.strip()
    event.decided_by = ctx.actor
    if decision is AppealDecision.UPHELD:
        event.status = ScoreStatus.WITHDRAWN
    else:
        event.status = ScoreStatus.CONFIRMED
        event.confirmed_at = ctx.now
    company = await db_session.get(PropertyCompany, event.company_id)
    assert company is not None
    await tell_company(
        db_session=db_session,
        company=company,
        notice="score_appeal_decided",
        outbox_ids=outbox_ids,
        points=f"{event.points}",
        decision=str(decision),
    )


async def confirm_unappealed(*, db_session: AsyncSession, now: datetime) -> int:
    """Confirms pending deductions whose appeal date has passed; returns how many."""
    result = await db_session.execute(
        update(ScoreEvent)
        .where(ScoreEvent.status == ScoreStatus.PENDING, ScoreEvent.appeal_by < now)
        .values(status=ScoreStatus.CONFIRMED, confirmed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass
class Score:
    company_id: int
    code: str
    names: dict[str, str]
    basic: Decimal = Decimal(0)
    good: Decimal = Decimal(0)
    bad: Decimal = Decimal(0)
    total: Decimal = Decimal(0)
    band: str = ""
    blacklisted: bool = False
    upheld_complaints: int = 0
    pending: int = 0
    basic_items: list[str] = field(default_factory=list)


def band_for(settings: Settings, total: Decimal, blacklisted: bool) -> str:
    """Returns the band a score falls in; a blacklisted company is "blacklist" whatever
    its score."""
    if blacklisted:
        return "blacklist"
    for band, floor in settings.complaints_bands:
        if total >= Decimal(str(floor)):
            return band
    return settings.complaints_bands[-1][0]


async def scores(
    *,
    db_session: AsyncSession,
    settings: Settings,
    now: datetime,
    company_ids: list[int] | None = None,
) -> list[Score]:
    """Returns the scores of the active companies (or those given), best first.

    A handful of grouped queries, whatever the number of companies.
    """
    today = local_day(settings, now)
    known = await rules(db_session)
    query = select(PropertyCompany).order_by(PropertyCompany.code)
    if company_ids is not None:
        query = query.where(PropertyCompany.id.in_(company_ids))
    else:
        query = query.where(PropertyCompany.active.is_(True))
    companies = list(await db_session.scalars(query))
    certified = await _certified_companies(db_session, today)
    since = now - timedelta(days=settings.complaints_score_window_days)
    sums = await db_session.execute(
        select(
            ScoreEvent.company_id,
            ScoreEvent.section,
            func.sum(ScoreEvent.points),
            func.count(),
            func.sum(_is(ScoreEvent.kind == ScoreKind.UPHELD_COMPLAINT)),
        )
        .where(ScoreEvent.status == ScoreStatus.CONFIRMED, ScoreEvent.occurred_at >= since)
        .group_by(ScoreEvent.company_id, ScoreEvent.section)
    )
    totals: dict[tuple[int, str], tuple[Decimal, int]] = {}
    upheld: dict[int, int] = {}
    for company_id, section, points, _count, upheld_count in sums:
        totals[(company_id, section)] = (Decimal(points or 0), int(_count))
        upheld[company_id] = upheld.get(company_id, 0) + int(upheld_count or 0)
    pending = dict(
        (row[0], int(row[1]))
        for row in await db_session.execute(
            select(ScoreEvent.company_id, func.count())
            .where(ScoreEvent.status.in_([ScoreStatus.PENDING, ScoreStatus.APPEALED]))
            .group_by(ScoreEvent.company_id)
        )
    )
    basic_cap = Decimal(str(settings.complaints_basic_cap))
    good_cap = Decimal(str(settings.complaints_good_cap))
    found: list[Score] = []
    for company in companies:
        score = Score(company.id, company.code, company.names)
        score.basic_items = _basic_items(company, today, company.id in certified)
        basic = sum((known[item].points for item in score.basic_items if item in known), Decimal(0))
        score.basic = min(basic, basic_cap).quantize(TWO, ROUND_HALF_UP)
        good = min(totals.get((company.id, Section.GOOD), (Decimal(0), 0))[0], good_cap)
        score.good = good.quantize(TWO, ROUND_HALF_UP)
        score.bad = totals.get((company.id, Section.BAD), (Decimal(0), 0))[0].quantize(TWO)
        total = score.basic + score.good - score.bad
        score.total = max(Decimal(0), min(Decimal(100), total)).quantize(TWO, ROUND_HALF_UP)
        score.blacklisted = company.blacklisted
        score.band = band_for(settings, score.total, company.blacklisted)
        score.upheld_complaints = upheld.get(company.id, 0)
        score.pending = pending.get(company.id, 0)
        found.append(score)
    # Blacklisted companies rank last; otherwise the higher score first, then the code.
    found.sort(key=lambda s: (s.blacklisted, -s.total, s.code))
    return found


def _is(condition: Any) -> Any:
    return case((condition, 1), else_=0)


def _basic_items(company: PropertyCompany, today: date, certified: bool) -> list[str]:
    items = []
    if company.active:
        items.append("registered")
    valid_until = company.qualification_valid_until
    if company.qualification and (valid_until is None or valid_until >= today):
        items.append("qualified")
    if certified:
        items.append("certified_managers")
    return items


async def _certified_companies(db_session: AsyncSession, today: date) -> set[int]:
    """Returns the companies whose current managers all hold valid certificates and none
    of whom is listed as a current manager of another company."""
    current = and_(
        Manager.appointed_on <= today,
        or_(Manager.left_on.is_(None), Manager.left_on >= today),
    )
    rows = list(
        await db_session.execute(
            select(Manager.company_id, Manager.certificate_number, Manager.certificate_valid_until)
            .join(PropertyCompany, PropertyCompany.id == Manager.company_id)
            .where(current, PropertyCompany.active.is_(True))
        )
    )
    companies_of: dict[str, set[int]] = {}
    for company_id, certificate, _valid in rows:
        companies_of.setdefault(certificate, set()).add(company_id)
    good: set[int] = set()
    bad: set[int] = set()
    for company_id, certificate, valid in rows:
        if (valid is not None and valid < today) or len(companies_of[certificate]) > 1:
            bad.add(company_id)
        else:
            good.add(company_id)
    return good - bad
