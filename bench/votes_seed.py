"""Data for bench.votes: one estate's owner register at scale and earlier ballots' vote rows,
in bulk SQL (not the row-by-row importer), and the statements of the bare limits.

One estate of ``buildings`` buildings. Owner ``i`` (1 … ``owners``) owns unit ``i`` alone,
except every ``JOINT_STEP``-th, who owns it half and half with a spouse (another owner on
the register); every ``MULTI_STEP``-th owner (``i % MULTI_STEP == 1``) also owns a second
unit; the developer owns ``developer_units`` unsold units, and ``unowned`` units have no
registered owner. Every owner has a verified phone (``phone(i)``, the spouse's and the
developer's their own) with a contact in their language; one in a hundred a second
verified phone, one in five hundred a pending one (which must not be messaged).

Every ballot runs under China's Civil Code (``RULE_SET``): the Russian Housing Code holds a
meeting per building, so its ballots cannot cover an estate, while a Chinese owners' assembly
is of a whole property-management area. ``old_ballots`` earlier ballots of the estate (closed
60, 400, 760 … days ago, three questions each) have the Chinese electorate (one voter per
owned unit, a buyer's units and the developer's unsold units joined) and vote rows enough
that, with the rows the benchmark adds to the open ballot, ``ballot_votes`` holds at least
``votes`` rows.

Every choice is arithmetic on the row's index, so the benchmark knows without asking the
database what the blast must send and how each owner voted.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from bench.dispatch_seed import asyncpg_dsn
from core.i18n import gettext
from core.votes import notify
from core.votes.ballots import DEFAULT_OPTIONS
from core.votes.rules import get_rule_set

JOINT_STEP = 1_000
MULTI_STEP = 2_000
SECOND_PHONE = (100, 7)  # i % 100 == 7: a second verified phone
# Chinese rules: an estate-wide ballot (the Housing Code allows only one building's).
RULE_SET = "cn-civil-code"
ESTATE = "bench-votes"
# The questions' matters: courtyard (other major matter), the property company, lifts paid
# from the maintenance fund (art. 278(9), (4), (5)).
MATTERS = ("other", "hire_company", "use_maintenance_fund")
# Of the open ballot's voters, those whose first member's resident id r has (r * 7) % 10 <
# TURNOUT have voted on every question before the measured replies come in (bulk, not
# measured).
TURNOUT = 6


@dataclass(frozen=True)
class Sizes:
    owners: int = 100_000
    buildings: int = 200
    developer_units: int = 100
    unowned: int = 20
    votes: int = 1_000_000
    old_ballots: int = 3

    @property
    def spouses(self) -> int:
        return self.owners // JOINT_STEP

    @property
    def multi(self) -> int:
        return (self.owners - 1) // MULTI_STEP + 1 if self.owners else 0

    @property
    def units(self) -> int:
        return self.owners + self.multi + self.developer_units + self.unowned

    @property
    def people(self) -> int:
        """Owners on the register: persons, spouses and the developer."""
        return self.owners + self.spouses + 1

    @property
    def voters(self) -> int:
        """Voters with members under the Chinese rules (``electorate.voters_china``): one per
        owned unit, so a couple's flat is one voter (the spouses add none) and an owner's
        second unit joins their first (the ``multi`` add none); the developer's unsold units
        are one voter."""
        return self.owners + 1

    def prevoted_voters(self, offsets: Offsets) -> int:
        """Open-ballot voters voting in bulk: by first member, each owner (a couple's flat
        by the owner, not the spouse) and the developer."""
        firsts = [offsets.resident + i for i in range(1, self.owners + 1)]
        return sum(map(prevoted, [*firsts, offsets.resident + self.people]))

    def recipients(self) -> int:
        """The blast's messages: every verified phone of every voter, once."""
        step, rest = SECOND_PHONE
        return self.people + sum(1 for i in range(1, self.owners + 1) if i % step == rest)


Reply = tuple[int, str, dict[int, str], int, str]


@dataclass(frozen=True)
class Offsets:
    """The largest id of each table before seeding (the demo city's rows come first)."""

    building: int
    premises: int
    resident: int
    owner: int
    contact: int
    owner_phone: int


def phone(i: int) -> str:
    """Owner i's (first) phone."""
    return f"+7921{i:07d}"


