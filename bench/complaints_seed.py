"""Data for bench.complaints: the complaints registers at city scale, in bulk SQL, and
the statements of its bare limits and checks.

``companies`` property companies (a few inactive, a few blacklisted, some with an expired
qualification), their managers (some certificates expired, some shared between two
companies), ``estates`` estates of ``per_estate`` new buildings each, and the contract
register: every estate but one in 20 has a current contract, one in 4 also an ended one
before it, and one in 20 a contract that starts in the future (the current one ends the
day before). Each company serves ``estates / companies`` estates. ``residents`` residents
each own one flat in a building of some estate and text from their own phone. Then
``events`` integrity events, skewed so that a few companies have thousands and most a few
dozen, of every kind and status, spread over 18 months (two thirds in the score window).

Every choice is arithmetic on the row's index, so the benchmark knows, without asking the
database, which company must receive each resident's complaint.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import text

from bench.dispatch_seed import asyncpg_dsn

BUILDING_STEP = 104_729  # prime: resident i's building is i × step modulo the building count
EVENT_HASH = 2_654_435_761  # Knuth's multiplicative hash, for a skewed company per event


@dataclass(frozen=True)
class Sizes:
    companies: int = 2_000
    estates: int = 20_000
    per_estate: int = 5
    residents: int = 40_000
    events: int = 200_000

    @property
    def buildings(self) -> int:
        return self.estates * self.per_estate


@dataclass(frozen=True)
class Offsets:
    """The largest id of each table before seeding (the demo city's rows come first)."""

    company: int
    manager: int
    building: int
    estate: int
    contract: int
    premises: int
    resident: int
    contact: int


def company_of_estate(estate: int, sizes: Sizes) -> int:
    """Returns the company (1-based index) serving estate ``estate`` now; every company
    gets the same number of estates (7919 is prime to the company count)."""
    return 1 + ((estate - 1) * 7919) % sizes.companies


def has_current_contract(estate: int) -> bool:
    return estate % 20 != 0


def estate_of_resident(resident: int, sizes: Sizes) -> int:
    """Returns the estate (1-based index) resident ``resident``'s flat is in."""
    building = 1 + ((resident - 1) * BUILDING_STEP) % sizes.buildings
    return (building - 1) // sizes.per_estate + 1


def resident_phone(resident: int) -> str:
    return f"+7904{resident:07d}"


def building_address(building: int) -> str:
    """The Russian address the seed gives building ``building`` (1-based index)."""
    return f"ул. Стендовая, {building}"


SEED_COMPANIES = """
INSERT INTO property_companies (id, code, names, registration_number, qualification,
                                qualification_valid_until, phone, language, active,
                                blacklisted, blacklist_reason)
SELECT $1::int + i, 'bench-co-' || lpad(i::text, 5, '0'),
       json_build_object('en', 'Bench Housing ' || i, 'ru', 'УК «Стенд-' || i || '»',
                         'zh', '基准物业' || i),
       '78' || lpad(i::text, 8, '0'),
       CASE WHEN i % 10 = 0 THEN NULL ELSE (1 + i % 3)::text END,
       CASE WHEN i % 7 = 0 THEN DATE '2025-06-30' ELSE DATE '2030-12-31' END,
       '+7905' || lpad(i::text, 7, '0'), (ARRAY['ru', 'ru', 'zh', 'en'])[1 + i % 4],
       i % 50 <> 0, i % 97 = 0, CASE WHEN i % 97 = 0 THEN 'bench: repeated sanctions' END
FROM generate_series(1, $2::int) AS i
"""
# One manager per company, a second in every third (who left in one case in 11), one in
# 25 with an expired certificate, and one in 40 also listed at the next company.
SEED_MANAGERS = """
INSERT INTO property_managers (id, company_id, full_name, certificate_number,
                               certificate_valid_until, appointed_on, left_on)
SELECT $1::int + row_number() OVER (ORDER BY m.company, m.certificate), $2::int + m.company,
       m.full_name, m.certificate, m.valid_until, DATE '2020-01-01' + m.company % 900,
       m.left_on
FROM (
    SELECT i AS company, 'Manager ' || i || '-1' AS full_name, 'BM-' || i || '-1' AS certificate,
           CASE WHEN i % 25 = 0 THEN DATE '2024-01-01' ELSE DATE '2030-01-01' END AS valid_until,
           NULL::date AS left_on
    FROM generate_series(1, $3::int) AS i
    UNION ALL
    SELECT i, 'Manager ' || i || '-2', 'BM-' || i || '-2', DATE '2031-01-01',
           CASE WHEN i % 11 = 0 THEN DATE '2024-03-31' END
    FROM generate_series(1, $3::int) AS i WHERE i % 3 = 0
    UNION ALL
    SELECT i + 1, 'Manager ' || i || '-1', 'BM-' || i || '-1', DATE '2030-01-01', NULL
    FROM generate_series(1, $3::int - 1) AS i WHERE i % 40 = 0
) AS m
"""
# Buildings of one estate are consecutive and lie in the estate's community.
SEED_BUILDINGS = """
INSERT INTO buildings (id, community_id, code, addresses, latitude, longitude, total_area)
SELECT $1::int + g, ($3::int[])[1 + ((g - 1) / $4::int) % cardinality($3::int[])],
       'BENCH-B' || g,
       json_build_object('en', g || ' Bench Street', 'ru', 'ул. Стендовая, ' || g,
                         'zh', '基准街' || g || '号'),
       55.60 + (g % 400) * 0.0005, 37.40 + (g / 400) * 0.0005, 4000 + (g * 37) % 6000
FROM generate_series(1, $2::int) AS g
"""
SEED_ESTATES = """
INSERT INTO estates (id, code, names, addresses, kind, community_id, area, building_count,
                     facilities)
SELECT $1::int + e, 'bench-es-' || lpad(e::text, 6, '0'),
       json_build_object('en', 'Bench Estate ' || e, 'ru', 'ЖК «Стенд-' || e || '»',
                         'zh', '基准小区' || e),
       json_build_object('ru', 'ул. Стендовая, ' || ((e - 1) * $4::int + 1) || '–'
                               || (e * $4::int)),
       CASE e % 10 WHEN 0 THEN 'commercial' WHEN 1 THEN 'mixed' ELSE 'residential' END,
       ($3::int[])[1 + (e - 1) % cardinality($3::int[])], 5000 + (e * 37) % 40000, $4::int,
       '["lift", "playground"]'
FROM generate_series(1, $2::int) AS e
"""
SEED_ESTATE_BUILDINGS = """
INSERT INTO estate_buildings (estate_id, building_id)
SELECT $1::int + 1 + (g - 1) / $4::int, $2::int + g FROM generate_series(1, $3::int) AS g
"""
# $5: the first day of the future contracts; the current one of those estates ends the day
# before. The company formula matches company_of_estate().
SEED_CONTRACTS = """
INSERT INTO service_contracts (id, number, company_id, estate_id, starts_on, ends_on)
SELECT $1::int + row_number() OVER (ORDER BY c.estate, c.starts_on), c.number,
       $2::int + c.company, $3::int + c.estate, c.starts_on, c.ends_on
FROM (
    SELECT e AS estate, 'BC-' || e AS number, 1 + ((e - 1) * 7919) % $5::int AS company,
           DATE '2023-01-01' + e % 365 AS starts_on,
           CASE WHEN e % 20 = 1 THEN $6::date - 1 WHEN e % 7 = 0 THEN DATE '2035-12-31' END
               AS ends_on
    FROM generate_series(1, $4::int) AS e WHERE e % 20 <> 0
    UNION ALL
    SELECT e, 'BX-' || e, 1 + ((e - 1) * 7919 + 1) % $5::int, DATE '2018-01-01',
           DATE '2022-12-31'
    FROM generate_series(1, $4::int) AS e WHERE e % 4 = 0
    UNION ALL
    SELECT e, 'BF-' || e, 1 + ((e - 1) * 7919 + 2) % $5::int, $6::date, NULL
    FROM generate_series(1, $4::int) AS e WHERE e % 20 = 1
) AS c
"""
SEED_PREMISES = """
INSERT INTO premises (id, building_id, number, kind, area)
SELECT $1::int + i, $2::int + 1 + ((i - 1)::bigint * $4::int) % $5::int, i::text, 'flat',
       30 + (i * 37) % 70
FROM generate_series(1, $3::int) AS i
"""
SEED_RESIDENTS = """
INSERT INTO residents (id, display_name, language, created_at)
SELECT $1::int + i, 'Owner ' || i, 'ru', now() FROM generate_series(1, $2::int) AS i
"""
SEED_CONTACTS = """
INSERT INTO contacts (id, resident_id, kind, value, verified, language, created_at)
SELECT $1::int + i, $2::int + i, 'phone', '+7904' || lpad(i::text, 7, '0'), true, 'ru', now()
FROM generate_series(1, $3::int) AS i
"""
SEED_OWNERS = """
INSERT INTO premises_owners (premises_id, resident_id, share)
SELECT $1::int + i, $2::int + i, 1 FROM generate_series(1, $3::int) AS i
"""
# Kind by i % 10: 0–1 award, 2–7 upheld complaint, 8 overdue rectification, 9 sanction.
# Deductions: one in 10 pending, one appealed, one withdrawn, the rest confirmed.
SEED_EVENTS = """
INSERT INTO score_events (company_id, kind, rule_code, section, base_points, factor, points,
                          status, source, created_by, occurred_at, appeal_by, appeal_evidence,
                          appealed_at, confirmed_at)
SELECT $1::int + 1 + floor($3::int * power(((i::bigint * $5::bigint) % 4294967296)
                                           / 4294967296.0, 2))::int,
       q.kind, q.kind, q.section, q.base, q.factor, round(q.base * q.factor, 2), q.status,
       'bench:' || i, 'bench', q.at,
       CASE WHEN q.status IN ('pending', 'appealed') THEN $4::timestamptz + interval '5 days' END,
       '[]', CASE WHEN q.status = 'appealed' THEN q.at + interval '2 days' END,
       CASE WHEN q.status = 'confirmed' THEN q.at + interval '10 days' END
FROM (
    SELECT i,
           CASE WHEN i % 10 < 2 THEN 'award' WHEN i % 10 < 8 THEN 'upheld_complaint'
                WHEN i % 10 = 8 THEN 'overdue_rectification' ELSE 'sanction' END AS kind,
           CASE WHEN i % 10 < 2 THEN 'good' ELSE 'bad' END AS section,
           CASE WHEN i % 10 < 2 THEN 5 WHEN i % 10 < 8 THEN 2 WHEN i % 10 = 8 THEN 5
                ELSE 10 END::numeric AS base,
           CASE WHEN i % 10 >= 2 AND i % 13 = 0 THEN 0.8 ELSE 1 END::numeric AS factor,
           CASE WHEN i % 10 < 2 THEN 'confirmed'
                WHEN (i / 10) % 10 = 0 THEN 'pending' WHEN (i / 10) % 10 = 1 THEN 'appealed'
                WHEN (i / 10) % 10 = 2 THEN 'withdrawn' ELSE 'confirmed' END AS status,
           $4::timestamptz - make_interval(days => (i * 37) % 540, secs => i % 86400) AS at
    FROM generate_series(1, $2::int) AS i
) AS q
"""
SET_SEQUENCE = "SELECT setval(pg_get_serial_sequence($1::text, 'id'), $2::bigint)"
TABLES = (
    "property_companies",
    "property_managers",
    "buildings",
    "estates",
    "service_contracts",
    "premises",
    "residents",
    "contacts",
)


async def _max_id(connection: Any, table: str) -> int:
    # Table names come from this module only.
    return int(await connection.fetchval("SELECT coalesce(max(id), 0) FROM " + table))  # noqa: S608


async def seed(sizes: Sizes, now: datetime) -> tuple[Offsets, dict[str, Any]]:
    """Fills the scratch database; returns the id offsets, the counts and the seconds."""
    future = (now + timedelta(days=200)).date()
    connection = await asyncpg.connect(asyncpg_dsn())
    timings: dict[str, float] = {}
    try:
        offsets = Offsets(*[await _max_id(connection, table) for table in TABLES])
        communities = [
            r[0] for r in await connection.fetch("SELECT id FROM communities ORDER BY id")
        ]
        o = offsets
        steps: list[tuple[str, str, tuple[Any, ...]]] = [
            ("companies", SEED_COMPANIES, (o.company, sizes.companies)),
            ("managers", SEED_MANAGERS, (o.manager, o.company, sizes.companies)),
            (
                "buildings",
                SEED_BUILDINGS,
                (o.building, sizes.buildings, communities, sizes.per_estate),
            ),
            ("estates", SEED_ESTATES, (o.estate, sizes.estates, communities, sizes.per_estate)),
            (
                "estate buildings",
                SEED_ESTATE_BUILDINGS,
                (o.estate, o.building, sizes.buildings, sizes.per_estate),
            ),
            (
                "contracts",
                SEED_CONTRACTS,
                (o.contract, o.company, o.estate, sizes.estates, sizes.companies, future),
            ),
            (
                "premises",
                SEED_PREMISES,
                (o.premises, o.building, sizes.residents, BUILDING_STEP, sizes.buildings),
            ),
            ("residents", SEED_RESIDENTS, (o.resident, sizes.residents)),
            ("contacts", SEED_CONTACTS, (o.contact, o.resident, sizes.residents)),
            ("premises owners", SEED_OWNERS, (o.premises, o.resident, sizes.residents)),
            (
                "score events",
                SEED_EVENTS,
                (o.company, sizes.events, sizes.companies, now, EVENT_HASH),
            ),
        ]
        async with connection.transaction():
            for label, statement, parameters in steps:
                started = time.perf_counter()
                await connection.execute(statement, *parameters)
                timings[label] = round(time.perf_counter() - started, 2)
            for table in TABLES:
                await connection.fetchval(SET_SEQUENCE, table, await _max_id(connection, table))
        started = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        timings["vacuum analyze"] = round(time.perf_counter() - started, 2)
        counts = {
            table: int(await connection.fetchval("SELECT count(*) FROM " + table))  # noqa: S608
            for table in (
                "property_companies",
                "property_managers",
                "buildings",
                "estates",
                "estate_buildings",
                "service_contracts",
                "premises_owners",
                "score_events",
            )
        }
    finally:
        await connection.close()
    return offsets, {"counts": counts, "step_seconds": timings}


def expected_company(resident: int, sizes: Sizes, offsets: Offsets) -> int | None:
    """Returns the id of the company that must receive resident ``resident``'s complaint,
    or None when their estate has no contract today (triage)."""
    estate = estate_of_resident(resident, sizes)
    if not has_current_contract(estate):
        return None
    return offsets.company + company_of_estate(estate, sizes)


# The bare limit of the routing: what take_complaint looks up, as one statement.
ROUTE = text(
    "SELECT eb.estate_id, sc.id, sc.company_id, pc.code FROM estate_buildings AS eb"
    " LEFT JOIN LATERAL (SELECT id, company_id FROM service_contracts"
    "   WHERE estate_id = eb.estate_id AND starts_on <= :on"
    "   AND (ends_on IS NULL OR ends_on >= :on) ORDER BY starts_on DESC LIMIT 1) AS sc ON true"
    " LEFT JOIN property_companies AS pc ON pc.id = sc.company_id"
    " WHERE eb.building_id = :building"
)
CHECK_COMPLAINTS = text(
    "SELECT t.resident_id, c.stage, c.company_id, c.triage_reason, c.contract_id"
    " FROM tickets AS t JOIN complaints AS c ON c.ticket_id = t.id WHERE t.id = ANY(:ids)"
)
CHECK_GENERAL = text(
    "SELECT count(*) FILTER (WHERE back_office = 'general' AND building_id IS NOT NULL)"
    " FROM tickets WHERE id = ANY(:ids)"
)
# Company notices queued by the complaints just taken (companies' phones are +7905…).
COMPANY_NOTICES = text(
    "SELECT count(*) FROM outbox_messages WHERE address LIKE '+7905%' AND ticket_id IS NULL"
)
# The bare limit of the ranking: the deductions and awards of every company in the window.
BARE_SUMS = (
    "SELECT company_id, section, sum(points), count(*),"
    " sum(CASE WHEN kind = 'upheld_complaint' THEN 1 ELSE 0 END)"
    " FROM score_events WHERE status = 'confirmed' AND occurred_at >= $1"
    " GROUP BY company_id, section"
)
ACTIVE_COMPANIES = "SELECT count(*) FROM property_companies WHERE active"
# The estates page as one statement: each estate with its current contract and company.
BARE_ESTATES = """
SELECT e.code, sc.number, pc.code FROM (
    SELECT id, code FROM estates ORDER BY code LIMIT $2
) AS e
LEFT JOIN LATERAL (
    SELECT number, company_id FROM service_contracts
    WHERE estate_id = e.id AND starts_on <= $1 AND (ends_on IS NULL OR ends_on >= $1)
    ORDER BY starts_on DESC LIMIT 1
) AS sc ON true
LEFT JOIN property_companies AS pc ON pc.id = sc.company_id
ORDER BY e.code
"""
