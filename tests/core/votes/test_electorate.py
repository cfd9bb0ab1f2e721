"""Who votes with how much (DOMAIN §3): the electorate rules on hand-built units, then the
real owner register import, a building's ballot frozen at opening, votes cast, the count,
and the audit list re-tallied on its own.

Building b010 of the demo city has flat owners but no owner register; the import below
replaces the owners of the units it names, and a seventh unit is added with nobody on it:

    flat 1  60.00 m²  Anna ½ + Boris ½ (joint)
    flat 2  50.00 m²  Chen            } one person, two units
    flat 3  40.00 m²  Chen            }
    flat 4  70.00 m²  the developer   } unsold units
    flat 5  80.00 m²  the developer   }
    flat 6  60.00 m²  Dmitry 1/3 (0.333333), the rest unregistered
    flat 7  45.00 m²  nobody
                     ------
    total  405.00 m²
"""

from __future__ import annotations

import csv
import io
import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.auth.enums import Role, ScopeKind
from core.auth.service import Principal
from core.db import transaction, utcnow
from core.imports import import_text
from core.runtime import Hub
from core.territory.models import Building, Premises, PremisesOwner
from core.tickets.service import Scope
from core.votes import ballots, protocol, service
from core.votes.counting import Count, count_ballot
from core.votes.electorate import _Unit, voters_china, voters_russia
from core.votes.enums import BallotStatus, OwnerKind
from core.votes.models import Ballot, BallotVoter, BallotVoterMember, Owner
from core.votes.schemas import BallotIn
from tests.core.votes.factories import TIMEZONE, close_at, shift_open
from tests.factories import api_key

PERSON, DEVELOPER = OwnerKind.PERSON, OwnerKind.DEVELOPER
HALF = Decimal("0.5")
ADMIN = Principal("admin", Role.ADMIN, Scope(ScopeKind.CITY))
M2 = 10**8  # weight units per m²

REGISTER = """building,premises,area,owner,owner_kind,owner_name,share
b010,1,60.00,T10-A,person,Anna,1/2
b010,1,60.00,T10-B,person,Boris,1/2
b010,2,50.00,T10-C,person,Chen,1
b010,3,40.00,T10-C,person,Chen,1
b010,4,70.00,T10-DEV,developer,Builder LLC,1
b010,5,80.00,T10-DEV,developer,Builder LLC,1
b010,6,60.00,T10-D,person,Dmitry,1/3
"""

_keys = itertools.count(1)


# --- pure: the rules on hand-built units ------------------------------------------------------


def units() -> list[_Unit]:
    """The b010 register above, with resident ids 11 (Anna) … 15 (Dmitry)."""
    third = Decimal("0.333333")
    return [
        _Unit(1, "b 1", Decimal("60.00"), [(11, HALF, PERSON, "A"), (12, HALF, PERSON, "B")]),
        _Unit(2, "b 2", Decimal("50.00"), [(13, Decimal(1), PERSON, "C")]),
        _Unit(3, "b 3", Decimal("40.00"), [(13, Decimal(1), PERSON, "C")]),
        _Unit(4, "b 4", Decimal("70.00"), [(14, Decimal(1), DEVELOPER, "Dev")]),
        _Unit(5, "b 5", Decimal("80.00"), [(14, Decimal(1), DEVELOPER, "Dev")]),
        _Unit(6, "b 6", Decimal("60.00"), [(15, third, PERSON, "D")]),
        _Unit(7, "b 7", Decimal("45.00"), []),
    ]


