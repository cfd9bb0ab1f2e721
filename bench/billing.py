"""The billing back office on PostgreSQL: a monthly charge run and balance inquiries by SMS.

    python -m bench.billing [--accounts 100000] [--inquiries 3000] [--concurrency 16]
                            [--batch 2000] [--no-redis]

The scratch database (bench.common) gets the demo city, then, in bulk SQL (timed apart
and not part of any figure): 6 services (cold water, hot water and electricity by meter,
heating and maintenance by area, waste per resident), tariffs, buildings and premises,
``--accounts`` accounts with their holders' phones (a fifth of them also a linked family
phone), every account on every service, meters and readings, four months of earlier
charges and the payments of one bill. The meters are seeded so the run takes every path:
readings this month and last (metered), a missed reading after 3 metered months
(average), a meter's first reading (initial), a meter that never reported and no meter at
all (normative).

1. Charge run: ``run_charges`` for one period, in one transaction as the hub runs it
   (rules from ``ChargeRules.from_settings``, as ``hub billing charge-run``), then a
   second run of the same period (a rerun replaces it). Beside it, measured in the same
   run on the same tables: the bare limit, the same number of charge rows computed and
   written by one ``INSERT … SELECT`` in SQL only (metered volume from the readings, else
   norm or area; no averages), and a ``COPY`` of the run's own rows from Python.
2. Balance inquiries: ``--inquiries`` SMS "баланс" from holders and linked contacts
   through ``core.intake.service.receive`` with ``--concurrency`` tasks, beside the bare
   limits of the same engine and pool: one ``SELECT 1`` round trip per item, and one
   INSERT + COMMIT per item (the floor of the durable work intake does before answering).

Prints human-readable lines, then a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from typing import Any

import asyncpg
from sqlalchemy import text

from bench.billing_seed import (
    BARE_INSERT_SELECT,
    CHARGE_COLUMNS,
    FIRST_NUMBER,
    PERIOD,
    SERVICES,
    asyncpg_dsn,
    family_phone,
    holder_phone,
    log,
    seed,
)
from bench.common import (
    RunStats,
    fresh_hub,
    run_concurrently,
)
from channels.contract import Channel, InboundMessage
from core.billing.service import ChargeRules, RunReport, months_before, run_charges
from core.db import transaction, utcnow
from core.intake import service as intake
from core.runtime import Hub


async def timed_run(hub: Hub, rules: ChargeRules, batch: int) -> tuple[float, RunReport]:
    """Runs the charges for PERIOD in one transaction; returns seconds (with the commit)."""
    started = time.perf_counter()
    async with transaction(hub.session_factory) as session:
        report = await run_charges(db_session=session, period=PERIOD, rules=rules, batch=batch)
    return time.perf_counter() - started, report


async def bare_charge_writes(expected: int) -> dict[str, Any]:
    """The database's own speed for the same rows: INSERT … SELECT, and COPY from Python."""
    insert_period = months_before(PERIOD, -12)
    copy_period = months_before(PERIOD, -13)
    connection = await asyncpg.connect(asyncpg_dsn())
    try:
        started = time.perf_counter()
        async with connection.transaction():
            await connection.execute("DELETE FROM charges WHERE period = $1", insert_period)
            status = await connection.execute(BARE_INSERT_SELECT, insert_period, PERIOD)
        insert_seconds = time.perf_counter() - started
        inserted = int(status.rsplit(" ", 1)[-1])

        now = utcnow()
        records = [
            (*row[:2], copy_period, *row[3:7], now)
            for row in await connection.fetch(
                "SELECT account_id, service_id, period, basis, quantity, tariff, amount"
                " FROM charges WHERE period = $1 ORDER BY id",
                PERIOD,
            )
        ]
        started = time.perf_counter()
        async with connection.transaction():
            await connection.execute("DELETE FROM charges WHERE period = $1", copy_period)
            await connection.copy_records_to_table(
                "charges", records=records, columns=CHARGE_COLUMNS
            )
        copy_seconds = time.perf_counter() - started

        # Not part of any figure: the inquiries should see only the real periods.
        await connection.execute(
            "DELETE FROM charges WHERE period IN ($1, $2)", insert_period, copy_period
        )
        await connection.execute("VACUUM ANALYZE charges")
    finally:
        await connection.close()
    if inserted != expected:
        log(f"note: bare INSERT … SELECT wrote {inserted} rows, the run {expected}")
    return {
        "insert_select_rows": inserted,
        "insert_select_seconds": round(insert_seconds, 2),
        "insert_select_rows_per_second": round(inserted / insert_seconds),
        "copy_rows": len(records),
        "copy_seconds": round(copy_seconds, 2),
        "copy_rows_per_second": round(len(records) / copy_seconds),
    }


