"""Freezing who votes, with how much, when a ballot opens (DOMAIN §3).

Russia: votes are proportional to the owner's share of each unit's area; one person's
units add up; joint owners each vote their share. China: one unit is one owner (joint
owners of a unit are one voter), one buyer's several units count once, the developer's
unsold units count once; each voter carries the area of their units.

Every unit in scope counts in the totals. A unit (or the part of it) nobody is registered
for is a voter row without members: it cannot vote, and it keeps the percentages honest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.residents.models import Resident
from core.territory.models import Building, EstateBuilding, Premises, PremisesOwner
from core.votes.enums import BallotScope, Jurisdiction, OwnerKind
from core.votes.models import Ballot, BallotQuestion, BallotVoter, BallotVoterMember, Owner
from core.votes.tally import Totals, weight_of

_CHUNK = 5_000


@dataclass
class _Voter:
    key: str
    weight: int = 0
    heads: int = 1
    owners: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    members: set[int] = field(default_factory=set)


@dataclass
class _Unit:
    premises_id: int
    label: str
    area: Decimal
    # (resident id, share, owner kind, name)
    owners: list[tuple[int, Decimal, OwnerKind, str]] = field(default_factory=list)


def buildings_in_scope(ballot: Ballot) -> Any:
    """Returns a select of the building ids a ballot covers."""
    if ballot.scope == BallotScope.BUILDING:
        return select(Building.id).where(Building.id == ballot.building_id)
    return select(EstateBuilding.building_id).where(EstateBuilding.estate_id == ballot.estate_id)


async def _units(db_session: AsyncSession, ballot: Ballot) -> list[_Unit]:
    rows = await db_session.execute(
        select(
            Premises.id,
            Building.code,
            Premises.number,
            Premises.area,
            PremisesOwner.resident_id,
            PremisesOwner.share,
            Owner.kind,
            Owner.code,
            Resident.display_name,
        )
        .join(Building, Building.id == Premises.building_id)
        .outerjoin(PremisesOwner, PremisesOwner.premises_id == Premises.id)
        .outerjoin(Owner, Owner.resident_id == PremisesOwner.resident_id)
        .outerjoin(Resident, Resident.id == PremisesOwner.resident_id)
        .where(Premises.building_id.in_(buildings_in_scope(ballot)))
        .order_by(Premises.id, PremisesOwner.resident_id)
    )
    units: dict[int, _Unit] = {}
    for pid, building, number, area, resident_id, share, kind, code, name in rows:
        unit = units.setdefault(pid, _Unit(pid, f"{building} {number}", Decimal(area)))
        if resident_id is not None:
            label = name or code or f"#{resident_id}"
            unit.owners.append(
                (resident_id, Decimal(share), OwnerKind(kind or OwnerKind.PERSON), label)
            )
    return list(units.values())


def _share_text(share: Decimal) -> str:
    return "" if share == 1 else f" ({share.normalize()})"


def voters_russia(units: list[_Unit]) -> list[_Voter]:
    """Returns one voter per person: the sum of share × area over their units."""
    voters: dict[str, _Voter] = {}
    for unit in units:
        unit_weight = weight_of(unit.area)
        given = 0
        shares = sum((share for _r, share, _k, _n in unit.owners), Decimal(0))
        # Shares kept to six decimals (1/3 → 0.333333) leave a sliver of the unit unowned;
        # a unit whose shares are whole but for that rounding goes wholly to its owners,
        # the sliver to the last of them.
        whole = unit.owners and 1 - shares <= Decimal("0.000001") * len(unit.owners)
        for index, (resident_id, share, _kind, name) in enumerate(unit.owners):
            voter = voters.setdefault(f"p{resident_id}", _Voter(f"p{resident_id}"))
            part = weight_of(share * unit.area)
            if whole and index == len(unit.owners) - 1:
                part = unit_weight - given
            voter.weight += part
            given += part
            voter.members.add(resident_id)
            if name not in voter.owners:
                voter.owners.append(name)
            voter.units.append(unit.label + _share_text(share))
        if given < unit_weight:
            # Nobody (or not everybody) is registered for this unit: its votes exist and
            # nobody can cast them.
            voters[f"u{unit.premises_id}"] = _Voter(
                f"u{unit.premises_id}",
                weight=unit_weight - given,
                heads=0 if unit.owners else 1,
                units=[unit.label],
            )
    return list(voters.values())


def voters_china(units: list[_Unit]) -> list[_Voter]:
    """Returns one voter per unit, joining one buyer's units and the developer's units."""
    voters: dict[str, _Voter] = {}
    for unit in units:
        if not unit.owners:
            key = f"u{unit.premises_id}"
        else:
            developers = sorted(r for r, _s, kind, _n in unit.owners if kind is OwnerKind.DEVELOPER)
            if developers:
                key = f"d{developers[0]}"
            else:
                key = "o" + "-".join(str(r) for r, _s, _k, _n in unit.owners)
        voter = voters.setdefault(key, _Voter(key))
        voter.weight += weight_of(unit.area)
        voter.units.append(unit.label)
        for resident_id, _share, kind, name in unit.owners:
            if key.startswith("d") and kind is not OwnerKind.DEVELOPER:
                # A buyer listed beside the developer (sold, not handed over) must not cast
                # the developer's whole block of unsold units.
                continue
            voter.members.add(resident_id)
            if name not in voter.owners:
                voter.owners.append(name)
    return list(voters.values())


async def freeze(*, db_session: AsyncSession, ballot: Ballot, jurisdiction: Jurisdiction) -> Totals:
    """Writes the ballot's voters and members, and returns the totals every share is of."""
    units = await _units(db_session, ballot)
    voters = voters_russia(units) if jurisdiction is Jurisdiction.RU else voters_china(units)
    rows = [
        {
            "ballot_id": ballot.id,
            "key": v.key,
            "weight": v.weight,
            "heads": v.heads,
            "owners": "; ".join(v.owners),
            "units": ", ".join(v.units),
        }
        for v in voters
    ]
    ids: list[int] = []
    for start in range(0, len(rows), _CHUNK):
        ids.extend(
            await db_session.scalars(
                insert(BallotVoter).returning(BallotVoter.id, sort_by_parameter_order=True),
                rows[start : start + _CHUNK],
            )
        )
    members = [
        {"ballot_id": ballot.id, "voter_id": voter_id, "resident_id": resident_id}
        for voter_id, voter in zip(ids, voters, strict=True)
        for resident_id in sorted(voter.members)
    ]
    for start in range(0, len(members), _CHUNK):
        await db_session.execute(insert(BallotVoterMember), members[start : start + _CHUNK])
    totals = Totals(sum(v.weight for v in voters), sum(v.heads for v in voters))
    ballot.total_weight = totals.weight
    ballot.total_heads = totals.heads
    ballot.voter_count = sum(1 for v in voters if v.members)
    ballot.unowned_units = sum(1 for v in voters if not v.members)
    questions = await db_session.scalars(
        select(BallotQuestion)
        .where(BallotQuestion.ballot_id == ballot.id)
        .order_by(BallotQuestion.position)
    )
    ballot.electorate_digest = digest(
        [
            {"position": q.position, "texts": q.texts, "matter": q.matter, "options": q.options}
            for q in questions
        ],
        [(v.key, v.weight, v.heads, sorted(v.members)) for v in voters],
    )
    return totals


def digest(questions: list[dict[str, Any]], voters: list[tuple[Any, ...]]) -> str:
    """Returns a SHA-256 over the questions and the electorate, printed on the protocol."""
    canonical = json.dumps(
        {"questions": questions, "voters": sorted(voters)},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