def test_russia_voters_from_units() -> None:
    voters = {v.key: v for v in voters_russia(units())}
    shape = {k: (v.weight, v.heads, v.members, v.units) for k, v in voters.items()}
    assert shape == {
        # Joint owners each vote their half: ½ × 60.00 = 30.00 m².
        "p11": (30 * M2, 1, {11}, ["b 1 (0.5)"]),
        "p12": (30 * M2, 1, {12}, ["b 1 (0.5)"]),
        # One person, two units: 50.00 + 40.00 = 90.00 m², one voter.
        "p13": (90 * M2, 1, {13}, ["b 2", "b 3"]),
        # The developer is one person too: 70.00 + 80.00 = 150.00 m².
        "p14": (150 * M2, 1, {14}, ["b 4", "b 5"]),
        # 0.333333 × 60.00 = 19.99998 m²; the rest, 40.00002 m², nobody can cast (no head:
        # the unit has an owner).
        "p15": (1_999_998_000, 1, {15}, ["b 6 (0.333333)"]),
        "u6": (4_000_002_000, 0, set(), ["b 6"]),
        # A unit with no owner: counts in the totals, cannot vote.
        "u7": (45 * M2, 1, set(), ["b 7"]),
    }
    # Totals are the sum of all rows: 60 + 50 + 40 + 70 + 80 + 60 + 45 = 405.00 m².
    assert sum(v.weight for v in voters.values()) == 405 * M2


def test_china_voters_from_units() -> None:
    voters = {v.key: v for v in voters_china(units())}
    shape = {k: (v.weight, v.heads, v.members, v.units) for k, v in voters.items()}
    assert shape == {
        # Joint owners of one unit: one owner, one head, the whole 60.00 m².
        "o11-12": (60 * M2, 1, {11, 12}, ["b 1"]),
        # One buyer's two units: one head, 90.00 m².
        "o13": (90 * M2, 1, {13}, ["b 2", "b 3"]),
        # The developer's unsold units: one head, 150.00 m².
        "d14": (150 * M2, 1, {14}, ["b 4", "b 5"]),
        # One unit is one owner with its whole area, whatever share is registered.
        "o15": (60 * M2, 1, {15}, ["b 6"]),
        "u7": (45 * M2, 1, set(), ["b 7"]),
    }
    assert sum(v.weight for v in voters.values()) == 405 * M2
    assert sum(v.heads for v in voters.values()) == 5


def test_russia_person_with_a_joint_and_a_sole_unit_is_one_voter() -> None:
    # Anna: ½ of 60.00 (30.00) plus all of 35.50 → 65.50 m², one voter, one head.
    mixed = [
        _Unit(1, "b 1", Decimal("60.00"), [(11, HALF, PERSON, "A"), (12, HALF, PERSON, "B")]),
        _Unit(2, "b 2", Decimal("35.50"), [(11, Decimal(1), PERSON, "A")]),
    ]
    voters = {v.key: v for v in voters_russia(mixed)}
    assert (voters["p11"].weight, voters["p11"].heads) == (6_550_000_000, 1)
    assert voters["p11"].owners == ["A"]
    assert set(voters) == {"p11", "p12"}  # both units fully owned: no unowned rows


def test_russia_three_thirds_lose_nothing_from_the_total() -> None:
    # Shares are kept to 6 decimals: 3 × 0.333333 = 0.999999, short of 1 only by rounding;
    # 19.99998 m² each, and the 0.00006 m² sliver goes to the last owner (20.00004), not to
    # a phantom "unowned" unit: the total is still exactly 60.00 and every part can vote.
    third = Decimal("0.333333")
    unit = _Unit(1, "b 1", Decimal("60.00"), [(r, third, PERSON, str(r)) for r in (1, 2, 3)])
    voters = {v.key: v for v in voters_russia([unit])}
    assert [voters[f"p{r}"].weight for r in (1, 2, 3)] == [
        1_999_998_000,
        1_999_998_000,
        2_000_004_000,
    ]
    assert "u1" not in voters
    assert sum(v.weight for v in voters.values()) == 60 * M2
    # A real remainder (two owners of a half and a quarter) is still an unowned part.
    quarter = _Unit(
        2,
        "b 2",
        Decimal("60.00"),
        [(1, Decimal("0.5"), PERSON, "1"), (2, Decimal("0.25"), PERSON, "2")],
    )
    parts = {v.key: v for v in voters_russia([quarter])}
    assert parts["u2"].weight == 15 * M2 and parts["u2"].members == set()


# --- through the database ---------------------------------------------------------------------