def inquiry_messages(
    count: int, new: int, family: int, prefix: str, expected: dict[str, str]
) -> list[InboundMessage]:
    """Returns ``count`` "баланс" texts: three in four from holders, one from a linked phone.

    ``expected`` gets the account number each message should be answered about.
    """
    now = utcnow()
    result = []
    for i in range(count):
        spread = i * 7919
        if family and i % 4 == 3:
            index = spread % family + 1
            sender = family_phone(index)
        else:
            index = spread % new + 1
            sender = holder_phone(index)
        expected[f"{prefix}-{i}"] = str(FIRST_NUMBER + index)
        result.append(
            InboundMessage(
                channel=Channel.SMS,
                sender_address=sender,
                text="баланс" if i % 3 else "Баланс",
                provider_message_id=f"{prefix}-{i}",
                received_at=now,
            )
        )
    return result


async def inquiries(
    hub: Hub, seeded: dict[str, Any], count: int, concurrency: int
) -> dict[str, Any]:
    new, family = seeded["new_accounts"], seeded["linked_family_contacts"]
    async with hub.engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE TABLE bench_bare (id bigserial PRIMARY KEY, payload text NOT NULL,"
                " created_at timestamptz NOT NULL DEFAULT now())"
            )
        )
    answered = 0
    expected: dict[str, str] = {}

    async def receive(item: object) -> None:
        nonlocal answered
        assert isinstance(item, InboundMessage)
        result = await intake.receive(hub=hub, message=item)
        # Every sender has one account: the answer names it ("ЛС 80000123: …").
        number = expected[item.provider_message_id]
        if len(result.replies) == 1 and number in result.replies[0].text:
            answered += 1

    # Warm the pool, the routing cache and the statement caches; not measured.
    warm = inquiry_messages(concurrency * 8, new, family, "warm", expected)
    await run_concurrently(warm, receive, concurrency)
    answered = 0

    async def select_one(_: object) -> None:
        async with hub.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def insert_commit(item: object) -> None:
        async with hub.engine.connect() as connection:
            await connection.execute(
                text("INSERT INTO bench_bare (payload) VALUES (:p)"), {"p": str(item)}
            )
            await connection.commit()

    bare_select = await run_concurrently(list(range(count)), select_one, concurrency)
    bare_insert = await run_concurrently(list(range(count)), insert_commit, concurrency)
    stats = await run_concurrently(
        inquiry_messages(count, new, family, "bench", expected), receive, concurrency
    )
    return {
        "stats": stats,
        "bare_select": bare_select,
        "bare_insert": bare_insert,
        "answered": answered,
    }


def _stats(stats: RunStats) -> dict[str, float]:
    return {
        "count": stats.count,
        "seconds": round(stats.seconds, 2),
        "per_second": round(stats.per_second, 1),
        "p50_ms": round(stats.p50_ms, 2),
        "p99_ms": round(stats.p99_ms, 2),
    }


