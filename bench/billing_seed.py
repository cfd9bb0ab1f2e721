"""Seeding for bench.billing: 100,000-account billing data in bulk SQL (not timed as a figure)."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy import func, select

from bench.common import (
    bench_database_url,
)
from core.billing.enums import ChargeBasis
from core.billing.models import BillingService, Supplier, Tariff
from core.billing.service import months_before
from core.db import transaction
from core.runtime import Hub
from core.territory.models import Account, Community

PERIOD = date(2026, 3, 1)  # the period charged; four months of charges come before it
HISTORY_MONTHS = 4
FLATS_PER_BUILDING = 100
FIRST_NUMBER = 80_000_000  # account numbers of the seeded accounts (the demo's are 77…)

SUPPLIERS = [
    ("vodokanal", {"en": "Water company", "ru": "Водоканал", "zh": "自来水公司"}),
    ("teploset", {"en": "Heat network", "ru": "Теплосеть", "zh": "热力公司"}),
    ("energosbyt", {"en": "Power company", "ru": "Энергосбыт", "zh": "电力公司"}),
    ("uk_riverside", {"en": "Managing company", "ru": "Управляющая компания", "zh": "物业公司"}),
    ("regoperator", {"en": "Waste operator", "ru": "Регоператор ТКО", "zh": "垃圾清运公司"}),
]

# code, supplier, names, unit, basis, normative, allowed hours, aliases, old price, new price
SERVICES: list[tuple[str, str, dict[str, str], str, ChargeBasis, str, str, list[str], str, str]] = [
    (
        "cold_water",
        "vodokanal",
        {"en": "Cold water", "ru": "Холодная вода", "zh": "冷水"},
        "m3",
        ChargeBasis.METERED,
        "4.745",
        "8",
        ["cw", "хв", "冷水"],
        "42.30",
        "46.10",
    ),
    (
        "hot_water",
        "teploset",
        {"en": "Hot water", "ru": "Горячая вода", "zh": "热水"},
        "m3",
        ChargeBasis.METERED,
        "3.5",
        "8",
        ["hw", "гв", "热水"],
        "215.70",
        "236.20",
    ),
    (
        "electricity",
        "energosbyt",
        {"en": "Electricity", "ru": "Электроэнергия", "zh": "电"},
        "kWh",
        ChargeBasis.METERED,
        "75",
        "24",
        ["el", "эл", "电"],
        "5.92",
        "6.43",
    ),
    (
        "heating",
        "teploset",
        {"en": "Heating", "ru": "Отопление", "zh": "供暖"},
        "Gcal",
        ChargeBasis.AREA,
        "0.0213",
        "24",
        [],
        "2890.50",
        "3120.74",
    ),
    (
        "maintenance",
        "uk_riverside",
        {"en": "Maintenance", "ru": "Содержание жилья", "zh": "物业维护"},
        "m2",
        ChargeBasis.AREA,
        "1",
        "0",
        [],
        "25.50",
        "27.80",
    ),
    (
        "waste",
        "regoperator",
        {"en": "Waste removal", "ru": "Вывоз ТКО", "zh": "垃圾清运"},
        "person",
        ChargeBasis.PER_RESIDENT,
        "1",
        "0",
        [],
        "118.40",
        "129.05",
    ),
]
TARIFF_DATES = (date(2025, 7, 1), date(2026, 1, 1))  # the new prices apply from January

# A metered account-service's group, from (account id + 7 × the service's index) % 20:
#   0–12 readings for the 4 months before and this one → metered
#   13–15 readings for the 4 months before, none now   → average (3 metered months)
#   16    a new meter, first reading now                → initial
#   17    a meter that never reported                   → normative
#   18–19 no meter                                      → normative
SQL_FUNCTIONS = [
    """
    CREATE FUNCTION pg_temp.bench_group(account_id int, j int) RETURNS int
    LANGUAGE sql IMMUTABLE AS $$ SELECT (account_id + 7 * j) % 20 $$
    """,
    """
    CREATE FUNCTION pg_temp.bench_monthly(account_id int, j int) RETURNS numeric
    LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE j WHEN 0 THEN 2 + account_id % 7 WHEN 1 THEN 1 + account_id % 4
                      ELSE 80 + account_id % 150 END + (account_id % 10) * 0.1
    $$
    """,
]

SEED_BUILDINGS = """
INSERT INTO buildings (id, community_id, code, addresses, latitude, longitude, total_area)
SELECT $1::int + g, ($3::int[])[1 + g % cardinality($3::int[])], 'BENCH-' || g,
       json_build_object('en', g || ' Bench Street', 'ru', 'ул. Стендовая, ' || g,
                         'zh', '基准街' || g || '号'),
       55.70 + (g % 100) * 0.001, 37.50 + (g / 100) * 0.001, 0