@pytest.fixture
async def register(hub: Hub) -> dict[str, int]:
    """Imports the b010 register and adds the ownerless flat 7; returns the resident ids of
    Anna, Boris, Chen, the developer and Dmitry, in that order."""
    async with transaction(hub.session_factory) as session:
        building_id = await session.scalar(select(Building.id).where(Building.code == "b010"))
        assert building_id is not None
        report = await import_text(db_session=session, what="owners", text=REGISTER, fmt="csv")
        assert (report.created, report.rejected) == (7, [])
        session.add(Premises(building_id=building_id, number="7", area=Decimal("45.00")))
        owners = {
            code: resident_id
            for code, resident_id in await session.execute(select(Owner.code, Owner.resident_id))
        }
    return {code: owners[code] for code in ("T10-A", "T10-B", "T10-C", "T10-DEV", "T10-D")}


async def open_ballot(hub: Hub, *, rule_set: str, matters: list[str], policy: str = "last") -> int:
    """Creates, publishes and opens a building ballot for b010 (web and paper only)."""
    start = utcnow().replace(microsecond=0)
    # China wants 15 days' notice, Russia 10: told tomorrow, open 17 days later.
    opens = start + timedelta(days=18)
    data = BallotIn.model_validate(
        {
            "scope": "building",
            "building": "b010",
            "titles": {"en": "Building b010", "ru": "Дом b010", "zh": "b010楼"},
            "language": "en",
            "rule_set": rule_set,
            "count_policy": policy,
            "channels": ["web", "paper"],
            "notice_at": (start + timedelta(days=1)).isoformat(),
            "opens_at": opens.isoformat(),
            "closes_at": (opens + timedelta(days=14)).isoformat(),
            "questions": [{"matter": m, "texts": {"en": f"Decide {m}?"}} for m in matters],
        }
    )
    async with transaction(hub.session_factory) as session:
        ballot = await ballots.create_ballot(
            db_session=session,
            principal=ADMIN,
            data=data,
            now=utcnow(),
            max_parts=6,
            timezone=TIMEZONE,
        )
        await ballots.publish_ballot(
            db_session=session, principal=ADMIN, ballot=ballot, now=utcnow()
        )
        ballot_id = ballot.id
    assert await shift_open(hub, ballot_id) == []  # no SMS channel: nothing sent
    return ballot_id


async def voter_of(hub: Hub, ballot_id: int, resident_id: int) -> int:
    async with hub.session_factory() as session:
        found = list(
            await session.scalars(
                select(BallotVoterMember.voter_id).where(
                    BallotVoterMember.ballot_id == ballot_id,
                    BallotVoterMember.resident_id == resident_id,
                )
            )
        )
    assert len(found) == 1, found
    return found[0]


async def vote(
    hub: Hub, ballot_id: int, resident_id: int, picked: dict[int, str], **extra: Any
) -> service.CastResult:
    voter_id = await voter_of(hub, ballot_id, resident_id)
    async with transaction(hub.session_factory) as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        return await service.cast(
            db_session=session,
            ballot=ballot,
            voter_ids=[voter_id],
            picked=picked,
            channel=extra.pop("channel", "web"),
            now=extra.pop("now", utcnow()),
            idempotency_key=extra.pop("key", f"test-{next(_keys)}"),
            recorded_by="test",
            resident_id=resident_id,
            **extra,
        )


async def tally(hub: Hub, ballot_id: int) -> Count:
    async with hub.session_factory() as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        return await count_ballot(db_session=session, ballot=ballot)


async def electorate(hub: Hub, ballot_id: int) -> tuple[Ballot, list[tuple[int, int, set[int]]]]:
    """Returns the ballot and its voter rows as (weight, heads, members)."""
    async with hub.session_factory() as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        rows = list(
            await session.execute(
                select(BallotVoter.id, BallotVoter.weight, BallotVoter.heads).where(
                    BallotVoter.ballot_id == ballot_id
                )
            )
        )
        members: dict[int, set[int]] = {}
        for voter_id, resident_id in await session.execute(
            select(BallotVoterMember.voter_id, BallotVoterMember.resident_id).where(
                BallotVoterMember.ballot_id == ballot_id
            )
        ):
            members.setdefault(voter_id, set()).add(resident_id)
    return ballot, [(w, h, members.get(i, set())) for i, w, h in rows]