async def main(
    accounts: int, inquiry_count: int, concurrency: int, batch: int, use_redis: bool
) -> dict[str, Any]:
    hub = await fresh_hub(concurrency=concurrency, use_redis=use_redis)
    settings = hub.settings
    try:
        async with hub.engine.connect() as connection:
            server = (await connection.execute(text("SHOW server_version"))).scalar()

        started = time.perf_counter()
        seeded = await seed(hub, accounts)
        seed_seconds = time.perf_counter() - started
        log(f"seeded in {seed_seconds:.1f} s: {seeded['counts']}")
        log(f"  steps (s): {seeded['step_seconds']}")

        rules = ChargeRules.from_settings(settings)  # as `hub billing charge-run` does
        first_seconds, report = await timed_run(hub, rules, batch)
        log(
            f"charge run {PERIOD:%Y-%m}: {report.charges} charges in {first_seconds:.2f} s"
            f" = {report.charges / first_seconds:,.0f}/s; by basis {report.by_basis},"
            f" total {report.total}"
        )
        rerun_seconds, rerun = await timed_run(hub, rules, batch)
        log(
            f"rerun (replaces): {rerun.charges} charges in {rerun_seconds:.2f} s"
            f" = {rerun.charges / rerun_seconds:,.0f}/s"
        )
        async with hub.engine.connect() as connection:
            stored = (
                await connection.execute(
                    text("SELECT count(*) FROM charges WHERE period = :p"), {"p": PERIOD}
                )
            ).scalar()
        bare = await bare_charge_writes(report.charges)
        log(
            f"bare INSERT … SELECT (SQL only): {bare['insert_select_rows']} rows in"
            f" {bare['insert_select_seconds']:.2f} s"
            f" = {bare['insert_select_rows_per_second']:,}/s"
        )
        log(
            f"bare COPY of the run's rows: {bare['copy_rows']} rows in {bare['copy_seconds']:.2f} s"
            f" = {bare['copy_rows_per_second']:,}/s"
        )

        asked = await inquiries(hub, seeded, inquiry_count, concurrency)
        stats, bare_select, bare_insert = asked["stats"], asked["bare_select"], asked["bare_insert"]
        log(bare_select.line("bare SELECT 1"))
        log(bare_insert.line("bare INSERT+COMMIT"))
        log(stats.line("balance inquiry (SMS 'баланс' through intake)"))
        log(f"  answered with the account's balance: {asked['answered']} of {stats.count}")
    finally:
        await hub.close()

    return {
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": server,
        },
        "redis": use_redis,
        "accounts": seeded["counts"]["accounts"],
        "services": len(SERVICES),
        "seed": {
            "seconds": round(seed_seconds, 1),
            "counts": seeded["counts"],
            "step_seconds": seeded["step_seconds"],
        },
        "charge_run": {
            "period": PERIOD.isoformat(),
            "batch": batch,
            "charges": report.charges,
            "stored": stored,
            "by_basis": report.by_basis,
            "total": str(report.total),
            "missing_tariffs": report.missing_tariffs,
            "first_seconds": round(first_seconds, 2),
            "first_per_second": round(report.charges / first_seconds),
            "rerun_seconds": round(rerun_seconds, 2),
            "rerun_per_second": round(rerun.charges / rerun_seconds),
            "rerun_same_total": rerun.total == report.total,
        },
        "charge_bare": bare,
        "charge_ratio_to_insert_select": round(
            (report.charges / first_seconds) / bare["insert_select_rows_per_second"], 3
        ),
        "charge_ratio_to_copy": round(
            (report.charges / first_seconds) / bare["copy_rows_per_second"], 3
        ),
        "inquiries": {
            "concurrency": concurrency,
            "balance": _stats(stats),
            "answered": asked["answered"],
            "bare_select_1": _stats(bare_select),
            "bare_insert_commit": _stats(bare_insert),
            "ratio_to_select_1": round(stats.per_second / bare_select.per_second, 3),
            "ratio_to_insert_commit": round(stats.per_second / bare_insert.per_second, 3),
        },
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--inquiries", type=int, default=3_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=2_000, help="run_charges batch size")
    parser.add_argument("--no-redis", action="store_true")
    args = parser.parse_args()
    print(
        json.dumps(
            asyncio.run(
                main(args.accounts, args.inquiries, args.concurrency, args.batch, not args.no_redis)
            ),
            indent=2,
            ensure_ascii=False,
        )
    )
