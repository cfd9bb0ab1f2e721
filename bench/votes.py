"""Owners' votes on PostgreSQL + Redis: the SMS ballot blast to a 100,000-owner estate, the
owners' replies through intake, and the tally with a million vote rows in the table.

    python -m bench.votes [--owners 100000] [--buildings 200] [--votes 1000000]
                          [--old-ballots 3] [--replies 3000] [--concurrency 16]
                          [--profile 200] [--repeat 3] [--database votes_bench] [--no-close]

The demo city plus bench.votes_seed's estate and ``--old-ballots`` closed ballots of it with
vote rows, seeded in bulk SQL (defaults: 100,101 owners with 101,101 verified phones).

1. Blast: a 3-question Chinese estate ballot (``cn-civil-code``; a Russian ballot may cover
   only one building) is created and published with the product's functions, then
   ``open_ballot`` (freeze + the SMS ballot's outbox rows in one transaction, as the
   lifecycle job runs it) and the bulk enqueue its commit sets off (``Hub.run_effects``)
   are timed apart; beside them, the same voter, member and outbox rows in multi-row
   INSERTs with asyncpg (rolled back) and SAQ's enqueue script on Redis, pipelined.
2. Replies: 60 % of the voters vote in bulk first (not measured), then ``--replies`` SMS
   replies from distinct owner phones through ``core.intake.service.receive`` (changes,
   repeats, new votes in three formats, one-question answers) with ``--concurrency`` tasks,
   beside as many bare INSERT + COMMIT of a vote row on the same pool. Every sender's
   counted vote is checked; ``--profile`` replies one at a time give CPU and statements.
3. Tally: ``count_ballot`` (median of ``--repeat``, EXPLAIN ANALYZE of its statements)
   beside a bare GROUP BY and a hand-written last-vote count (whose sums must be equal);
   ``protocol.audit_csv`` streamed to a file beside ``COPY`` of the same list, recounted by
   ``tally_from_audit``; then ``close_ballot`` (count + results blast) unless ``--no-close``.

Prints human-readable lines on stderr, then a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import asyncpg
from sqlalchemy import event, text, update

from bench import common
from bench import votes_seed as seed
from bench.complaints import StatementClock, _line, _measure, _ms
from bench.dispatch import _sequential
from bench.dispatch_seed import asyncpg_dsn, log
from channels.contract import Channel, InboundMessage
from core.auth.enums import Role, ScopeKind
from core.auth.service import Principal
from core.db import transaction, utcnow
from core.intake import service as intake
from core.runtime import Hub
from core.tickets.service import Scope
from core.votes import ballots, notify, protocol
from core.votes.counting import count_ballot
from core.votes.models import Ballot
from core.votes.rules import get_rule_set
from core.votes.schemas import BallotIn
from core.votes.service import questions_of

ADMIN = Principal("bench", Role.ADMIN, Scope(ScopeKind.CITY))
QUESTIONS = (
    ("Благоустроить двор?", "Landscape the courtyard?", "美化庭院？"),
    ("Сменить управляющую компанию?", "Change the management company?", "更换物业公司？"),
    ("Заменить лифты из фонда?", "Replace the lifts from the fund?", "用基金更换电梯？"),
)


@contextmanager
def timed(module: Any, name: str, sink: dict[str, float]) -> Iterator[None]:
    """Times every call of the coroutine function ``module.name`` into ``sink[name]``."""
    original = getattr(module, name)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            sink[name] = sink.get(name, 0.0) + time.perf_counter() - started

    setattr(module, name, wrapper)
    try:
        yield
    finally:
        setattr(module, name, original)


async def make_ballot(hub: Hub) -> int:
    """Creates and publishes the estate's ballot, then moves it to open a minute ago."""
    now = utcnow()
    notice = now + timedelta(minutes=1)
    # A day more notice than the rule set asks, two weeks of voting.
    told = timedelta(days=get_rule_set(seed.RULE_SET).notice_days_min + 1)
    data = BallotIn.model_validate(
        {
            "scope": "estate",
            "estate": seed.ESTATE,
            "titles": {
                "en": "Courtyard, company, lifts",
                "ru": "Двор, УК, лифты",
                "zh": "庭院、物业公司、电梯",
            },
            "language": "zh",
            "rule_set": seed.RULE_SET,
            "notice_at": notice.isoformat(),
            "opens_at": (notice + told).isoformat(),
            "closes_at": (notice + told + timedelta(days=14)).isoformat(),
            "questions": [
                {"matter": matter, "texts": {"ru": ru, "en": en, "zh": zh}}
                for matter, (ru, en, zh) in zip(seed.MATTERS, QUESTIONS, strict=True)
            ],
            "confirm_long": True,
        }
    )
    async with transaction(hub.session_factory) as session:
        ballot = await ballots.create_ballot(
            db_session=session,
            principal=ADMIN,
            data=data,
            now=now,
            max_parts=hub.settings.sms_max_parts,
            timezone=hub.settings.timezone,
        )
        await ballots.publish_ballot(db_session=session, principal=ADMIN, ballot=ballot, now=now)
        await session.flush()
        await session.execute(
            update(Ballot)
            .where(Ballot.id == ballot.id)
            .values(
                notice_at=now - told - timedelta(minutes=1),
                announced_at=now - told - timedelta(minutes=1),
                opens_at=now - timedelta(minutes=1),
                closes_at=now + timedelta(days=14),
            )
        )
        return ballot.id