async def test_russian_electorate_from_the_register(hub: Hub, register: dict[str, int]) -> None:
    a, b, c, dev, d = register.values()
    async with hub.session_factory() as session:
        # The import replaced b010's demo owners of the flats it names.
        owners_now = set(
            await session.scalars(
                select(PremisesOwner.resident_id)
                .join(Premises, Premises.id == PremisesOwner.premises_id)
                .join(Building, Building.id == Premises.building_id)
                .where(Building.code == "b010")
            )
        )
    assert owners_now == {a, b, c, dev, d}
    ballot_id = await open_ballot(hub, rule_set="ru-housing-code", matters=["default"])
    ballot, rows = await electorate(hub, ballot_id)
    assert sorted(rows, key=lambda r: (r[0], sorted(r[2]))) == [
        (1_999_998_000, 1, {d}),  # 0.333333 × 60.00
        (3_000_000_000, 1, {a}),  # ½ × 60.00, each joint owner apart
        (3_000_000_000, 1, {b}),
        (4_000_002_000, 0, set()),  # 60.00 − 19.99998: flat 6's unregistered part
        (4_500_000_000, 1, set()),  # flat 7, nobody's
        (9_000_000_000, 1, {c}),  # 50.00 + 40.00
        (15_000_000_000, 1, {dev}),  # 70.00 + 80.00
    ]
    # Totals are the sum of every row: 405.00 m²; heads 5 owners + 1 ownerless unit.
    assert ballot.total_weight == sum(r[0] for r in rows) == 405 * M2
    assert ballot.total_heads == sum(r[1] for r in rows) == 6
    assert (ballot.voter_count, ballot.unowned_units) == (5, 2)
    assert ballot.status == BallotStatus.OPEN


async def test_chinese_electorate_from_the_register(hub: Hub, register: dict[str, int]) -> None:
    a, b, c, dev, d = register.values()
    ballot_id = await open_ballot(hub, rule_set="cn-civil-code", matters=["hire_company"])
    ballot, rows = await electorate(hub, ballot_id)
    assert sorted(rows, key=lambda r: (r[0], sorted(r[2]))) == [
        (4_500_000_000, 1, set()),  # flat 7: one unit, one (absent) owner
        (6_000_000_000, 1, {a, b}),  # joint owners: one owner, the whole 60.00
        (6_000_000_000, 1, {d}),  # a 1/3 share still carries its unit's 60.00
        (9_000_000_000, 1, {c}),
        (15_000_000_000, 1, {dev}),
    ]
    assert (ballot.total_weight, ballot.total_heads) == (405 * M2, 5)
    assert (ballot.voter_count, ballot.unowned_units) == (4, 1)
    # Both joint owners reach the same voter.
    assert await voter_of(hub, ballot_id, a) == await voter_of(hub, ballot_id, b)