def resident_of(i: int, offsets: Offsets) -> int:
    return offsets.resident + i


def prevoted(resident_id: int) -> bool:
    """Whether this resident's voter has votes in the open ballot before the replies."""
    return (resident_id * 7) % 10 < TURNOUT


def bulk_option(resident_id: int, position: int) -> str:
    """The option the bulk rows give a prevoted resident on question ``position``."""
    return str(1 + (resident_id + position) % 3)


def default_options() -> list[dict[str, Any]]:
    """A question's agree / disagree / abstain, as create_ballot writes them."""
    return [
        {
            "code": str(index),
            "kind": str(kind),
            "labels": {lang: gettext(lang, label) for lang in notify.LANGUAGES},
        }
        for index, (kind, label) in enumerate(DEFAULT_OPTIONS, start=1)
    ]


# Integers from the seed's own arithmetic go into the statements as {name}; JSON as $n.
SEED_REGISTER = """
INSERT INTO buildings (id, community_id, code, addresses, latitude, longitude, total_area)
SELECT {building} + g, {community}, 'VOTE-B' || g,
       json_build_object('en', g || ' Ballot Street', 'ru', 'ул. Голосования, ' || g,
                         'zh', '投票街' || g || '号'),
       55.70 + g * 0.0002, 37.50, 30000
FROM generate_series(1, {buildings}) AS g;
INSERT INTO estate_buildings (estate_id, building_id)
SELECT {estate}, {building} + g FROM generate_series(1, {buildings}) AS g;
-- Unit u: 1 … owners a person's own; then the second units; the developer's; nobody's.
INSERT INTO premises (id, building_id, number, kind, area, registered_area)
SELECT {premises} + u, {building} + 1 + (u - 1) % {buildings}, (1 + (u - 1) / {buildings})::text,
       'flat', a.area, a.area
FROM generate_series(1, {units}) AS u,
     LATERAL (SELECT CASE WHEN u <= {owners} + {multi}
                          THEN 30 + (u * 37) % 90 + (u % 100) / 100.0
                          WHEN u <= {owners} + {multi} + {dev_units} THEN 55.50
                          ELSE 42.00 END::numeric(10, 2)) AS a(area);
-- Residents and owners: persons 1 … owners, then the spouses, then the developer.
INSERT INTO residents (id, display_name, language, created_at)
SELECT {resident} + i, CASE WHEN i <= {owners} THEN 'Owner ' || i
                            WHEN i <= {owners} + {spouses}
                            THEN 'Owner ' || ((i - {owners}) * {joint}) || ' (spouse)'
                            ELSE 'Bench Development LLC' END, 'ru', now()
FROM generate_series(1, {owners} + {spouses} + 1) AS i;
INSERT INTO owners (id, code, resident_id, kind, created_at)
SELECT {owner} + i,
       CASE WHEN i <= {owners} THEN 'VB-' || i
            WHEN i <= {owners} + {spouses} THEN 'VB-' || ((i - {owners}) * {joint}) || '-S'
            ELSE 'VB-DEV' END,
       {resident} + i, CASE WHEN i <= {owners} + {spouses} THEN 'person' ELSE 'developer' END, now()
FROM generate_series(1, {owners} + {spouses} + 1) AS i;
INSERT INTO premises_owners (premises_id, resident_id, share)
SELECT {premises} + i, {resident} + i, CASE WHEN i % {joint} = 0 THEN 0.5 ELSE 1 END
FROM generate_series(1, {owners}) AS i
UNION ALL
SELECT {premises} + k * {joint}, {resident} + {owners} + k, 0.5
FROM generate_series(1, {spouses}) AS k
UNION ALL
SELECT {premises} + {owners} + m, {resident} + 1 + (m - 1) * {multi_step}, 1
FROM generate_series(1, {multi}) AS m
UNION ALL
SELECT {premises} + {owners} + {multi} + d, {resident} + {owners} + {spouses} + 1, 1
FROM generate_series(1, {dev_units}) AS d;
-- Phones (owner index o): everyone's first, one in 100 a second, one in 500 a pending one.
CREATE TEMPORARY TABLE bench_phones ON COMMIT DROP AS
SELECT i AS o, '+7921' || lpad(i::text, 7, '0') AS phone, 'verified' AS status
FROM generate_series(1, {owners}) AS i
UNION ALL
SELECT {owners} + k, '+7922' || lpad(k::text, 7, '0'), 'verified'
FROM generate_series(1, {spouses}) AS k
UNION ALL
SELECT {owners} + {spouses} + 1, '+79250000000', 'verified'
UNION ALL
SELECT i, '+7923' || lpad(i::text, 7, '0'), 'verified' FROM generate_series(1, {owners}) AS i
WHERE i % 100 = 7
UNION ALL
SELECT i, '+7924' || lpad(i::text, 7, '0'), 'pending' FROM generate_series(1, {owners}) AS i
WHERE i % 500 = 11;
INSERT INTO owner_phones (owner_id, phone, status, added_at, verified_at, verified_by)
SELECT {owner} + o, phone, status, now() - interval '400 days',
       CASE WHEN status = 'verified' THEN now() - interval '400 days' END,
       CASE WHEN status = 'verified' THEN 'register' END
FROM bench_phones;
INSERT INTO contacts (resident_id, kind, value, verified, language, created_at)
SELECT {resident} + o, 'phone', phone, true,
       (ARRAY['zh', 'en', NULL, 'ru', 'ru', 'ru', 'ru', 'ru', 'ru', 'ru'])[1 + o % 10], now()
FROM bench_phones
"""
SEED_ESTATE = """
INSERT INTO estates (code, names, addresses, kind, community_id, area, building_count,
                     facilities)
VALUES ($1, $2::json, '{}', 'residential', $3::int, 500000, $4::int, '[]') RETURNING id
"""
SEED_BALLOT = """
INSERT INTO ballots (scope, estate_id, district_id, titles, details, language, rule_set,
                     edition, rules_digest, status, count_policy, channels, notice_at,
                     opens_at, closes_at, closed_at, announced_at, invited_at,
                     results_sent_at, sms_parts, created_by, created_at)
SELECT 'estate', $1::int, $2::int, $3::json, '{}', 'zh', $4, $5, $6, 'closed', 'last',
       '["sms", "telegram", "web", "kiosk", "voice", "paper"]', t - interval '25 days',
       t - interval '14 days', t, t, t - interval '25 days', t - interval '14 days', t, 2,
       'bench', t - interval '30 days'
FROM (SELECT $7::timestamptz AS t) AS moment
RETURNING id
"""
SEED_QUESTION = """
INSERT INTO ballot_questions (ballot_id, position, texts, matter, threshold, options)
VALUES ($1::int, $2::int, $3::json, $4, $5, $6::json) RETURNING id
"""
# An old ballot's electorate under the Chinese rules, as electorate.voters_china makes it:
# each unit's key (its developer 'd', else its owners 'o1-2', else 'u' + unit), one voter per
# key with the units' areas; members are the key's owners (the developer alone for 'd');
# then the totals. Heads are 1 each, unowned units included.
SEED_ELECTORATE = """
CREATE TEMPORARY TABLE bench_units ON COMMIT DROP AS
SELECT p.id, p.area, b.code || ' ' || p.number AS label,
       CASE WHEN bool_or(o.kind = 'developer')
            THEN 'd' || min(po.resident_id) FILTER (WHERE o.kind = 'developer')
            WHEN count(po.resident_id) > 0
            THEN 'o' || string_agg(po.resident_id::text, '-' ORDER BY po.resident_id)
            ELSE 'u' || p.id END AS key
FROM premises AS p
JOIN buildings AS b ON b.id = p.building_id
JOIN estate_buildings AS eb ON eb.building_id = b.id AND eb.estate_id = {estate}
LEFT JOIN premises_owners AS po ON po.premises_id = p.id
LEFT JOIN owners AS o ON o.resident_id = po.resident_id
GROUP BY p.id, p.area, b.code, p.number;
CREATE TEMPORARY TABLE bench_members ON COMMIT DROP AS
SELECT DISTINCT u.key, po.resident_id, r.display_name
FROM bench_units AS u
JOIN premises_owners AS po ON po.premises_id = u.id
JOIN owners AS o ON o.resident_id = po.resident_id
JOIN residents AS r ON r.id = po.resident_id
WHERE u.key NOT LIKE 'd%' OR o.kind = 'developer';
ANALYZE bench_units;
ANALYZE bench_members;
INSERT INTO ballot_voters (ballot_id, key, weight, heads, owners, units)
SELECT {ballot}, u.key, u.weight, 1, coalesce(n.names, ''), u.units
FROM (SELECT key, sum((area * 100000000)::bigint) AS weight, min(id) AS first,
             string_agg(label, ', ' ORDER BY id) AS units
      FROM bench_units GROUP BY key) AS u
LEFT JOIN (SELECT key, string_agg(display_name, '; ' ORDER BY resident_id) AS names
           FROM bench_members GROUP BY key) AS n ON n.key = u.key
ORDER BY u.first;
INSERT INTO ballot_voter_members (ballot_id, voter_id, resident_id)
SELECT {ballot}, v.id, m.resident_id FROM ballot_voters AS v
JOIN bench_members AS m ON m.key = v.key
WHERE v.ballot_id = {ballot};
UPDATE ballots SET total_weight = t.w, total_heads = t.h, voter_count = t.v,
                   unowned_units = t.u, electorate_digest = 'bench'
FROM (SELECT sum(weight) AS w, sum(heads) AS h, count(*) FILTER (WHERE key NOT LIKE 'u%') AS v,
             count(*) FILTER (WHERE key LIKE 'u%') AS u
      FROM ballot_voters WHERE ballot_id = {ballot}) AS t
WHERE id = {ballot}
"""
# Row n of an old ballot: voter n % V (cast by its first member), question (n / V) % 3; rows
# past 3 V are changes.
SEED_OLD_VOTES = """
INSERT INTO ballot_votes (ballot_id, question_id, voter_id, option, channel, resident_id,
                          message_ref, idempotency_key, recorded_by, cast_at)
SELECT $1::int, ($3::int[])[(1 + (n / $5::int) % 3)::int], v.id,
       (1 + (n * 7 + n / $5::int) % 3)::text, CASE WHEN n % 50 = 0 THEN 'paper' ELSE 'sms' END,
       v.resident, 'old-' || n, 'seed:' || n, 'resident',
       $4::timestamptz - make_interval(secs => n % 1000000)
FROM generate_series(0, $2::int - 1) AS n
JOIN (SELECT voter_id AS id, row_number() OVER (ORDER BY voter_id) - 1 AS k,
             min(resident_id) AS resident
      FROM ballot_voter_members WHERE ballot_id = $1::int GROUP BY voter_id) AS v
  ON v.k = n % $5::int
"""
VOTERS_OF = "SELECT voter_count FROM ballots WHERE id = $1"
# The open ballot's votes before the replies: every question for each prevoted voter, cast
# by its first member (a couple's flat is one voter: one set of rows, the owner's choices).
OPEN_VOTES = """
INSERT INTO ballot_votes (ballot_id, question_id, voter_id, option, channel, resident_id,
                          address, message_ref, idempotency_key, recorded_by, cast_at)
SELECT $1::int, q.id, m.voter_id, (1 + (m.resident_id + q.position) % 3)::text, 'sms',
       m.resident_id, ph.phone, 'bulk-' || m.id, 'bulk:' || m.id, 'resident',
       $2::timestamptz - make_interval(secs => (m.id % 3600))
FROM (SELECT voter_id, min(resident_id) AS resident_id, min(id) AS id
      FROM ballot_voter_members WHERE ballot_id = $1::int GROUP BY voter_id) AS m
JOIN ballot_questions AS q ON q.ballot_id = $1::int
LEFT JOIN LATERAL (SELECT min(op.phone) AS phone FROM owners AS o
                   JOIN owner_phones AS op ON op.owner_id = o.id
                   WHERE o.resident_id = m.resident_id) AS ph ON true
WHERE (m.resident_id * 7) % 10 < $3::int
"""
SET_SEQUENCE = "SELECT setval(pg_get_serial_sequence($1::text, 'id'), $2::bigint)"
TABLES = ("buildings", "premises", "residents", "owners", "contacts", "owner_phones")
COUNTED = (*TABLES[1:], "premises_owners", "ballots", "ballot_voters", "ballot_votes")
ESTATE_NAMES = {"en": "Bench Estate", "ru": "ЖК «Голосование»", "zh": "投票小区"}