FROM generate_series(1, $2::int) AS g
"""
SEED_PREMISES = """
INSERT INTO premises (id, building_id, number, kind, area)
SELECT $1::int + i, $2::int + 1 + (i - 1) / $4::int, ((i - 1) % $4::int + 1)::text, 'flat',
       28.40 + (i * 37) % 70 + (i % 10) * 0.1
FROM generate_series(1, $3::int) AS i
"""
SEED_BUILDING_AREAS = """
UPDATE buildings b SET total_area = s.area
FROM (SELECT building_id, sum(area) AS area FROM premises WHERE building_id > $1::int
      GROUP BY building_id) AS s
WHERE b.id = s.building_id
"""
SEED_RESIDENTS = """
INSERT INTO residents (id, display_name, language, created_at)
SELECT $1::int + i,
       CASE WHEN i <= $2::int THEN 'Holder ' || i ELSE 'Family ' || (i - $2::int) END,
       (ARRAY['ru', 'ru', 'ru', 'en', 'zh'])[1 + i % 5], now()
FROM generate_series(1, $2::int + $3::int) AS i
"""
SEED_CONTACTS = """
INSERT INTO contacts (id, resident_id, kind, value, verified, language, created_at)
SELECT $1::int + i, $2::int + i, 'phone',
       CASE WHEN i <= $3::int THEN '+7902' || lpad(i::text, 7, '0')
            ELSE '+7903' || lpad((i - $3::int)::text, 7, '0') END,
       true, (ARRAY['ru', 'ru', 'ru', 'en', 'zh'])[1 + i % 5], now()
FROM generate_series(1, $3::int + $4::int) AS i
"""
SEED_OWNERS = """
INSERT INTO premises_owners (premises_id, resident_id, share)
SELECT $1::int + i, $2::int + i, 1 FROM generate_series(1, $3::int) AS i
"""
SEED_ACCOUNTS = """
INSERT INTO accounts (id, number, premises_id, holder_id, registered_residents)
SELECT $1::int + i, ($5::int + i)::text, $2::int + i, $3::int + i, 1 + i % 4
FROM generate_series(1, $4::int) AS i
"""
SEED_LINKS = """
INSERT INTO account_contacts (account_id, contact_id, via, created_at)
SELECT $1::int + j, $2::int + $3::int + j, 'staff', now()
FROM generate_series(1, $4::int) AS j
"""
SEED_ACCOUNT_SERVICES = """
INSERT INTO account_services (account_id, service_id)
SELECT a.id, s.id FROM accounts a CROSS JOIN billing_services s ORDER BY a.id, s.id
"""
SEED_METERS = """
INSERT INTO meters (account_id, service_id, serial, active)
SELECT a.id, m.service_id, m.prefix || '-' || lpad(a.id::text, 8, '0'), true
FROM accounts a CROSS JOIN unnest($1::int[], $2::int[], $3::text[]) AS m(service_id, j, prefix)
WHERE pg_temp.bench_group(a.id, m.j) < 18
ORDER BY a.id, m.service_id
"""
SEED_READINGS = """
INSERT INTO meter_readings (meter_id, period, value, status, channel, submitted_at)
SELECT q.id, q.period, 1000 + q.k * q.monthly, 'accepted',
       (ARRAY['sms', 'telegram', 'web', 'sms'])[1 + (q.id + q.k) % 4],
       q.period + interval '19 days 10 hours'
FROM (
    SELECT mt.id, k, (($3::date - make_interval(months => 4 - k)))::date AS period,
           pg_temp.bench_group(mt.account_id, m.j) AS grp,
           pg_temp.bench_monthly(mt.account_id, m.j) AS monthly
    FROM meters mt
    JOIN unnest($1::int[], $2::int[]) AS m(service_id, j) ON m.service_id = mt.service_id
    CROSS JOIN generate_series(0, 4) AS k
) AS q
WHERE q.grp <= 12 OR (q.grp BETWEEN 13 AND 15 AND q.k <= 3) OR (q.grp = 16 AND q.k = 4)
ORDER BY q.id, q.k
"""
# The months before PERIOD, charged as run_charges would have charged them.
SEED_HISTORY = """
INSERT INTO charges (account_id, service_id, period, basis, quantity, tariff, amount, created_at)
SELECT q.account_id, q.service_id, q.period, q.basis, q.quantity, t.price,
       round(q.quantity * t.price, 2), q.period + interval '1 month 2 hours'