async def test_russian_count_with_a_changed_vote(hub: Hub, register: dict[str, int]) -> None:
    a, b, c, dev, d = register.values()
    matters = ["default", "hire_company", "capital_repair"]
    ballot_id = await open_ballot(hub, rule_set="ru-housing-code", matters=matters)
    for resident in (c, dev, d):
        await vote(hub, ballot_id, resident, {1: "1", 2: "1", 3: "1"})
    await vote(hub, ballot_id, a, {1: "1", 2: "1", 3: "2"})
    await vote(hub, ballot_id, b, {1: "3", 2: "3", 3: "3"})
    # Anna changes her mind on question 1: the last vote counts.
    changed = await vote(hub, ballot_id, a, {1: "2"})
    assert (changed.counted, changed.replaced, changed.kept) == ({1: "2"}, {1: "1"}, {})
    same = await vote(hub, ballot_id, a, {1: "2"})
    assert (same.counted, same.replaced) == ({1: "2"}, {})
    count = await tally(hub, ballot_id)
    assert (count.voters, count.voted) == (5, 5)
    q1, q2, q3 = count.questions
    # Took part: 30 + 30 + 90 + 150 + 19.99998 = 319.99998 of 405.00 m² = 79.01 % > 202.50.
    assert q1["participation"][0] | {"met": None} == {
        "name": "quorum",
        "measure": "area",
        "value": "319.99998",  # shown with every decimal it has
        "base": "405.00",
        "share_percent": "79.01",
        "rule": "> 1/2",
        "required": "202.50",
        "met": None,
        "margin": "117.50",  # 319.99998 − 202.5 = 117.49998
    }
    # Q1 majority: yes 90 + 150 + 19.99998 = 259.99998 > ½ × 319.99998 = 159.99999.
    options = {o["code"]: o["weight"] for o in q1["options"]}
    assert options == {"1": 25_999_998_000, "2": 3_000_000_000, "3": 3_000_000_000}
    assert (q1["outcome"], q1["adopted"]) == ("adopted", "1")
    assert q1["support"]["1"][0]["margin"] == "100.00"  # 99.99999
    # Q2 half of all: yes 259.99998 + 30 (Anna) = 289.99998 > 202.50.
    assert (q2["outcome"], q2["support"]["1"][0]["margin"]) == ("adopted", "87.50")
    # Q3 two thirds of all: yes 259.99998 < 2/3 × 405 = 270.00: short by 10.00002.
    assert q3["outcome"] == "not_adopted"
    assert (q3["support"]["1"][0]["required"], q3["support"]["1"][0]["margin"]) == (
        "270.00",
        "-10.00",
    )


async def test_chinese_count_first_vote_counts(hub: Hub, register: dict[str, int]) -> None:
    a, b, c, dev, d = register.values()
    matters = ["hire_company", "raise_maintenance_fund"]
    ballot_id = await open_ballot(hub, rule_set="cn-civil-code", matters=matters, policy="first")
    first = await vote(hub, ballot_id, a, {1: "2", 2: "2"})
    assert first.counted == {1: "2", 2: "2"}
    # Boris speaks for the same owner: under first-counts Anna's answer stands.
    spouse = await vote(hub, ballot_id, b, {1: "1"})
    assert (spouse.counted, spouse.kept) == ({}, {1: "2"})
    for resident in (c, dev, d):
        await vote(hub, ballot_id, resident, {1: "1", 2: "1"})
    late_change = await vote(hub, ballot_id, d, {2: "2"})
    assert late_change.kept == {2: "1"}
    count = await tally(hub, ballot_id)
    assert count.voted == 4  # the couple is one owner
    q1, q2 = count.questions
    # Took part: 60 + 90 + 150 + 60 = 360.00 ≥ 2/3 × 405 = 270.00; 4 ≥ 2/3 × 5 = 3.33….
    area, heads = q1["participation"]
    assert (area["value"], area["required"], area["share_percent"]) == ("360.00", "270.00", "88.89")
    assert (heads["value"], heads["required"], heads["margin"]) == ("4", "3.34", "0.67")
    # Q1 ordinary: yes 300.00 > 180.00 and 3 > 2 owners.
    assert (q1["outcome"], q1["adopted"]) == ("adopted", "1")
    assert [c["margin"] for c in q1["support"]["1"]] == ["120.00", "1.00"]
    # Q2 special: yes 300.00 ≥ 3/4 × 360 = 270.00 and 3 ≥ 3/4 × 4 = 3 owners (exactly).
    assert q2["outcome"] == "adopted"
    assert [(c["required"], c["margin"]) for c in q2["support"]["1"]] == [
        ("270.00", "30.00"),
        ("3.00", "0.00"),
    ]