async def _max_id(connection: Any, table: str) -> int:
    # Table names come from this module only.
    return int(await connection.fetchval("SELECT coalesce(max(id), 0) FROM " + table))  # noqa: S608


async def seed(sizes: Sizes, now: datetime) -> tuple[Offsets, dict[str, Any]]:
    """Fills the scratch database; returns the id offsets and a report."""
    connection = await asyncpg.connect(asyncpg_dsn())
    timings: dict[str, float] = {}

    async def step(label: str, statement: str, *parameters: Any, **values: int) -> Any:
        started = time.perf_counter()
        if values:
            statement = statement.format(**values)
        run = connection.fetchval if parameters else connection.execute
        result = await run(statement, *parameters)
        timings[label] = round(timings.get(label, 0.0) + time.perf_counter() - started, 2)
        return result

    try:
        o = Offsets(*[await _max_id(connection, table) for table in TABLES])
        community, district = await connection.fetchrow(
            "SELECT id, district_id FROM communities ORDER BY id LIMIT 1"
        )
        s = sizes
        names = json.dumps(ESTATE_NAMES, ensure_ascii=False)
        async with connection.transaction():
            estate = await step("estate", SEED_ESTATE, ESTATE, names, community, s.buildings)
            await step(
                "register",
                SEED_REGISTER,
                estate=estate,
                community=community,
                buildings=s.buildings,
                owners=s.owners,
                spouses=s.spouses,
                multi=s.multi,
                dev_units=s.developer_units,
                units=s.units,
                joint=JOINT_STEP,
                multi_step=MULTI_STEP,
                **{f: getattr(o, f) for f in ("building", "premises", "resident", "owner")},
            )
            for table in TABLES:
                await connection.fetchval(SET_SEQUENCE, table, await _max_id(connection, table))
        # The open ballot will get 3 rows per prevoted voter before the replies.
        planned_open = 3 * s.prevoted_voters(o)
        per_ballot = -(-max(0, s.votes - planned_open) // max(1, s.old_ballots))
        rule_set = get_rule_set(RULE_SET)
        options = json.dumps(default_options(), ensure_ascii=False)
        for n in range(s.old_ballots):
            closed = now - timedelta(days=60 + 350 * n)
            titles = json.dumps(
                {"en": f"Earlier vote {n + 1}", "ru": f"Голосование {n + 1}", "zh": f"表决{n + 1}"}
            )
            texts = [
                json.dumps({"en": f"Question {p}?", "ru": f"Вопрос {p}?", "zh": f"议题{p}？"})
                for p in (1, 2, 3)
            ]
            async with connection.transaction():
                ballot = await step(
                    "old ballots",
                    SEED_BALLOT,
                    estate,
                    district,
                    titles,
                    *(rule_set.code, rule_set.edition, rule_set.digest, closed),
                )
                questions = [
                    await connection.fetchval(
                        SEED_QUESTION,
                        *(ballot, position, texts[position - 1], matter),
                        *(rule_set.matter(matter).threshold, options),
                    )
                    for position, matter in enumerate(MATTERS, start=1)
                ]
                await step("old electorates", SEED_ELECTORATE, ballot=ballot, estate=estate)
                voters = int(await connection.fetchval(VOTERS_OF, ballot))
                await step(
                    "old votes", SEED_OLD_VOTES, ballot, per_ballot, questions, closed, voters
                )
        started = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        timings["vacuum analyze"] = round(time.perf_counter() - started, 2)
        counts = {
            table: int(await connection.fetchval("SELECT count(*) FROM " + table))  # noqa: S608
            for table in COUNTED
        }
    finally:
        await connection.close()
    report = {"counts": counts, "step_seconds": timings, "old_rows_per_ballot": per_ballot}
    return o, report


async def add_open_votes(ballot_id: int, now: datetime) -> tuple[int, float]:
    """Gives the open ballot its prevoted rows (not measured); returns rows and seconds."""
    connection = await asyncpg.connect(asyncpg_dsn())
    try:
        started = time.perf_counter()
        status = await connection.execute(OPEN_VOTES, ballot_id, now, TURNOUT)
        await connection.execute("ANALYZE ballot_votes")
        await connection.execute("ANALYZE ballot_voters")
        await connection.execute("ANALYZE ballot_voter_members")
        return int(status.rsplit(" ", 1)[-1]), time.perf_counter() - started
    finally:
        await connection.close()


# The bare limits of the tally, over the same ballot's rows with asyncpg.
BARE_GROUP_BY = """
SELECT bv.question_id, bv.option, count(*), sum(v.weight), sum(v.heads)
FROM ballot_votes AS bv JOIN ballot_voters AS v ON v.id = bv.voter_id
WHERE bv.ballot_id = $1 GROUP BY bv.question_id, bv.option
"""
# Last vote counts, hand-written: DISTINCT ON over the (ballot, question, voter, id) index.
BARE_LAST_VOTE = """
SELECT c.question_id, c.option, sum(v.weight), sum(v.heads)
FROM (SELECT DISTINCT ON (question_id, voter_id) question_id, voter_id, option
      FROM ballot_votes WHERE ballot_id = $1
      ORDER BY question_id, voter_id, id DESC) AS c
JOIN ballot_voters AS v ON v.id = c.voter_id
GROUP BY c.question_id, c.option
"""
# One vote row, for the bare INSERT + COMMIT beside the replies (an old ballot's).
BARE_VOTE = (
    "INSERT INTO ballot_votes (ballot_id, question_id, voter_id, option, channel,"
    " idempotency_key, recorded_by, cast_at)"
    " VALUES (:ballot, :question, :voter, '1', 'sms', :key, 'bench', now())"
)
# What each measured sender's voter counts now, per question position.
COUNTED_FOR = """
SELECT m.resident_id, q.position, c.option
FROM ballot_voter_members AS m
JOIN LATERAL (SELECT DISTINCT ON (question_id) question_id, option FROM ballot_votes
              WHERE ballot_id = $1 AND voter_id = m.voter_id
              ORDER BY question_id, id DESC) AS c ON true
JOIN ballot_questions AS q ON q.id = c.question_id
WHERE m.ballot_id = $1 AND m.resident_id = ANY($2::int[])
"""

FROZEN = "SELECT voter_count, unowned_units FROM ballots WHERE id = $1"
EXPLAIN = "EXPLAIN (ANALYZE, BUFFERS) "
POSITIONS = "SELECT id, position FROM ballot_questions WHERE ballot_id = $1"
ROWS_OF = "SELECT count(*) FROM ballot_votes WHERE ballot_id = $1"
VOTERS_OF_BALLOT = "SELECT id FROM ballot_voters WHERE ballot_id = $1 ORDER BY id LIMIT $2"
BARE_TARGET = (
    "SELECT b.id, q.id FROM ballots AS b JOIN ballot_questions AS q"
    " ON q.ballot_id = b.id AND q.position = 1"
    " WHERE b.created_by = 'bench' AND b.status = 'closed' ORDER BY b.id LIMIT 1"
)


def bare_audit(ballot_id: int) -> str:
    """The audit list as one statement, for COPY (which takes no parameters)."""
    return f"""
SELECT q.position, q.threshold, v.key, v.owners, v.units, v.weight, v.heads, c.option,
       c.cast_at, c.channel, c.message_ref, c.address, c.n
FROM ballot_questions AS q
JOIN ballot_voters AS v ON v.ballot_id = q.ballot_id
LEFT JOIN (SELECT DISTINCT ON (question_id, voter_id) question_id, voter_id, option,
                  cast_at, channel, message_ref, address,
                  count(*) OVER (PARTITION BY question_id, voter_id) AS n
           FROM ballot_votes WHERE ballot_id = {int(ballot_id)}
           ORDER BY question_id, voter_id, id DESC) AS c
  ON c.question_id = q.id AND c.voter_id = v.id
WHERE q.ballot_id = {int(ballot_id)} ORDER BY q.position, v.id
"""  # noqa: S608


def senders(owners: int, count: int) -> list[int]:
    """``count`` distinct owner indices spread over the estate."""
    step = 7_919
    while math.gcd(step, owners) != 1:
        step += 2
    return [1 + (k * step) % owners for k in range(count)]


def reply_for(i: int, k: int, resident: int, ballot_id: int) -> Reply:
    """Owner i's reply: a prevoted owner changes question 1 (one in 7 repeats it), the
    others answer all three questions in three formats, or only question 1."""
    if prevoted(resident):
        bulk = {p: bulk_option(resident, p) for p in (1, 2, 3)}
        if k % 7 == 0:
            return i, f"1{bulk[1]}", bulk, 0, "repeated"
        changed = str(1 + (resident + 2) % 3)
        return i, f"1{changed}", {**bulk, 1: changed}, 1, "changed"
    a, b, c = (str(1 + (i + p) % 3) for p in range(3))
    form = k % 4
    if form == 3:
        return i, f"1{a}", {1: a}, 1, "one_question"
    body = (f"1{a} 2{b} 3{c}", f"1-{a}, 2-{b}, 3-{c}", f"#{ballot_id} 1{a} 2{b} 3{c}")[form]
    return i, body, {1: a, 2: b, 3: c}, 3, "new"


def reply_plan(sizes: Sizes, offsets: Offsets, ballot_id: int, count: int) -> list[Reply]:
    """(owner, text, counted options after it, vote rows it adds, kind) per reply."""
    return [
        reply_for(i, k, resident_of(i, offsets), ballot_id)
        for k, i in enumerate(senders(sizes.owners, count))
    ]


_OUTBOX = ("kind", "channel", "address", "language", "text", "resident_id", "notice_id")
OUTBOX_COLUMNS = (*_OUTBOX, "status", "attempts", "segments", "next_attempt_at", "created_at")


def _values(table: str, columns: tuple[str, ...], count: int) -> str:
    width = len(columns)
    rows = ", ".join(
        "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(count)
    )
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {rows} RETURNING id"  # noqa: S608


async def _insert_rows(
    connection: Any, table: str, columns: tuple[str, ...], rows: list[Any], chunk: int
) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        flat = [value for row in part for value in row]
        ids.extend(r[0] for r in await connection.fetch(_values(table, columns, len(part)), *flat))
    return ids


# The opened ballot's voters and members again (under other keys) and its outbox rows.
BARE_SOURCES = (
    "SELECT ballot_id, key || '~', weight, heads, owners, units FROM ballot_voters"
    " WHERE ballot_id = $1 ORDER BY id",
    "SELECT m.ballot_id, v.key || '~', m.resident_id FROM ballot_voter_members AS m"
    " JOIN ballot_voters AS v ON v.id = m.voter_id WHERE m.ballot_id = $1 ORDER BY m.id",
    f"SELECT {', '.join(OUTBOX_COLUMNS)} FROM outbox_messages"  # noqa: S608
    " WHERE id = ANY($1::int[]) ORDER BY id",
)
VOTER_COLUMNS = ("ballot_id", "key", "weight", "heads", "owners", "units")
MEMBER_COLUMNS = ("ballot_id", "voter_id", "resident_id")


async def bare_writes(ballot_id: int, outbox_ids: list[int]) -> dict[str, float]:
    """The freeze's and the blast's rows written again in multi-row INSERTs, rolled back."""
    connection = await asyncpg.connect(asyncpg_dsn())
    try:
        voters, members, outbox = [
            await connection.fetch(query, key)
            for query, key in zip(BARE_SOURCES, (ballot_id, ballot_id, outbox_ids), strict=True)
        ]
        transaction_ = connection.transaction()
        await transaction_.start()
        try:
            started = time.perf_counter()
            ids = await _insert_rows(connection, "ballot_voters", VOTER_COLUMNS, voters, 5_000)
            id_of = {row[1]: new for row, new in zip(voters, ids, strict=True)}
            rows = [(ballot, id_of[key], resident) for ballot, key, resident in members]
            await _insert_rows(connection, "ballot_voter_members", MEMBER_COLUMNS, rows, 5_000)
            middle = time.perf_counter()
            await _insert_rows(connection, "outbox_messages", OUTBOX_COLUMNS, outbox, 1_000)
            finished = time.perf_counter()
        finally:
            await transaction_.rollback()
    finally:
        await connection.close()
    return {
        "voters_and_members_s": middle - started,
        "outbox_s": finished - middle,
        **{"voters": len(voters), "members": len(members), "outbox": len(outbox)},
    }