FROM (
    SELECT x.account_id, x.service_id,
           (($3::date - make_interval(months => 4 - k)))::date AS period,
           CASE WHEN s.basis = 'area' THEN 'area'
                WHEN m.j IS NOT NULL AND pg_temp.bench_group(x.account_id, m.j) <= 15
                     THEN CASE WHEN k = 0 THEN 'initial' ELSE 'metered' END
                ELSE 'normative' END AS basis,
           round(CASE WHEN s.basis = 'area' THEN s.normative * p.area
                      WHEN m.j IS NOT NULL AND pg_temp.bench_group(x.account_id, m.j) <= 15
                           AND k > 0 THEN pg_temp.bench_monthly(x.account_id, m.j)
                      ELSE s.normative * a.registered_residents END, 4) AS quantity
    FROM account_services x
    JOIN accounts a ON a.id = x.account_id
    JOIN premises p ON p.id = a.premises_id
    JOIN billing_services s ON s.id = x.service_id
    LEFT JOIN unnest($1::int[], $2::int[]) AS m(service_id, j) ON m.service_id = x.service_id
    CROSS JOIN generate_series(0, 3) AS k
) AS q
JOIN LATERAL (
    SELECT price FROM tariffs
    WHERE service_id = q.service_id AND valid_from <= q.period
    ORDER BY valid_from DESC LIMIT 1
) AS t ON true
ORDER BY q.period, q.account_id, q.service_id
"""
# Four accounts in five paid their bill for the period before last, in full.
SEED_PAYMENTS = """
INSERT INTO payments (id, account_id, paid_on, amount, source, external_id, created_at)
SELECT $3::int + account_id, account_id, $2::date, sum(amount), 'bank', 'bench-' || account_id,
       now()
FROM charges WHERE period = $1::date AND account_id % 5 <> 0 GROUP BY account_id
"""
SEED_ALLOCATIONS = """
INSERT INTO payment_allocations (payment_id, service_id, amount)
SELECT $2::int + account_id, service_id, amount FROM charges
WHERE period = $1::date AND account_id % 5 <> 0 ORDER BY account_id, service_id
"""
SET_SEQUENCE = "SELECT setval(pg_get_serial_sequence($1::text, 'id'), $2::bigint)"

# The bare limit: the same rows computed and written by the database alone.
BARE_INSERT_SELECT = """
WITH price AS (
    SELECT DISTINCT ON (service_id) service_id, price FROM tariffs
    WHERE valid_from <= $2::date ORDER BY service_id, valid_from DESC
), cur AS (
    SELECT DISTINCT ON (meter_id) meter_id, value FROM meter_readings
    WHERE period = $2::date AND status <> 'rejected' ORDER BY meter_id, id DESC
), prev AS (
    SELECT DISTINCT ON (meter_id) meter_id, value FROM meter_readings
    WHERE period < $2::date AND status <> 'rejected' ORDER BY meter_id, period DESC, id DESC
), volume AS (
    SELECT m.account_id, m.service_id, cur.value - prev.value AS volume
    FROM meters m JOIN cur ON cur.meter_id = m.id JOIN prev ON prev.meter_id = m.id
    WHERE m.active
)
INSERT INTO charges (account_id, service_id, period, basis, quantity, tariff, amount, created_at)
SELECT q.account_id, q.service_id, $1::date, q.basis, q.quantity, q.price,
       round(q.quantity * q.price, 2), now()