async def bare_enqueue(hub: Hub, count: int) -> float:
    """SAQ's own enqueue script, ``count`` times on scratch keys, 100 per pipeline."""
    assert hub.redis is not None
    job = await hub.bulk_queue.enqueue("deliver_outbox", outbox_id=0, key="bench:sample")
    assert job is not None
    payload = hub.bulk_queue.serialize(job)
    await hub.bulk_queue.abort(job, "bench sample")
    script = hub.redis.register_script(
        "if not redis.call('ZSCORE', KEYS[1], KEYS[2]) and redis.call('EXISTS', KEYS[4]) == 0"
        " then redis.call('SET', KEYS[2], ARGV[1]) redis.call('ZADD', KEYS[1], ARGV[2], KEYS[2])"
        " if ARGV[2] == '0' then redis.call('RPUSH', KEYS[3], KEYS[2]) end return 1"
        " else return nil end"
    )
    started = time.perf_counter()
    for start in range(0, count, 100):
        pipe = hub.redis.pipeline(transaction=False)
        for i in range(start, min(count, start + 100)):
            keys = ["bench:incomplete", f"bench:job:{i}", "bench:queued", f"bench:abort:{i}"]
            await script(keys=keys, args=[payload, 0], client=pipe)
        await pipe.execute()
    seconds = time.perf_counter() - started
    for start in range(0, count, 1_000):
        await hub.redis.delete(*(f"bench:job:{i}" for i in range(start, min(count, start + 1_000))))
    await hub.redis.delete("bench:incomplete", "bench:queued")
    return seconds


async def blast(hub: Hub, sizes: seed.Sizes, ballot_id: int) -> tuple[dict[str, Any], list[int]]:
    parts: dict[str, float] = {"run_effects": 0.0}
    # The outbox rows are handed to the bulk queue by the commit itself (the after-commit
    # effects, core/events/collector.py), as the lifecycle job runs it: timed apart.
    with (
        StatementClock(hub.engine.sync_engine) as clock,
        timed(ballots, "freeze", parts),
        timed(notify, "blast", parts),
        timed(hub, "run_effects", parts),
    ):
        started = time.perf_counter()
        async with transaction(hub.session_factory) as session:
            ids = await ballots.open_ballot(
                db_session=session,
                ballot_id=ballot_id,
                now=utcnow(),
                timezone=hub.settings.timezone,
            )
            inside = time.perf_counter() - started
        opened = time.perf_counter() - started
    enqueued = parts["run_effects"]
    queued = await hub.bulk_queue.count("queued")
    voters, unowned = (await sql(seed.FROZEN, ballot_id))[0]
    bare = await seed.bare_writes(ballot_id, ids)
    bare["enqueue_s"] = await bare_enqueue(hub, len(ids))
    out = {
        "messages": len(ids),
        "expected_messages": sizes.recipients(),
        "voters": voters,
        "expected_voters": sizes.voters,
        "unowned_units": unowned,
        "open_ballot_s": round(opened - enqueued, 2),
        "freeze_s": round(parts["freeze"], 2),
        "blast_s": round(parts["blast"], 2),
        "rest_s": round(inside - parts["freeze"] - parts["blast"], 2),
        "commit_s": round(opened - inside - enqueued, 2),
        "statements": clock.count,
        "sql_s": round(clock.seconds, 2),
        "enqueue_s": round(enqueued, 2),
        "enqueue_per_s": round(len(ids) / enqueued),
        "queued_in_redis": queued,
        "bare": {k: round(v, 2) if isinstance(v, float) else v for k, v in bare.items()},
    }
    log(
        f"open_ballot: {out['open_ballot_s']} s for {voters:,} voters + {unowned} unowned units"
        f" and {len(ids):,} outbox rows (freeze {out['freeze_s']} s, blast {out['blast_s']} s,"
        f" rest {out['rest_s']} s, commit {out['commit_s']} s; {clock.count} statements,"
        f" {out['sql_s']} s in SQL)"
    )
    log(f"  bare multi-row INSERTs (asyncpg, rolled back): {out['bare']}")
    log(f"enqueue at commit (bulk): {out['enqueue_s']} s = {out['enqueue_per_s']:,}/s")
    if (
        len(ids) != sizes.recipients()
        or queued < len(ids)
        or voters != sizes.voters
        or unowned != sizes.unowned
    ):
        raise SystemExit(f"blast check failed: {out}")
    return out, ids


