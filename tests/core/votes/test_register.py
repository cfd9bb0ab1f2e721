"""The owner register import (CSV and YAML, direct and over the API): where a unit's area
comes from, joint owners and their shares, a file refused whole for any bad row, owners who
sold, phones believed the first time and pending after, and the owners list with masked
phones inside the caller's reach."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core.auth.enums import Role, ScopeKind
from core.db import transaction, utcnow
from core.importing.service import ImportRejected, ImportReport
from core.imports import import_text
from core.outbox.models import OutboxMessage
from core.residents.models import Contact, Resident
from core.runtime import Hub
from core.territory.models import Building, Premises, PremisesOwner
from core.votes import ballots
from core.votes.enums import PhoneStatus
from core.votes.models import Owner, OwnerPhone
from tests.core.votes.factories import (
    SPOUSE,
    TIMEZONE,
    ballot_body,
    committee_key,
    owner_phone,
    reply,
)
from tests.factories import api_key

API = "/api/v1/votes"
HEADER = (
    "building,premises,kind,area,area_surveyed,area_contract,"
    "owner,owner_kind,owner_name,share,phones,language\n"
)


def register(*rows: str) -> str:
    """Returns a register file: the header, then one line per row."""
    return HEADER + "".join(f"{row}\n" for row in rows)


async def load(hub: Hub, text: str, fmt: str = "csv") -> ImportReport:
    async with transaction(hub.session_factory) as session:
        return await import_text(db_session=session, what="owners", text=text, fmt=fmt)


async def refused(hub: Hub, text: str, fmt: str = "csv") -> list[tuple[int, str]]:
    with pytest.raises(ImportRejected) as caught:
        await load(hub, text, fmt)
    return caught.value.report.rejected


async def snapshot(hub: Hub) -> dict[str, list[tuple[Any, ...]]]:
    """Returns every register-related row, to show an import changed nothing."""
    queries = {
        "premises": select(
            Premises.id,
            Premises.building_id,
            Premises.number,
            Premises.kind,
            Premises.area,
            Premises.registered_area,
            Premises.surveyed_area,
            Premises.contract_area,
        ).order_by(Premises.id),
        "holdings": select(
            PremisesOwner.id,
            PremisesOwner.premises_id,
            PremisesOwner.resident_id,
            PremisesOwner.share,
        ).order_by(PremisesOwner.id),
        "owners": select(Owner.id, Owner.code, Owner.resident_id, Owner.kind).order_by(Owner.id),
        "phones": select(
            OwnerPhone.id,
            OwnerPhone.owner_id,
            OwnerPhone.phone,
            OwnerPhone.status,
            OwnerPhone.added_at,
            OwnerPhone.verified_by,
        ).order_by(OwnerPhone.id),
        "residents": select(Resident.id, Resident.display_name, Resident.language).order_by(
            Resident.id
        ),
        "contacts": select(
            Contact.id, Contact.resident_id, Contact.value, Contact.language
        ).order_by(Contact.id),
    }
    async with hub.session_factory() as session:
        return {
            name: [tuple(row) for row in await session.execute(q)] for name, q in queries.items()
        }


async def unit(hub: Hub, building: str, number: str) -> Premises | None:
    async with hub.session_factory() as session:
        return await session.scalar(
            select(Premises)
            .join(Building, Building.id == Premises.building_id)
            .where(Building.code == building, Premises.number == number)
        )


async def holders(hub: Hub, building: str, number: str) -> dict[str, Decimal]:
    """Returns owner code → share for one unit."""
    async with hub.session_factory() as session:
        rows = await session.execute(
            select(Owner.code, PremisesOwner.share)
            .join(PremisesOwner, PremisesOwner.resident_id == Owner.resident_id)
            .join(Premises, Premises.id == PremisesOwner.premises_id)
            .join(Building, Building.id == Premises.building_id)
            .where(Building.code == building, Premises.number == number)
        )
        return {code: Decimal(share) for code, share in rows}


async def phones_of(hub: Hub, code: str) -> dict[str, tuple[str, str | None]]:
    """Returns phone → (status, verified_by) of an owner."""
    async with hub.session_factory() as session:
        rows = await session.execute(
            select(OwnerPhone.phone, OwnerPhone.status, OwnerPhone.verified_by)
            .join(Owner, Owner.id == OwnerPhone.owner_id)
            .where(Owner.code == code)
        )
        return {phone: (status, by) for phone, status, by in rows}


async def owner_resident(hub: Hub, code: str) -> int | None:
    async with hub.session_factory() as session:
        return await session.scalar(select(Owner.resident_id).where(Owner.code == code))


async def test_area_comes_from_the_register_else_the_survey_else_the_contract(hub: Hub) -> None:
    report = await load(
        hub,
        register(
            "b001,401,flat,55.10,54.00,53.00,A-401,person,A,1,,",
            "b001,402,flat,,60.20,61.00,A-402,person,B,1,,",
            "b001,403,parking,,,70.30,A-403,legal,C,1,,",
        ),
    )
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    expected = {
        "401": (Decimal("55.10"), Decimal("55.10"), Decimal("54.00"), Decimal("53.00")),
        "402": (Decimal("60.20"), None, Decimal("60.20"), Decimal("61.00")),
        "403": (Decimal("70.30"), None, None, Decimal("70.30")),
    }
    for number, (area, registered, surveyed, contract) in expected.items():
        found = await unit(hub, "b001", number)
        assert found is not None
        assert (found.area, found.registered_area, found.surveyed_area, found.contract_area) == (
            area,
            registered,
            surveyed,
            contract,
        ), number
    assert (await unit(hub, "b001", "403")).kind == "parking"  # type: ignore[union-attr]

    # The register's own figure arrives later: it wins over the contract's.
    await load(hub, register("b001,403,parking,69.90,,70.30,A-403,legal,C,1,,"))
    later = await unit(hub, "b001", "403")
    assert later is not None
    assert (later.area, later.registered_area, later.contract_area) == (
        Decimal("69.90"),
        Decimal("69.90"),
        Decimal("70.30"),
    )


async def test_a_row_with_no_area_at_all_is_refused(hub: Hub) -> None:
    rejected = await refused(hub, register("b001,404,flat,,,,A-404,person,A,1,,"))
    assert rejected == [(2, "one of area, area_surveyed or area_contract is required")]
    assert await unit(hub, "b001", "404") is None


async def test_joint_owners_hold_half_each_from_a_yaml_file(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    text = (
        "- {building: b001, premises: '410', area: 64.00, owner: J-410-A, owner_name: Ivan,\n"
        "   share: 1/2, phones: '+79003000410'}\n"
        "- {building: b001, premises: '410', area: 64.00, owner: J-410-B, owner_name: Maria,\n"
        "   share: '0.5', phones: '+79003000411'}\n"
    )
    report = await load(hub, text, fmt="yaml")
    assert report.created == 2
    assert await holders(hub, "b001", "410") == {
        "J-410-A": Decimal("0.5"),
        "J-410-B": Decimal("0.5"),
    }
    listed = await client.get(
        f"{API}/owners", params={"building": "b001"}, headers=await committee_key(hub)
    )
    assert listed.status_code == 200, listed.text
    units = {o["code"]: o["units"] for o in listed.json()}
    assert units["J-410-A"] == [{"premises": "410", "share": "0.5"}]
    assert units["J-410-B"] == [{"premises": "410", "share": "0.5"}]


async def test_three_owners_of_a_third_each_are_accepted(hub: Hub) -> None:
    report = await load(
        hub,
        register(
            "b002,411,flat,90.00,,,T-1,person,One,1/3,,",
            "b002,411,flat,90.00,,,T-2,person,Two,1/3,,",
            'b002,411,flat,90.00,,,T-3,person,Three,"1/3",,',
        ),
    )
    assert report.created == 3
    assert await holders(hub, "b002", "411") == {
        "T-1": Decimal("0.333333"),
        "T-2": Decimal("0.333333"),
        "T-3": Decimal("0.333333"),
    }


async def test_shares_over_one_for_a_unit_refuse_the_file_naming_unit_and_rows(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    before = await snapshot(hub)
    text = register(
        "b001,420,flat,50.00,,,S-1,person,A,1/2,+79003000420,",
        "b001,420,flat,50.00,,,S-2,person,B,2/3,,",
        "b001,421,flat,40.00,,,S-3,person,C,1,,",
    )
    rejected = await refused(hub, text)
    assert len(rejected) == 1
    reason = rejected[0][1]
    assert "b001 420" in reason and "rows 2, 3" in reason and "1.166667" in reason, reason
    assert "421" not in reason
    assert await snapshot(hub) == before

    # The demo's couple: one of them cannot be listed as the whole owner beside the other.
    demo_couple = register(
        "b001,2,flat,52.40,,,RS-b001-2,person,,1,,",
        "b001,2,flat,52.40,,,RS-b001-2-spouse,person,,1/2,,",
    )
    admin = await api_key(hub, Role.ADMIN)
    answer = await client.post(
        f"{API}/imports/owners",
        params={"format": "csv"},
        content=demo_couple,
        headers={**admin, "Content-Type": "text/plain"},
    )
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    assert "b001 2" in problem["reason"] and "rows 2, 3" in problem["reason"], problem
    assert await snapshot(hub) == before


async def test_reimporting_the_same_file_changes_nothing(hub: Hub) -> None:
    async with hub.session_factory() as session:
        areas = dict(
            (
                await session.execute(
                    select(Premises.number, Premises.area)
                    .join(Building, Building.id == Premises.building_id)
                    .where(Building.code == "b002")
                )
            ).all()
        )
    # Building b002 exactly as the demo register has it, plus new units.
    demo_rows = [
        f"b002,{flat},,{areas[str(flat)]},,,RS-b002-{flat},person,Owner 2-{flat},1,"
        f"{owner_phone(2, flat)},"
        for flat in range(1, 7)
    ]
    new_rows = [
        "b003,430,flat,45.50,45.00,,R-430,person,Anna,1,+79003000430;+79003000431,ru",
        "b003,431,flat,,,50.00,R-431,developer,Dev,1,+79003000432,zh",
        "b003,432,flat,33.00,,,R-430,person,Anna,1/2,+79003000430,ru",
    ]
    text = register(*demo_rows, *new_rows)
    first = await load(hub, text)
    assert (first.created, first.updated, first.unchanged) == (3, 0, 6)
    before = await snapshot(hub)
    again = await load(hub, text)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 9)
    assert await snapshot(hub) == before


async def test_an_owner_no_longer_listed_for_a_unit_has_sold_it(hub: Hub) -> None:
    report = await load(
        hub,
        register(
            "b001,3,flat,,,55.00,RS-b001-3-buyer,person,Buyer,1,+79003000003,en",
            # The husband bought out his wife's half.
            "b001,2,flat,,,60.00,RS-b001-2,person,,1,,",
        ),
    )
    assert (report.created, report.updated) == (1, 1)
    assert await holders(hub, "b001", "3") == {"RS-b001-3-buyer": Decimal(1)}
    assert await holders(hub, "b001", "2") == {"RS-b001-2": Decimal(1)}
    # The sellers stay in the register (they may own elsewhere) but hold nothing here.
    assert await owner_resident(hub, "RS-b001-3") is not None
    assert await owner_resident(hub, "RS-b001-2-spouse") is not None
    # Untouched units keep their owners.
    assert await holders(hub, "b001", "4") == {"RS-b001-4": Decimal(1)}


async def test_bad_rows_are_each_refused_with_line_and_reason_and_nothing_is_written(
    hub: Hub,
) -> None:
    before = await snapshot(hub)
    text = register(
        "b001,301,flat,50.00,,,GOOD-301,person,Fine,1,+79003000301,ru",  # 2
        "b999,1,flat,50.00,,,X-1,person,,1,,",  # 3
        "b001,302,flat,50.00,,,,person,,1,,",  # 4
        "b001,303,flat,50.00,,,X-3,person,,0,,",  # 5
        "b001,304,flat,50.00,,,X-4,person,,2,,",  # 6
        "b001,305,flat,50.00,,,X-5,person,,abc,,",  # 7
        "b001,306,flat,fifty,,,X-6,person,,1,,",  # 8
        "b001,307,flat,-5,,,X-7,person,,1,,",  # 9
        "b001,308,flat,50.00,,,X-8,person,,1,"  # 10
        "+79003000801;+79003000802;+79003000803;+79003000804,",
        "b001,309,flat,50.00,,,X-9,person,,1,+7900,",  # 11
        "b001,310,flat,50.00,,,X-10,person,,1,call me,",  # 12
        "b001,311,flat,50.00,,,X-11,person,,1,,fr",  # 13
        "b001,312,flat,50.00,,,X-12,alien,,1,,",  # 14
        "b001,313,flat,50.00,,,DUP,person,,1/2,,",  # 15
        "b001,313,flat,50.00,,,DUP,person,,1/2,,",  # 16
    )
    rejected = await refused(hub, text)
    reasons = dict(rejected)
    assert sorted(reasons) == list(range(3, 15)) + [16], rejected
    expected = {
        3: "unknown building 'b999'",
        4: "owner is required",
        5: "share must be more than 0",
        6: "share must be more than 0 and at most 1",
        7: "'abc' is not a fraction",
        8: "area 'fifty' is not a number",
        9: "area must be a positive area",
        10: "at most 3 phones",
        11: "phone number",
        12: "phone number",
        13: "language must be en, ru or zh",
        14: "alien",
        16: "owner DUP is listed twice for unit 313",
    }
    for line, words in expected.items():
        assert words in reasons[line], (line, reasons[line])
    assert await snapshot(hub) == before
    assert await unit(hub, "b001", "301") is None


async def test_import_api_needs_a_city_admin_and_reports_counts(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    text = register("b004,440,flat,48.00,,,API-440,person,Via Api,1,+79003000440,ru")
    url = f"{API}/imports/owners"
    for headers in (
        await committee_key(hub),
        await api_key(hub, Role.SUPERVISOR, ScopeKind.DISTRICT, "north"),
    ):
        denied = await client.post(
            url, content=text, headers={**headers, "Content-Type": "text/plain"}
        )
        assert denied.status_code == 403, denied.text
    assert await unit(hub, "b004", "440") is None
    admin = {**(await api_key(hub, Role.ADMIN)), "Content-Type": "text/plain"}
    done = await client.post(url, params={"format": "csv"}, content=text, headers=admin)
    assert done.status_code == 200, done.text
    assert done.json() == {"created": 1, "updated": 0, "unchanged": 0}
    assert await holders(hub, "b004", "440") == {"API-440": Decimal(1)}
    bad = await client.post(
        url, content=register("b004,441,flat,48.00,,,API-441,person,,7/3,,"), headers=admin
    )
    assert bad.status_code == 422, bad.text
    [problem] = bad.json()["detail"]
    assert problem["line"] == 2 and "share" in problem["reason"], problem


async def test_first_numbers_are_verified_and_a_changed_number_is_pending(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    # The demo register's first import believed every number.
    assert await phones_of(hub, "RS-b001-1") == {
        owner_phone(1, 1): (PhoneStatus.VERIFIED, "register")
    }
    await load(hub, register("b002,450,flat,50.00,,,P-450,person,New,1,+79003000450|+79003000451,"))
    assert await phones_of(hub, "P-450") == {
        "+79003000450": (PhoneStatus.VERIFIED, "register"),
        "+79003000451": (PhoneStatus.VERIFIED, "register"),
    }

    # A later file gives the demo owner another number: the old one goes, the new waits.
    report = await load(hub, register("b001,1,flat,,,45.40,RS-b001-1,person,,1,8 900 300-01-11,"))
    assert report.created == 0
    assert await phones_of(hub, "RS-b001-1") == {"+79003000111": (PhoneStatus.PENDING, None)}
    # Keeping one number and adding one: the kept stays verified, the added is pending.
    await load(
        hub,
        register("b002,450,flat,50.00,,,P-450,person,New,1,+79003000450;+79003000452,"),
    )
    assert await phones_of(hub, "P-450") == {
        "+79003000450": (PhoneStatus.VERIFIED, "register"),
        "+79003000452": (PhoneStatus.PENDING, None),
    }
    listed = await client.get(
        f"{API}/owners", params={"building": "b001"}, headers=await committee_key(hub)
    )
    owner = next(o for o in listed.json() if o["code"] == "RS-b001-1")
    assert [(p["status"], p["verified_by"]) for p in owner["phones"]] == [("pending", None)]


async def test_an_owner_found_by_an_existing_contact_phone_is_that_resident(hub: Hub) -> None:
    async with hub.session_factory() as session:
        demo_resident = await session.scalar(
            select(Contact.resident_id).where(Contact.value == owner_phone(6, 1))
        )
        residents = await session.scalar(select(func.count()).select_from(Resident))
    assert demo_resident is not None
    # Someone who wrote to the hub before the register named them.
    stranger = "+79004440001"
    await reply(hub, "Hello, the lift is broken", sender=stranger)
    async with hub.session_factory() as session:
        writer = await session.scalar(select(Contact.resident_id).where(Contact.value == stranger))
        residents_after_sms = await session.scalar(select(func.count()).select_from(Resident))
    assert writer is not None

    report = await load(
        hub,
        register(
            # North Park's flat b006-1 already belongs to its demo resident.
            f"b006,1,flat,,,50.00,NP-b006-1,person,,1,{owner_phone(6, 1)},",
            f"b006,460,flat,,,50.00,NP-460,person,,1,{stranger},",
            # Already the owner RS-b001-1: a new key with that phone is somebody else.
            f"b006,461,flat,,,50.00,NP-461,person,,1,{owner_phone(1, 1)},",
        ),
    )
    # b006-1's holding existed; its row adds the register key and the phone: an update.
    assert (report.created, report.updated, report.unchanged) == (2, 1, 0)
    assert await owner_resident(hub, "NP-b006-1") == demo_resident
    assert await owner_resident(hub, "NP-460") == writer
    third = await owner_resident(hub, "NP-461")
    assert third is not None and third != await owner_resident(hub, "RS-b001-1")
    async with hub.session_factory() as session:
        total = await session.scalar(select(func.count()).select_from(Resident))
    assert residents_after_sms == (residents or 0) + 1
    assert total == residents_after_sms + 1


async def test_owners_list_masks_phones_and_stays_in_reach(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    committee = await committee_key(hub)
    listed = await client.get(f"{API}/owners", params={"building": "b001"}, headers=committee)
    assert listed.status_code == 200, listed.text
    owners = {o["code"]: o for o in listed.json()}
    assert set(owners) == {f"RS-b001-{flat}" for flat in range(1, 7)} | {"RS-b001-2-spouse"}
    assert owners["RS-b001-2"]["units"] == [{"premises": "2", "share": "0.5"}]
    assert owners["RS-b001-1"]["units"] == [{"premises": "1", "share": "1"}]
    numbers = [owner_phone(1, flat) for flat in range(1, 7)] + [SPOUSE]
    for number in numbers:
        assert number not in listed.text and number[1:] not in listed.text, number
    shown = [p["phone"] for o in owners.values() for p in o["phones"]]
    assert len(shown) == 7
    assert all(re.fullmatch(r"\+7\*\*\*\d\d", phone) for phone in shown), shown
    assert owners["RS-b001-1"]["phones"][0]["phone"].endswith(owner_phone(1, 1)[-2:])

    outside = await client.get(f"{API}/owners", params={"building": "b010"}, headers=committee)
    assert outside.status_code == 404, outside.text
    missing = await client.get(f"{API}/owners", params={"building": "b999"}, headers=committee)
    assert missing.status_code == 404
    # A district's staff see their district's buildings only (b001 north, b003 central).
    north = await api_key(hub, Role.SUPERVISOR, ScopeKind.DISTRICT, "north")
    assert (await client.get(f"{API}/owners?building=b001", headers=north)).status_code == 200
    assert (await client.get(f"{API}/owners?building=b003", headers=north)).status_code == 404
    agent = await api_key(hub, Role.AGENT)
    assert (await client.get(f"{API}/owners?building=b001", headers=agent)).status_code == 403


async def test_a_row_that_changes_a_unit_or_an_owner_is_counted_as_updated(hub: Hub) -> None:
    row = "b001,1,flat,{area},,,RS-b001-1,person,Owner 1-1,1,{phone},"
    same = await load(hub, register(row.format(area="45.40", phone=owner_phone(1, 1))))
    assert (same.created, same.updated, same.unchanged) == (0, 0, 1)
    # The area is the owner's vote weight: the authority must see that it changed.
    area = await load(hub, register(row.format(area="99.00", phone=owner_phone(1, 1))))
    assert (area.created, area.updated, area.unchanged) == (0, 1, 0)
    phone = await load(hub, register(row.format(area="99.00", phone="+79003000001")))
    assert (phone.created, phone.updated, phone.unchanged) == (0, 1, 0)


async def test_the_register_language_is_the_one_ballots_are_sent_in(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    # The demo owner of b001-1 reads English; the register now says Chinese, same number.
    await load(hub, register(f"b001,1,flat,45.40,,,RS-b001-1,person,,1,{owner_phone(1, 1)},zh"))
    headers = await committee_key(hub)
    created = await client.post(f"{API}/ballots", json=ballot_body(), headers=headers)
    ballot_id = int(created.json()["id"])
    await client.post(f"{API}/ballots/{ballot_id}/publish", headers=headers)
    async with transaction(hub.session_factory) as session:
        ids = await ballots.announce_ballot(
            db_session=session, ballot_id=ballot_id, now=utcnow(), timezone=TIMEZONE
        )
    async with hub.session_factory() as session:
        language = await session.scalar(
            select(OutboxMessage.language).where(
                OutboxMessage.id.in_(ids), OutboxMessage.address == owner_phone(1, 1)
            )
        )
    assert language == "zh"