FROM (
    SELECT x.account_id, x.service_id, price.price,
           CASE WHEN s.basis = 'area' THEN 'area'
                WHEN v.volume IS NOT NULL THEN 'metered' ELSE 'normative' END AS basis,
           round(CASE WHEN s.basis = 'area' THEN s.normative * p.area
                      WHEN v.volume IS NOT NULL THEN v.volume
                      ELSE s.normative * a.registered_residents END, 4) AS quantity
    FROM account_services x
    JOIN accounts a ON a.id = x.account_id
    JOIN premises p ON p.id = a.premises_id
    JOIN billing_services s ON s.id = x.service_id
    JOIN price ON price.service_id = x.service_id
    LEFT JOIN volume v ON v.account_id = x.account_id AND v.service_id = x.service_id
) AS q
"""
CHARGE_COLUMNS = [
    "account_id",
    "service_id",
    "period",
    "basis",
    "quantity",
    "tariff",
    "amount",
    "created_at",
]


def asyncpg_dsn() -> str:
    return bench_database_url().replace("postgresql+asyncpg://", "postgresql://")


def holder_phone(index: int) -> str:
    return f"+7902{index:07d}"


def family_phone(index: int) -> str:
    return f"+7903{index:07d}"


def log(line: str) -> None:
    print(line, flush=True)


async def _max_id(connection: Any, table: str) -> int:
    # Table names come from this module only.
    value = await connection.fetchval(
        "SELECT coalesce(max(id), 0) FROM " + table  # noqa: S608
    )
    return int(value)


async def seed_services(hub: Hub) -> list[tuple[int, int, str]]:
    """Adds suppliers, services and tariffs; returns (service id, index, serial prefix) of
    the metered services."""
    metered: list[tuple[int, int, str]] = []
    async with transaction(hub.session_factory) as session:
        suppliers = {code: Supplier(code=code, names=names) for code, names in SUPPLIERS}
        session.add_all(suppliers.values())
        await session.flush()
        for code, supplier, names, unit, basis, norm, hours, aliases, old, new in SERVICES:
            service = BillingService(
                code=code,
                names=names,
                supplier_id=suppliers[supplier].id,
                unit=unit,
                basis=basis,
                normative=Decimal(norm),
                allowed_interruption_hours=Decimal(hours),
                aliases=aliases,
            )
            session.add(service)
            await session.flush()
            for valid_from, price in zip(TARIFF_DATES, (old, new), strict=True):
                session.add(
                    Tariff(service_id=service.id, valid_from=valid_from, price=Decimal(price))
                )
            if basis == ChargeBasis.METERED:
                metered.append((service.id, len(metered), code[:2].upper()))
    return metered


async def _count(connection: Any, table: str) -> int:
    return int(await connection.fetchval("SELECT count(*) FROM " + table))  # noqa: S608


async def seed(hub: Hub, accounts: int) -> dict[str, Any]:
    """Fills the scratch database in bulk; returns the counts and the seeded ranges."""
    async with hub.session_factory() as session:
        demo_accounts = int(await session.scalar(select(func.count(Account.id))) or 0)
        communities = list(await session.scalars(select(Community.id).order_by(Community.id)))
    new = max(1, accounts - demo_accounts)
    family = new // 5
    buildings = -(-new // FLATS_PER_BUILDING)
    metered = await seed_services(hub)
    metered_ids = [service_id for service_id, _, _ in metered]
    metered_index = [index for _, index, _ in metered]

    connection = await asyncpg.connect(asyncpg_dsn())
    timings: dict[str, float] = {}
    try:
        b0 = await _max_id(connection, "buildings")
        p0 = await _max_id(connection, "premises")
        r0 = await _max_id(connection, "residents")
        c0 = await _max_id(connection, "contacts")
        a0 = await _max_id(connection, "accounts")
        pay0 = await _max_id(connection, "payments")
        steps: list[tuple[str, str, tuple[Any, ...]]] = [
            ("buildings", SEED_BUILDINGS, (b0, buildings, communities)),
            ("premises", SEED_PREMISES, (p0, b0, new, FLATS_PER_BUILDING)),
            ("building areas", SEED_BUILDING_AREAS, (b0,)),
            ("residents", SEED_RESIDENTS, (r0, new, family)),
            ("contacts", SEED_CONTACTS, (c0, r0, new, family)),
            ("premises owners", SEED_OWNERS, (p0, r0, new)),
            ("accounts", SEED_ACCOUNTS, (a0, p0, r0, new, FIRST_NUMBER)),
            ("account contacts", SEED_LINKS, (a0, c0, new, family)),
            ("account services", SEED_ACCOUNT_SERVICES, ()),
            (
                "meters",
                SEED_METERS,
                (metered_ids, metered_index, [prefix for _, _, prefix in metered]),
            ),
            ("meter readings", SEED_READINGS, (metered_ids, metered_index, PERIOD)),
            ("earlier charges", SEED_HISTORY, (metered_ids, metered_index, PERIOD)),
            (
                "payments",
                SEED_PAYMENTS,
                (months_before(PERIOD, 2), months_before(PERIOD, 1).replace(day=10), pay0),
            ),
            ("payment allocations", SEED_ALLOCATIONS, (months_before(PERIOD, 2), pay0)),
        ]
        async with connection.transaction():
            for statement in SQL_FUNCTIONS:
                await connection.execute(statement)
            for label, statement, parameters in steps:
                started = time.perf_counter()
                await connection.execute(statement, *parameters)
                timings[label] = round(time.perf_counter() - started, 2)
            for table in ("buildings", "premises", "residents", "contacts", "accounts", "payments"):
                await connection.fetchval(SET_SEQUENCE, table, await _max_id(connection, table))
        started = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        timings["vacuum analyze"] = round(time.perf_counter() - started, 2)
        counts = {}
        for table in (
            "accounts",
            "account_services",
            "meters",
            "meter_readings",
            "charges",
            "payments",
            "contacts",
            "account_contacts",
        ):
            counts[table] = await _count(connection, table)
    finally:
        await connection.close()
    return {
        "demo_accounts": demo_accounts,
        "new_accounts": new,
        "linked_family_contacts": family,
        "first_account_id": a0 + 1,
        "counts": counts,
        "step_seconds": timings,
    }