async def replies(
    hub: Hub, sizes: seed.Sizes, offsets: seed.Offsets, ballot_id: int, args: argparse.Namespace
) -> dict[str, Any]:
    count, concurrency = args.replies, args.concurrency
    warm = 4 * concurrency
    plan = seed.reply_plan(sizes, offsets, ballot_id, warm + count + args.profile)
    now = utcnow()
    messages = [
        InboundMessage(
            channel=Channel.SMS,
            sender_address=seed.phone(i),
            text=body,
            provider_message_id=f"reply-{i}",
            received_at=now,
        )
        for i, body, _expected, _rows, _kind in plan
    ]
    answered: list[int] = []

    async def receive(item: object) -> None:
        assert isinstance(item, InboundMessage)
        result = await intake.receive(hub=hub, message=item)
        answered.append(len(result.replies))

    old, question = (await sql(seed.BARE_TARGET))[0]
    voters = [r[0] for r in await sql(seed.VOTERS_OF_BALLOT, old, count)]
    before = (await sql(seed.ROWS_OF, ballot_id))[0][0]

    async def insert_commit(item: object) -> None:
        assert isinstance(item, int)
        async with hub.engine.connect() as connection:
            values = {"ballot": old, "question": question, "voter": voters[item % len(voters)]}
            await connection.execute(text(seed.BARE_VOTE), {**values, "key": f"bare:{item}"})
            await connection.commit()

    await _measure(messages[:warm], receive, concurrency)
    bare = (await _measure(list(range(count)), insert_commit, concurrency)).figures()
    measured = (await _measure(messages[warm : warm + count], receive, concurrency)).figures()
    sequential = await _sequential(hub, messages[warm + count :], receive)
    log(_line("bare INSERT + COMMIT of a vote row", bare))
    log(_line("SMS ballot reply through intake.receive", measured))
    log(f"  one at a time, per reply: {sequential}")

    residents = [seed.resident_of(i, offsets) for i, *_ in plan]
    found: dict[int, dict[int, str]] = {}
    for resident, position, option in await sql(seed.COUNTED_FOR, ballot_id, residents):
        found.setdefault(resident, {})[position] = option
    after = (await sql(seed.ROWS_OF, ballot_id))[0][0]
    wrong = sum(found.get(r, {}) != p[2] for r, p in zip(residents, plan, strict=True))
    check = {
        "replies": len(answered),
        "one_answer_each": sum(1 for n in answered if n == 1),
        "wrong_counted_votes": wrong,
        "rows_added": after - before,
        "rows_expected": sum(p[3] for p in plan),
        "kinds": dict(Counter(p[4] for p in plan)),
    }
    log(f"  check: {check}")
    if (
        wrong
        or check["rows_added"] != check["rows_expected"]
        or check["one_answer_each"] != len(plan)
    ):
        raise SystemExit(f"reply check failed: {check}")
    return {
        "concurrency": concurrency,
        "bare_insert_commit": bare,
        "replies": measured,
        "ratio": round(measured["per_second"] / bare["per_second"], 3),
        "sequential": sequential,
        "check": check,
    }


