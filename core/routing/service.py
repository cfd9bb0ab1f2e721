"""Routing: which back office, department and SLA policy a request goes to."""

from __future__ import annotations

import asyncio
import time as monotonic_time
import unicodedata
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.routing.enums import BackOffice
from core.routing.models import Category, RoutingRule, SlaPolicy
from core.routing.schemas import RoutingRuleIn
from core.sla.calendar import WorkingCalendar
from core.sla.models import CalendarDay, WorkCalendar
from core.tickets.enums import TicketKind


@dataclass(frozen=True)
class Route:
    """The outcome of matching one request against the routing rules."""

    rule_id: int | None
    rule_name: str
    back_office: str
    department_id: int | None
    sla_policy_id: int | None
    priority: str | None


FALLBACK_ROUTE = Route(None, "fallback: triage", BackOffice.GENERAL, None, None, None)


@dataclass
class RoutingTable:
    """A snapshot of the routing data, small enough to hold in memory per process."""

    rules: list[RoutingRule] = field(default_factory=list)
    categories: dict[int, Category] = field(default_factory=dict)
    policies: dict[int, SlaPolicy] = field(default_factory=dict)
    calendars: dict[int, WorkingCalendar] = field(default_factory=dict)

    def category_by_code(self, code: str) -> Category | None:
        """Returns the category with ``code``."""
        for category in self.categories.values():
            if category.code == code:
                return category
        return None

    def category_by_kind(self, kind: str) -> Category | None:
        """Returns the first active category of a ticket kind (by position of its id)."""
        for category_id in sorted(self.categories):
            category = self.categories[category_id]
            if category.active and category.kind == kind:
                return category
        return None

    def classify_text(self, text: str) -> Category | None:
        """Returns the category whose keywords best match ``text``, or None.

        A plain keyword vote: enough to route the demo and obvious cases; the NLU issue
        plugs a trained classifier in front of it.
        """
        folded = unicodedata.normalize("NFKC", text).casefold()
        best: tuple[int, Category] | None = None
        for category in self.categories.values():
            if not category.active:
                continue
            hits = sum(
                1
                for words in (category.keywords or {}).values()
                for word in words
                if word and _has_word(folded, word.casefold())
            )
            if hits and (best is None or hits > best[0]):
                best = (hits, category)
        return best[1] if best else None

    def match(
        self,
        *,
        kind: str,
        category_id: int | None,
        district_id: int | None,
        community_id: int | None,
    ) -> Route:
        """Returns the route of the first active rule that matches, or the triage fallback."""
        for rule in self.rules:
            if rule.match_kind is not None and rule.match_kind != kind:
                continue
            if rule.match_category_id is not None and rule.match_category_id != category_id:
                continue
            if rule.match_district_id is not None and rule.match_district_id != district_id:
                continue
            if rule.match_community_id is not None and rule.match_community_id != community_id:
                continue
            return Route(
                rule.id,
                rule.name,
                rule.back_office,
                rule.department_id,
                rule.sla_policy_id,
                rule.priority,
            )
        return FALLBACK_ROUTE


async def load_table(*, db_session: AsyncSession) -> RoutingTable:
    """Returns a fresh snapshot of rules, categories, SLA policies and calendars."""
    rules = list(
        await db_session.scalars(
            select(RoutingRule).where(RoutingRule.active.is_(True)).order_by(RoutingRule.position)
        )
    )
    categories = {c.id: c for c in await db_session.scalars(select(Category))}
    policies = {p.id: p for p in await db_session.scalars(select(SlaPolicy))}
    exceptions: dict[int, dict] = {}
    for day in await db_session.scalars(select(CalendarDay)):
        exceptions.setdefault(day.calendar_id, {})[day.day] = day.is_working
    calendars = {
        c.id: WorkingCalendar(
            timezone=ZoneInfo(c.timezone),
            day_start=c.day_start,
            day_end=c.day_end,
            weekend_days=frozenset(c.weekend_days),
            exceptions=exceptions.get(c.id, {}),
        )
        for c in await db_session.scalars(select(WorkCalendar))
    }
    db_session.expunge_all()
    return RoutingTable(rules, categories, policies, calendars)