async def test_no_votes_after_closing(hub: Hub, register: dict[str, int]) -> None:
    a, _b, c, _dev, _d = register.values()
    ballot_id = await open_ballot(hub, rule_set="ru-housing-code", matters=["default"])
    await vote(hub, ballot_id, c, {1: "1"})
    async with hub.session_factory() as session:
        closes_at = (await session.get(Ballot, ballot_id)).closes_at  # type: ignore[union-attr]
    # At the closing time the ballot takes no votes, even before the closing step ran.
    with pytest.raises(service.VotingClosed):
        await vote(hub, ballot_id, a, {1: "1"}, now=closes_at)
    assert await close_at(hub, ballot_id, closes_at + timedelta(minutes=1)) == []
    with pytest.raises(service.VotingClosed):
        await vote(hub, ballot_id, a, {1: "1"})
    with pytest.raises(service.VotingClosed):
        await vote(hub, ballot_id, c, {1: "2"}, channel="paper")
    async with hub.session_factory() as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None and ballot.status == BallotStatus.CLOSED
        results = ballot.results
    assert results is not None
    # Only Chen's 90.00 m² counted: 90 ≤ 202.50 → no quorum; the refused votes left no trace.
    assert (results["voted"], results["questions"][0]["outcome"]) == (1, "no_quorum")
    assert (await tally(hub, ballot_id)).as_dict() == results


@pytest.mark.parametrize(
    ("rule_set", "matters"),
    [
        ("ru-housing-code", ["default", "hire_company", "capital_repair"]),
        ("cn-civil-code", ["hire_company", "raise_maintenance_fund"]),
    ],
)
async def test_audit_list_retallies_to_the_stored_results(
    hub: Hub, client: httpx.AsyncClient, register: dict[str, int], rule_set: str, matters: list[str]
) -> None:
    a, b, c, dev, d = register.values()
    all_yes = dict.fromkeys(range(1, len(matters) + 1), "1")
    ballot_id = await open_ballot(hub, rule_set=rule_set, matters=matters)
    await vote(hub, ballot_id, c, all_yes)
    await vote(hub, ballot_id, d, all_yes)
    await vote(hub, ballot_id, a, dict.fromkeys(all_yes, "2"))
    await vote(hub, ballot_id, a, {1: "1"})  # changed: the last vote counts
    await vote(hub, ballot_id, dev, dict.fromkeys(all_yes, "3"))
    async with hub.session_factory() as session:
        closes_at = (await session.get(Ballot, ballot_id)).closes_at  # type: ignore[union-attr]
    await close_at(hub, ballot_id, closes_at)
    async with hub.session_factory() as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None and ballot.results is not None
        stored = ballot.results
        questions = await service.questions_of(db_session=session, ballot_id=ballot_id)
        lines = protocol.audit_csv(db_session=session, ballot=ballot, questions=questions)
        direct = "".join([line async for line in lines])
    headers = await api_key(hub, Role.ADMIN)
    response = await client.get(f"/api/v1/votes/ballots/{ballot_id}/audit.csv", headers=headers)
    assert response.status_code == 200, response.text
    assert response.text.replace("\r\n", "\n") == direct.replace("\r\n", "\n")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    voters = len(rows) // len(matters)
    assert voters == (7 if rule_set == "ru-housing-code" else 5)
    again = protocol.tally_from_audit(rows)
    assert sorted(again) == list(range(1, len(matters) + 1))
    for result in stored["questions"]:
        mine = again[result["position"]]
        for field in ("outcome", "adopted", "quorum_met", "participation"):
            assert mine[field] == result[field], (result["position"], field)
        assert mine["support"]["1"] == result["support"]["1"]
    # The audit list adds up to the frozen totals, heads included.
    first = [r for r in rows if r["question"] == "1"]
    assert sum(Decimal(r["area"]) for r in first) == Decimal("405.00")
    assert sum(int(r["heads"]) for r in first) == stored["total_heads"]
    # Anna's row shows both of her vote rows and the choice that counted.
    anna = next(r for r in first if "Anna" in r["owners"])
    assert (anna["choice"], anna["choice_kind"], anna["vote_rows"]) == ("1", "for", "2")
    unowned = sorted(r["area"] for r in first if not r["owners"])
    expected = ["40.00002", "45.00"] if rule_set == "ru-housing-code" else ["45.00"]
    assert unowned == expected
    # The proof is not vacuous: dropping Chen's (90.00 m²) yes changes the outcome of Q1.
    without_chen = [
        dict(r, choice="", choice_kind="") if "Chen" in r["owners"] else r for r in rows
    ]
    assert protocol.tally_from_audit(without_chen)[1] != again[1]