async def sql(query: str, *args: Any) -> list[Any]:
    """Runs one statement on its own asyncpg connection; returns the rows."""
    connection = await asyncpg.connect(asyncpg_dsn())
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def _explain(hub: Hub, statements: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) of captured statements, as the driver ran them."""
    plans = []
    async with hub.engine.connect() as connection:
        for statement, parameters in statements:
            rows = await connection.exec_driver_sql(seed.EXPLAIN + statement, parameters)
            lines = [r[0] for r in rows]
            plans.append({"sql": " ".join(statement.split())[:160], "plan": lines})
    return plans


@contextmanager
def captured(hub: Hub, sink: list[tuple[str, Any]]) -> Iterator[None]:
    def before(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        sink.append((statement, parameters))

    event.listen(hub.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(hub.engine.sync_engine, "before_cursor_execute", before)


async def tally(hub: Hub, ballot_id: int, args: argparse.Namespace) -> dict[str, Any]:
    times: list[float] = []
    in_sql: list[float] = []
    statements: list[tuple[str, Any]] = []
    count = None
    for n in range(args.repeat + 1):
        async with hub.session_factory() as session:
            ballot = await session.get(Ballot, ballot_id)
            assert ballot is not None
            with StatementClock(hub.engine.sync_engine) as clock, captured(hub, statements):
                started = time.perf_counter()
                count = await count_ballot(db_session=session, ballot=ballot)
                times.append(time.perf_counter() - started)
            in_sql.append(clock.seconds)
        if n == 0:  # the first one warms up, and shows its plans
            plans = await _explain(hub, statements)
    assert count is not None
    bare: dict[str, list[float]] = {"group_by": [], "last_vote": []}
    rows: dict[str, list[Any]] = {}
    connection = await asyncpg.connect(asyncpg_dsn())
    try:
        for _ in range(args.repeat + 1):
            for name, query in (
                ("group_by", seed.BARE_GROUP_BY),
                ("last_vote", seed.BARE_LAST_VOTE),
            ):
                started = time.perf_counter()
                rows[name] = await connection.fetch(query, ballot_id)
                bare[name].append(time.perf_counter() - started)
        started = time.perf_counter()
        with tempfile.TemporaryFile() as sink:
            await connection.copy_from_query(seed.bare_audit(ballot_id), output=sink, format="csv")
        copy_s = time.perf_counter() - started
    finally:
        await connection.close()
    position = dict(await sql(seed.POSITIONS, ballot_id))
    hand = {(position[q], opt): (int(w), int(h)) for q, opt, w, h in rows["last_vote"]}
    counted = {
        (q["position"], o["code"]): (o["weight"], o["heads"])
        for q in count.questions
        for o in q["options"]
        if o["weight"] or o["heads"]
    }
    bare_plan = [r[0] for r in await sql(seed.EXPLAIN + seed.BARE_LAST_VOTE, ballot_id)]
    out = {
        "ballot_votes_rows": (await sql("SELECT count(*) FROM ballot_votes"))[0][0],
        "this_ballot_rows": (await sql(seed.ROWS_OF, ballot_id))[0][0],
        "voted": count.voted,
        "outcomes": [q["outcome"] for q in count.questions],
        "count_ballot_ms": _ms(times[1:]),
        "count_ballot_sql_ms": _ms(in_sql[1:]),
        "bare_group_by_ms": _ms(bare["group_by"][1:]),
        "bare_last_vote_ms": _ms(bare["last_vote"][1:]),
        "same_as_bare_last_vote": counted == hand,
        "plans": [*plans, {"sql": "bare last vote", "plan": bare_plan}],
        "audit": await audit_list(hub, ballot_id, count.as_dict()),
        "bare_copy_audit_s": round(copy_s, 2),
    }
    log(
        f"count_ballot, {out['this_ballot_rows']:,} rows of this ballot,"
        f" {out['ballot_votes_rows']:,} in ballot_votes: {out['count_ballot_ms']} ms"
        f" (SQL {out['count_ballot_sql_ms']} ms); bare GROUP BY {out['bare_group_by_ms']} ms,"
        f" bare last-vote {out['bare_last_vote_ms']} ms"
    )
    for plan in out["plans"]:
        log(f"  EXPLAIN ANALYZE {plan['sql'][:90]}…\n    " + "\n    ".join(plan["plan"]))
    log(f"audit list: {out['audit']}; bare COPY of the same list: {copy_s:.2f} s")
    if not out["same_as_bare_last_vote"] or not out["audit"]["same_outcomes"]:
        raise SystemExit("tally check failed: the count differs from the bare query or audit")
    return out


async def audit_list(hub: Hub, ballot_id: int, results: dict[str, Any]) -> dict[str, Any]:
    """Streams the audit list to a CSV file and recounts it with tally_from_audit."""
    statements: list[tuple[str, Any]] = []
    lines = size = 0
    with tempfile.NamedTemporaryFile("w+", suffix=".csv", encoding="utf-8") as out:
        async with hub.session_factory() as session:
            ballot = await session.get(Ballot, ballot_id)
            assert ballot is not None
            questions = await questions_of(db_session=session, ballot_id=ballot_id)
            with StatementClock(hub.engine.sync_engine) as clock, captured(hub, statements):
                started = time.perf_counter()
                async for line in protocol.audit_csv(
                    db_session=session, ballot=ballot, questions=questions
                ):
                    out.write(line)
                    lines += 1
                    size += len(line)
                seconds = time.perf_counter() - started
        out.flush()
        out.seek(0)
        started = time.perf_counter()
        recount = protocol.tally_from_audit(csv.DictReader(out))
        recount_s = time.perf_counter() - started
    same = [recount[q["position"]]["outcome"] for q in results["questions"]] == [
        q["outcome"] for q in results["questions"]
    ] and all(
        {o["code"]: o["weight"] for o in recount[q["position"]]["options"] if o["weight"]}
        == {o["code"]: o["weight"] for o in q["options"] if o["weight"]}
        for q in results["questions"]
    )
    big = [s for s in statements if "ballot_voters.key" in s[0]][:1]
    return {
        "rows": lines - 1,
        "characters": size,
        "seconds": round(seconds, 2),
        "rows_per_s": round((lines - 1) / seconds),
        "statements": clock.count,
        "sql_s": round(clock.seconds, 2),
        "recount_s": round(recount_s, 2),
        "same_outcomes": same,
        "question_plan": (await _explain(hub, big))[0]["plan"] if big else [],
    }


async def close(hub: Hub, ballot_id: int) -> dict[str, Any]:
    parts: dict[str, float] = {"run_effects": 0.0}
    with (
        timed(ballots, "count_ballot", parts),
        timed(notify, "blast", parts),
        timed(hub, "run_effects", parts),
    ):
        started = time.perf_counter()
        async with transaction(hub.session_factory) as session:
            ids = await ballots.close_ballot(
                db_session=session,
                ballot_id=ballot_id,
                now=utcnow(),
                timezone=hub.settings.timezone,
                reason="bench: closed early",
            )
        seconds = time.perf_counter() - started
    out = {
        # Without the enqueue of the results blast, which its commit sets off (timed apart).
        "seconds": round(seconds - parts["run_effects"], 2),
        "enqueue_at_commit_s": round(parts["run_effects"], 2),
        "count_s": round(parts["count_ballot"], 2),
        "blast_s": round(parts["blast"], 2),
        "messages": len(ids),
    }
    log(f"close_ballot (count + results blast, one transaction): {out}")
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    common.BENCH_DB = args.database
    sizes = seed.Sizes(
        owners=args.owners,
        buildings=args.buildings,
        votes=args.votes,
        old_ballots=args.old_ballots,
    )
    needed = args.replies + args.profile + 4 * args.concurrency
    if needed > sizes.owners or sizes.old_ballots < 1:
        raise SystemExit(f"--owners must be at least {needed}, --old-ballots at least 1")
    load_before = os.getloadavg()
    hub = await common.fresh_hub(concurrency=args.concurrency, use_redis=True)
    try:
        async with hub.engine.connect() as connection:
            server = (await connection.execute(text("SHOW server_version"))).scalar()
        started = time.perf_counter()
        offsets, seeded = await seed.seed(sizes, utcnow())
        seeded["seconds"] = round(time.perf_counter() - started, 1)
        log(f"seeded in {seeded['seconds']} s: {seeded['counts']}")
        ballot_id = await make_ballot(hub)
        blasted, _ids = await blast(hub, sizes, ballot_id)
        rows, seconds = await seed.add_open_votes(ballot_id, utcnow())
        log(f"open ballot prevoted in bulk: {rows:,} rows in {seconds:.1f} s (not measured)")
        replied = await replies(hub, sizes, offsets, ballot_id, args)
        tallied = await tally(hub, ballot_id, args)
        closed = None if args.no_close else await close(hub, ballot_id)
        assert hub.redis is not None
        await hub.redis.flushdb()
    finally:
        await hub.close()
    return {
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": server,
            "load_average_before_after": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        },
        "pool": args.concurrency,
        "seed": seeded,
        "blast": blasted,
        "replies": replied,
        "tally": tallied,
        "close": closed,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--owners", type=int, default=100_000)
    parser.add_argument("--buildings", type=int, default=200)
    parser.add_argument("--votes", type=int, default=1_000_000, help="rows in ballot_votes")
    parser.add_argument("--old-ballots", type=int, default=3, help="closed ballots with votes")
    parser.add_argument("--replies", type=int, default=3_000, help="measured SMS replies")
    parser.add_argument("--concurrency", type=int, default=16, help="tasks and pool size")
    parser.add_argument("--profile", type=int, default=200, help="replies run one at a time")
    parser.add_argument("--repeat", type=int, default=3, help="timings of each tally read")
    parser.add_argument("--database", default="votes_bench", help="scratch database name")
    parser.add_argument("--no-close", action="store_true", help="skip close_ballot")
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2, ensure_ascii=False))