class RoutingCache:
    """Holds the routing table for a few seconds so intake does not reload it per message.

    Every process has its own copy; edits reach all of them within ``ttl`` seconds, and
    ``invalidate`` makes the editing process see them at once.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], ttl: float) -> None:
        self._session_factory = session_factory
        self._ttl = ttl
        self._table: RoutingTable | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> RoutingTable:
        """Returns the cached table, reloading it when stale."""
        if self._table is not None and monotonic_time.monotonic() - self._loaded_at < self._ttl:
            return self._table
        async with self._lock:
            if self._table is None or monotonic_time.monotonic() - self._loaded_at >= self._ttl:
                async with self._session_factory() as session:
                    self._table = await load_table(db_session=session)
                self._loaded_at = monotonic_time.monotonic()
        return self._table

    def invalidate(self) -> None:
        """Forgets the cached table so the next read reloads it."""
        self._table = None


def kind_of(category: Category | None) -> str:
    """Returns the ticket kind a category implies (general when unknown)."""
    return category.kind if category is not None else TicketKind.GENERAL


class UnknownReference(LookupError):
    """A rule names a category, district, department or policy code that does not exist."""


async def _id_by_code(db_session: AsyncSession, model: type, code: str | None) -> int | None:
    if code is None or code == "":
        return None
    found = await db_session.scalar(select(model.id).where(model.code == code))  # type: ignore[attr-defined]
    if found is None:
        raise UnknownReference(f"unknown {model.__tablename__[:-1]} code {code!r}")  # type: ignore[attr-defined]
    return int(found)


async def rule_values(*, db_session: AsyncSession, data: RoutingRuleIn) -> dict[str, object]:
    """Returns column values for a rule, resolving codes to ids (raises UnknownReference)."""
    from core.routing.models import Department
    from core.territory.models import Community, District

    return {
        "position": data.position,
        "name": data.name,
        "match_kind": data.match_kind,
        "match_category_id": await _id_by_code(db_session, Category, data.match_category_code),
        "match_district_id": await _id_by_code(db_session, District, data.match_district_code),
        "match_community_id": await _id_by_code(db_session, Community, data.match_community_code),
        "back_office": data.back_office,
        "department_id": await _id_by_code(db_session, Department, data.department_code),
        "sla_policy_id": await _id_by_code(db_session, SlaPolicy, data.sla_policy_code),
        "priority": data.priority,
        "active": data.active,
    }


async def create_rule(*, db_session: AsyncSession, data: RoutingRuleIn) -> RoutingRule:
    """Creates a routing rule."""
    rule = RoutingRule(**await rule_values(db_session=db_session, data=data))
    db_session.add(rule)
    await db_session.flush()
    return rule


async def update_rule(
    *, db_session: AsyncSession, rule: RoutingRule, data: RoutingRuleIn
) -> RoutingRule:
    """Replaces a routing rule's fields."""
    for name, value in (await rule_values(db_session=db_session, data=data)).items():
        setattr(rule, name, value)
    await db_session.flush()
    return rule


async def list_rules(*, db_session: AsyncSession) -> list[RoutingRule]:
    """Returns every routing rule in evaluation order."""
    return list(
        await db_session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id))
    )


def _has_word(text: str, word: str) -> bool:
    """Returns whether ``word`` starts a word of ``text`` (a stem: "фонар" in "фонарь").

    A keyword inside another word is no match ("tree" in "street"). Chinese and Japanese
    are written without spaces, so there any position is a word's start.
    """
    start = text.find(word)
    while start != -1:
        if start == 0 or not text[start - 1].isalnum() or _unspaced(word[0]):
            return True
        start = text.find(word, start + 1)
    return False


def _unspaced(char: str) -> bool:
    code = ord(char)
    return 0x3040 <= code <= 0x30FF or 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF
