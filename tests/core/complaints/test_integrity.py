"""The integrity score (DOMAIN §5): appeals and their deadlines, weighted deductions, bands,
the blacklist, who may do what, the pre-deduction notice and the public ranking.

Every expected number is worked by hand in a comment from the demo registers:

- uyut serves gardens (residential, 18,500.50 m²); its old_mill contract ended on
  2025-12-31. Qualified until 2030-12-31. Basic: registered 60 + qualified 10 = 70.
- comfort serves north_park (residential, 21,000 m²). Its qualification expired on
  2024-06-30. Basic: registered 60.
- Irina Sokolova (MGR-1001) is a current manager of both, so neither gets
  "certified_managers" (10) until she leaves comfort (score_helpers.MANAGERS_APART).
- Defaults: sanction 10, upheld complaint 2, award 5; appeal 10 calendar days; bands
  AAA 85 / AA 80 / A 70 / B 60 / C 0; basic cap 80, good cap 20.

Tests that move time use T0, a fixed moment, and ask for the score at a moment near it:
the contracts, qualifications and the 365-day window are all read on that day, so the
numbers do not drift with the calendar.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from core.auth.enums import Role
from core.complaints import integrity
from core.complaints.enums import AppealDecision, ScoreKind, ScoreStatus
from core.complaints.integrity import DEFAULT_WEIGHTS, band_for, factor_for
from core.complaints.models import ScoreEvent
from core.complaints.service import SYSTEM, Context, IllegalStep, local_day
from core.complaints.sweep import sweep
from core.config import Settings
from core.db import transaction, utcnow
from core.runtime import Hub
from tests.core.complaints.score_helpers import (
    MANAGERS_APART,
    appeal_at,
    company_key,
    decide_at,
    event_now,
    import_register,
    parts,
    ranking_at,
    record_at,
    score_at,
    sms_to,
)
from tests.core.dispatch.factories import staff_key
from tests.factories import inbound

API = "/api/v1/complaints"
UYUT_PHONE = "+79005550901"
# 09:00 UTC is 12:00 in Moscow, the city's zone: the local day is the UTC day.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
D = Decimal
DECIMAL_FIELDS = {"base_points", "factor", "points", "score", "basic", "good", "bad"}
RANKING_FIELDS = (
    "rank",
    "company",
    "name",
    "score",
    "band",
    "basic",
    "good",
    "bad",
    "upheld_complaints",
)


async def _post_event(
    client: httpx.AsyncClient, headers: dict[str, str], key: str, **body: str
) -> httpx.Response:
    """Posts a sanction (by default, against uyut) or an award with decision number ``key``."""
    payload = {"company": "uyut", "kind": "sanction", "key": key, "note": "act of inspection"}
    payload.update(body)
    return await client.post(f"{API}/score/events", json=payload, headers=headers)


async def _ranking(client: httpx.AsyncClient) -> list[tuple[str, str, str]]:
    response = await client.get(f"{API}/ranking")
    assert response.status_code == 200
    return [(row["company"], row["score"], row["band"]) for row in response.json()]


def _numbers(body: dict[str, Any], *fields: str) -> tuple[Any, ...]:
    """Returns the fields of a response, decimals as Decimal: "10" and "10.00" are equal."""
    return tuple(
        D(body[f]) if f in DECIMAL_FIELDS and body[f] is not None else body[f] for f in fields
    )


async def _events(hub: Hub) -> int:
    async with hub.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(ScoreEvent)) or 0)


async def test_one_appeal_upheld_and_one_refused_leave_only_the_refused_deduction(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    admin = await staff_key(hub, Role.ADMIN)
    supervisor = await staff_key(hub, Role.SUPERVISOR)
    uyut = await company_key(hub, "uyut")
    imported = await client.post(
        f"{API}/imports/managers",
        content=MANAGERS_APART,
        headers={**admin, "Content-Type": "text/plain"},
    )
    assert imported.status_code == 200, imported.text
    # uyut: 60 + 10 + certified_managers 10 = 80 (exactly the basic cap).
    # comfort: 60 + certified_managers 10 (Pavel Orlov alone; qualification expired) = 70.
    assert await _ranking(client) == [("uyut", "80.00", "AA"), ("comfort", "70.00", "A")]

    award = await _post_event(client, supervisor, "AW-2026-1", kind="award")
    assert award.status_code == 201, award.text
    assert _numbers(award.json(), "status", "points") == ("confirmed", D(5))
    first = await _post_event(client, supervisor, "S-2026-1", estate="gardens")
    second = await _post_event(client, supervisor, "S-2026-2", estate="gardens")
    # Residential (×1) and 18,500.50 m² managed (< 100,000: ×1): 10 × 1 × 1 = 10.00 each.
    for sanction in (first, second):
        assert sanction.status_code == 201, sanction.text
        assert _numbers(sanction.json(), "status", "base_points", "factor", "points") == (
            "pending",
            D(10),
            D(1),
            D(10),
        )
    # The award counts at once, the pending sanctions not at all: 80 + 5 − 0 = 85 → AAA.
    assert await _ranking(client) == [("uyut", "85.00", "AAA"), ("comfort", "70.00", "A")]

    for sanction, evidence in ((first, "act-17.pdf"), (second, "photo-3.jpg")):
        appealed = await client.post(
            f"{API}/score/events/{sanction.json()['id']}/appeal",
            json={"text": "The lift was repaired before the inspection", "evidence": [evidence]},
            headers=uyut,
        )
        assert appealed.status_code == 200, appealed.text
        assert (appealed.json()["status"], appealed.json()["evidence"]) == ("appealed", [evidence])
    # Under appeal still counts for nothing: 85, with two events waiting.
    detail = await client.get(f"{API}/companies/uyut/score", headers=uyut)
    assert (detail.json()["score"], detail.json()["pending"]) == ("85.00", 2)

    upheld = await client.post(
        f"{API}/score/events/{first.json()['id']}/decision",
        json={"decision": "upheld", "reason": "the act proves the repair"},
        headers=supervisor,
    )
    refused = await client.post(
        f"{API}/score/events/{second.json()['id']}/decision",
        json={"decision": "refused", "reason": "the photo is from another building"},
        headers=supervisor,
    )
    assert (upheld.status_code, upheld.json()["status"]) == (200, "withdrawn")
    assert (refused.status_code, refused.json()["status"]) == (200, "confirmed")

    # basic 80 + good 5 − bad 10 (the refused one; the withdrawn one never counts) = 75 → A.
    detail = await client.get(f"{API}/companies/uyut/score", headers=uyut)
    assert detail.status_code == 200
    body = detail.json()
    assert _numbers(body, "basic", "good", "bad", "score", "band") == (
        D(80),
        D(5),
        D(10),
        D(75),
        "A",
    )
    assert body["basic_items"] == ["registered", "qualified", "certified_managers"]
    assert (body["rank"], body["pending"], body["upheld_complaints"]) == (1, 0, 0)
    # Had the upheld appeal counted too, uyut would have 65 and rank below comfort's 70.
    assert await _ranking(client) == [("uyut", "75.00", "A"), ("comfort", "70.00", "A")]


async def test_an_unappealed_deduction_counts_only_once_its_appeal_date_has_passed(
    hub: Hub,
) -> None:
    event = await record_at(hub, T0, "uyut", ScoreKind.SANCTION, "sanction:late", estate="gardens")
    # Ten calendar days: the appeal period ends on 12 March, city time.
    assert event.appeal_by is not None
    assert local_day(hub.settings, event.appeal_by) == date(2026, 3, 12)
    # Pending: 70 + 0 − 0 = 70 → A, with one deduction announced.
    uyut = await score_at(hub, T0, "uyut")
    assert parts(uyut) == (D(70), D(0), D(0), D("70.00"), "A")
    assert uyut.pending == 1

    # The appeal date itself is still inside the appeal period: nothing is confirmed.
    async with transaction(hub.session_factory) as session:
        assert await integrity.confirm_unappealed(db_session=session, now=event.appeal_by) == 0
    assert (await event_now(hub, event.id)).status == ScoreStatus.PENDING

    after = event.appeal_by + timedelta(seconds=1)
    routing = await hub.routing.get()
    async with transaction(hub.session_factory) as session:
        swept = await sweep(db_session=session, ctx=Context(SYSTEM, routing, hub.settings, after))
    assert swept.deductions_confirmed == 1
    confirmed = await event_now(hub, event.id)
    assert (confirmed.status, confirmed.confirmed_at) == (ScoreStatus.CONFIRMED, after)
    # 70 + 0 − 10 = 60 → B.
    uyut = await score_at(hub, after, "uyut")
    assert parts(uyut) == (D(70), D(0), D("10.00"), D("60.00"), "B")
    assert uyut.pending == 0


async def test_an_appeal_on_the_last_moment_is_taken_and_waits_for_a_decision(hub: Hub) -> None:
    event = await record_at(hub, T0, "uyut", ScoreKind.SANCTION, "sanction:last", estate="gardens")
    assert event.appeal_by is not None
    await appeal_at(hub, event.appeal_by, event.id, "uyut", "We fixed it the same day")
    async with transaction(hub.session_factory) as session:
        later = event.appeal_by + timedelta(days=30)
        # An appealed deduction is the authority's to decide, not the clock's.
        assert await integrity.confirm_unappealed(db_session=session, now=later) == 0
    appealed = await event_now(hub, event.id)
    assert (appealed.status, appealed.appealed_at) == (ScoreStatus.APPEALED, event.appeal_by)
    uyut = await score_at(hub, T0 + timedelta(days=40), "uyut")
    assert (uyut.bad, uyut.total, uyut.pending) == (D(0), D("70.00"), 1)


async def test_an_appeal_after_the_appeal_date_is_refused_naming_the_date(hub: Hub) -> None:
    event = await record_at(hub, T0, "uyut", ScoreKind.SANCTION, "sanction:too-late")
    assert event.appeal_by is not None
    late = event.appeal_by + timedelta(seconds=1)
    with pytest.raises(IllegalStep, match="the appeal period ended on 2026-03-12"):
        await appeal_at(hub, late, event.id, "uyut", "We were on holiday")
    unchanged = await event_now(hub, event.id)
    assert (unchanged.status, unchanged.appeal_text, unchanged.appealed_at) == (
        ScoreStatus.PENDING,
        None,
        None,
    )


async def test_an_appeal_on_the_day_the_notice_names_is_in_time(hub: Hub) -> None:
    # Recorded at 12:00 on 2 March (Moscow): the notice says "appeal by 2026-03-12".
    event = await record_at(hub, T0, "uyut", ScoreKind.SANCTION, "sanction:on-the-day")
    (notice,) = await sms_to(hub, UYUT_PHONE)
    assert notice.text.endswith("можно до 12 марта 2026.")
    # The company appeals at 18:00 on 12 March, city time: the day the notice gave it.
    # (As written, the period ends at 12:00 that day, the hour the sanction happened to be
    # recorded, which the notice never tells, so the company is refused.)
    on_the_day = datetime(2026, 3, 12, 15, 0, tzinfo=UTC)
    await appeal_at(hub, on_the_day, event.id, "uyut", "Appealed on the day we were given")
    assert (await event_now(hub, event.id)).status == ScoreStatus.APPEALED


async def test_a_late_appeal_through_the_api_is_a_409_and_changes_nothing(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    recorded_at = utcnow() - timedelta(days=11)
    event = await record_at(hub, recorded_at, "uyut", ScoreKind.SANCTION, "sanction:api-late")
    assert event.appeal_by is not None
    ended = local_day(hub.settings, event.appeal_by)
    response = await client.post(
        f"{API}/score/events/{event.id}/appeal",
        json={"text": "Please reconsider", "evidence": ["letter 5"]},
        headers=await company_key(hub, "uyut"),
    )
    assert response.status_code == 409
    assert response.json()["detail"] == f"the appeal period ended on {ended}"
    unchanged = await event_now(hub, event.id)
    assert (unchanged.status, unchanged.appeal_text, unchanged.appeal_evidence) == (
        ScoreStatus.PENDING,
        None,
        [],
    )


TOWER_AND_ARCADE = (
    "code,name_en,kind,area\ntower,Trade Tower,commercial,90000\narcade,Arcade,commercial,5000\n"
)
THEIR_CONTRACTS = (
    "number,company,estate,starts_on,ends_on\n"
    "T-2026-01,uyut,tower,2026-01-01,\n"
    "A-2026-01,comfort,arcade,2026-01-01,\n"
)


@pytest.mark.parametrize(
    ("kind", "area", "factor"),
    [
        ("residential", D("18500.50"), D("1.000")),
        ("commercial", D("18500.50"), D("0.800")),
        ("residential", D("99999.99"), D("1.000")),
        ("residential", D("100000"), D("0.800")),
        # 0.8 (commercial) × 0.8 (from 100,000 m²)
        ("commercial", D("100000"), D("0.640")),
        # 0.8 × 0.6 (from 500,000 m²)
        ("commercial", D("500000"), D("0.480")),
        # No estate named: the kind does not weigh.
        (None, D("0"), D("1.000")),
    ],
)
def test_the_factor_is_the_estate_kind_times_the_managed_area_tier(
    kind: str | None, area: Decimal, factor: Decimal
) -> None:
    assert factor_for(DEFAULT_WEIGHTS, kind, area) == factor


async def test_deductions_weigh_less_on_commercial_estates_and_for_large_companies(
    hub: Hub,
) -> None:
    await import_register(hub, "estates", TOWER_AND_ARCADE)
    await import_register(hub, "contracts", THEIR_CONTRACTS)
    # uyut now manages 18,500.50 + 90,000 = 108,500.50 m² (≥ 100,000: ×0.8);
    # comfort 21,000 + 5,000 = 26,000 m² (×1).
    cases = [
        # (company, kind, estate, base, factor, points)
        ("uyut", ScoreKind.SANCTION, "tower", "10", "0.640", "6.40"),  # 10 × 0.8 × 0.8
        ("uyut", ScoreKind.SANCTION, "gardens", "10", "0.800", "8.00"),  # 10 × 1 × 0.8
        ("uyut", ScoreKind.UPHELD_COMPLAINT, "tower", "2", "0.640", "1.28"),  # 2 × 0.64
        ("uyut", ScoreKind.AWARD, "tower", "5", "1", "5.00"),  # awards are not weighted
        ("comfort", ScoreKind.SANCTION, "arcade", "10", "0.800", "8.00"),  # 10 × 0.8 × 1
        ("comfort", ScoreKind.SANCTION, "north_park", "10", "1.000", "10.00"),
    ]
    for n, (company, kind, estate, base, factor, points) in enumerate(cases):
        event = await record_at(hub, T0, company, kind, f"weights:{n}", estate=estate)
        assert (event.base_points, event.factor, event.points) == (D(base), D(factor), D(points))

    async with transaction(hub.session_factory) as session:
        assert (
            await integrity.confirm_unappealed(db_session=session, now=T0 + timedelta(days=11)) == 5
        )
    # uyut: 70 + 5 − (6.40 + 8.00 + 1.28 = 15.68) = 59.32 → C, one upheld complaint.
    # comfort: 60 + 0 − (8.00 + 10.00 = 18.00) = 42.00 → C.
    ranking = await ranking_at(hub, T0 + timedelta(days=11))
    assert [(s.code, *parts(s), s.upheld_complaints) for s in ranking] == [
        ("uyut", D(70), D("5.00"), D("15.68"), D("59.32"), "C", 1),
        ("comfort", D(60), D(0), D("18.00"), D("42.00"), "C", 0),
    ]


async def test_imported_weights_and_rules_change_the_numbers_of_later_events(hub: Hub) -> None:
    await import_register(hub, "estates", TOWER_AND_ARCADE)
    await import_register(hub, "contracts", THEIR_CONTRACTS)
    before = await record_at(
        hub, T0, "comfort", ScoreKind.SANCTION, "rules:before", estate="north_park"
    )
    await import_register(
        hub,
        "score_weights",
        "dimension,key,factor\nestate_kind,commercial,0.5\narea_from,20000,0.9\n",
    )
    await import_register(
        hub,
        "score_rules",
        "code,section,points,name_en\n"
        "sanction,bad,15,Sanction\n"
        "award,good,8,Award\n"
        "registered,basic,50,Registered\n"
        "fire_breach,bad,7,Fire safety breach\n",
    )
    # comfort manages 26,000 m², now in the tier from 20,000 (×0.9).
    cases = [
        # (kind, rule, estate, base, factor, points)
        (ScoreKind.SANCTION, None, "north_park", "15", "0.900", "13.50"),  # 15 × 1 × 0.9
        (ScoreKind.SANCTION, None, "arcade", "15", "0.450", "6.75"),  # 15 × 0.5 × 0.9
        (ScoreKind.SANCTION, "fire_breach", "north_park", "7", "0.900", "6.30"),  # 7 × 0.9
        (ScoreKind.AWARD, None, None, "8", "1", "8.00"),
    ]
    for n, (kind, rule, estate, base, factor, points) in enumerate(cases):
        event = await record_at(hub, T0, "comfort", kind, f"rules:{n}", estate=estate, rule=rule)
        assert (event.base_points, event.factor, event.points) == (D(base), D(factor), D(points))
    # An event keeps the points it was announced with.
    assert (await event_now(hub, before.id)).points == D("10.00")
    # Basic: registered is now worth 50. uyut: 50 + 10 = 60 → B; comfort: 50 + 8 = 58 → C.
    ranking = await ranking_at(hub, T0)
    assert [(s.code, s.basic, s.good, s.total, s.band) for s in ranking] == [
        ("uyut", D(60), D(0), D("60.00"), "B"),
        ("comfort", D(50), D("8.00"), D("58.00"), "C"),
    ]


async def test_a_sanction_under_an_award_rule_is_refused(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    supervisor = await staff_key(hub, Role.SUPERVISOR)
    response = await _post_event(client, supervisor, "S-odd", rule="award")
    assert response.status_code == 409
    assert await _events(hub) == 0


async def test_good_conduct_is_capped_and_the_total_never_goes_below_zero(hub: Hub) -> None:
    for n in range(5):
        await record_at(hub, T0, "uyut", ScoreKind.AWARD, f"cap:award:{n}")
    for n in range(7):
        await record_at(hub, T0, "comfort", ScoreKind.SANCTION, f"cap:sanction:{n}")
    async with transaction(hub.session_factory) as session:
        assert (
            await integrity.confirm_unappealed(db_session=session, now=T0 + timedelta(days=11)) == 7
        )
    # uyut: five awards of 5 = 25, capped at 20: 70 + 20 = 90 → AAA.
    # comfort: 60 − 7 × 10 = −10, shown as 0 → C.
    ranking = await ranking_at(hub, T0 + timedelta(days=11))
    assert [(s.code, *parts(s)) for s in ranking] == [
        ("uyut", D(70), D(20), D(0), D("90.00"), "AAA"),
        ("comfort", D(60), D(0), D("70.00"), D("0.00"), "C"),
    ]


async def test_events_older_than_the_window_no_longer_count(hub: Hub) -> None:
    await record_at(hub, T0, "uyut", ScoreKind.AWARD, "window:award")
    # 365 days on, the award is on the window's edge and still counts: 70 + 5 = 75.
    edge = T0 + timedelta(days=365)
    assert (await score_at(hub, edge, "uyut")).total == D("75.00")
    # A second later it has dropped out: 70.
    assert (await score_at(hub, edge + timedelta(seconds=1), "uyut")).total == D("70.00")


@pytest.mark.parametrize(
    ("total", "band"),
    [
        ("100", "AAA"),
        ("85", "AAA"),
        ("84.99", "AA"),
        ("80", "AA"),
        ("79.99", "A"),
        ("70", "A"),
        ("60", "B"),
        ("59.99", "C"),
        ("0", "C"),
    ],
)
def test_a_score_falls_in_the_first_band_whose_floor_it_reaches(total: str, band: str) -> None:
    assert band_for(Settings(), D(total), blacklisted=False) == band


def test_a_blacklisted_company_is_banded_blacklist_whatever_its_score() -> None:
    assert band_for(Settings(), D(100), blacklisted=True) == "blacklist"


async def test_bands_come_from_the_settings(hub: Hub) -> None:
    custom = hub.settings.model_copy(
        update={"complaints_bands": (("gold", 75.0), ("silver", 65.0), ("bronze", 0.0))}
    )
    # uyut 70 (≥ 65) → silver; comfort 60 → bronze.
    ranking = await ranking_at(hub, T0, custom)
    assert [(s.code, s.total, s.band) for s in ranking] == [
        ("uyut", D("70.00"), "silver"),
        ("comfort", D("60.00"), "bronze"),
    ]
    assert band_for(custom, D(75), blacklisted=False) == "gold"


@pytest.mark.parametrize(
    "bands",
    [
        (("AAA", 85.0), ("A", 70.0)),  # no band from 0
        (("A", 70.0), ("AAA", 85.0), ("C", 0.0)),  # not from the top down
    ],
)
def test_settings_refuse_bands_that_leave_a_score_unbanded(
    bands: tuple[tuple[str, float], ...],
) -> None:
    with pytest.raises(ValidationError, match="HUB_COMPLAINTS_BANDS"):
        Settings(complaints_bands=bands)


async def test_a_blacklisted_company_ranks_last_until_taken_off(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    admin = await staff_key(hub, Role.ADMIN)
    url = f"{API}/companies/uyut/blacklist"
    no_reason = await client.post(url, json={"blacklisted": True}, headers=admin)
    assert no_reason.status_code == 422
    district = await staff_key(hub, Role.SUPERVISOR, district="north")
    refused = await client.post(url, json={"blacklisted": True, "reason": "x"}, headers=district)
    assert refused.status_code == 403

    listed = await client.post(
        url, json={"blacklisted": True, "reason": "forged meter readings"}, headers=admin
    )
    assert listed.status_code == 200, listed.text
    assert (listed.json()["blacklisted"], listed.json()["blacklist_reason"]) == (
        True,
        "forged meter readings",
    )
    # uyut's 70 is above comfort's 60, yet it ranks last.
    assert await _ranking(client) == [("comfort", "60.00", "B"), ("uyut", "70.00", "blacklist")]
    detail = await client.get(f"{API}/companies/uyut/score", headers=await company_key(hub, "uyut"))
    assert (detail.json()["rank"], detail.json()["band"]) == (2, "blacklist")

    lifted = await client.post(url, json={"blacklisted": False}, headers=admin)
    assert (lifted.json()["blacklisted"], lifted.json()["blacklist_reason"]) == (False, None)
    assert await _ranking(client) == [("uyut", "70.00", "A"), ("comfort", "60.00", "B")]


@pytest.mark.parametrize(
    ("role", "district"),
    [
        (Role.DEPARTMENT, None),
        (Role.INSPECTOR, None),
        (Role.DISPATCHER, None),
        (Role.AGENT, None),
        (Role.SUPERVISOR, "north"),
        (Role.ADMIN, "north"),
    ],
)
async def test_only_a_city_wide_supervisor_gives_sanctions_and_awards(
    hub: Hub, client: httpx.AsyncClient, role: Role, district: str | None
) -> None:
    headers = await staff_key(hub, role, district=district)
    for kind in ("sanction", "award"):
        response = await _post_event(client, headers, f"K-{kind}", kind=kind)
        assert response.status_code == 403, (role, kind)
    company = await _post_event(client, await company_key(hub, "uyut"), "K-self", kind="award")
    assert company.status_code == 403
    assert await _events(hub) == 0


async def test_a_retried_sanction_is_one_event_with_one_notice(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    supervisor = await staff_key(hub, Role.SUPERVISOR)
    first = await _post_event(client, supervisor, "S-2026-77", estate="gardens")
    retried = await _post_event(client, supervisor, "S-2026-77", estate="gardens")
    assert (first.status_code, retried.status_code) == (201, 201)
    assert _numbers(retried.json(), *first.json()) == _numbers(first.json(), *first.json())
    assert await _events(hub) == 1
    assert len(await sms_to(hub, UYUT_PHONE)) == 1
    # The same decision number given to the other company is another event.
    other = await _post_event(client, supervisor, "S-2026-77", company="comfort")
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]
    assert await _events(hub) == 2


async def test_only_the_company_itself_appeals_its_deduction(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    supervisor = await staff_key(hub, Role.SUPERVISOR)
    sanction = await _post_event(client, supervisor, "S-2026-9")
    url = f"{API}/score/events/{sanction.json()['id']}/appeal"
    body = {"text": "Not our estate", "evidence": ["contract scan"]}

    other_company = await client.post(url, json=body, headers=await company_key(hub, "comfort"))
    assert other_company.status_code == 404
    for staff in (supervisor, await staff_key(hub, Role.ADMIN)):
        assert (await client.post(url, json=body, headers=staff)).status_code == 403
    assert (await event_now(hub, sanction.json()["id"])).status == ScoreStatus.PENDING

    comfort_sees = await client.get(
        f"{API}/score/events", headers=await company_key(hub, "comfort")
    )
    assert (comfort_sees.status_code, comfort_sees.json()) == (200, [])
    own = await client.post(url, json=body, headers=await company_key(hub, "uyut"))
    assert own.status_code == 200, own.text
    assert (own.json()["appeal_text"], own.json()["evidence"]) == (
        "Not our estate",
        ["contract scan"],
    )
    again = await client.post(url, json=body, headers=await company_key(hub, "uyut"))
    assert again.status_code == 409


async def test_only_a_city_wide_supervisor_decides_an_appeal(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    supervisor = await staff_key(hub, Role.SUPERVISOR)
    uyut = await company_key(hub, "uyut")
    sanction = await _post_event(client, supervisor, "S-2026-10")
    url = f"{API}/score/events/{sanction.json()['id']}/decision"
    body = {"decision": "upheld", "reason": "fine"}

    # A pending deduction nobody appealed is not there to decide.
    assert (await client.post(url, json=body, headers=supervisor)).status_code == 409
    await client.post(
        f"{API}/score/events/{sanction.json()['id']}/appeal",
        json={"text": "Wrong building"},
        headers=uyut,
    )
    for headers in (
        uyut,
        await staff_key(hub, Role.INSPECTOR),
        await staff_key(hub, Role.DEPARTMENT),
        await staff_key(hub, Role.SUPERVISOR, district="north"),
    ):
        assert (await client.post(url, json=body, headers=headers)).status_code == 403
    assert (await event_now(hub, sanction.json()["id"])).status == ScoreStatus.APPEALED

    decided = await client.post(url, json=body, headers=supervisor)
    assert (decided.status_code, decided.json()["status"]) == (200, "withdrawn")
    assert decided.json()["decision_reason"] == "fine"


async def test_the_ranking_is_public_in_json_and_csv(hub: Hub, client: httpx.AsyncClient) -> None:
    # comfort gets an upheld complaint that is confirmed: 60 − 2 = 58 → C.
    event = await record_at(hub, utcnow(), "comfort", ScoreKind.UPHELD_COMPLAINT, "complaint:x")
    assert event.appeal_by is not None
    async with transaction(hub.session_factory) as session:
        later = event.appeal_by + timedelta(seconds=1)
        assert await integrity.confirm_unappealed(db_session=session, now=later) == 1

    response = await client.get(f"{API}/ranking", params={"lang": "ru"})
    assert response.status_code == 200
    assert _numbers(response.json()[1], *RANKING_FIELDS) == (
        2,
        "comfort",
        "УК «Комфорт-Сервис»",
        D(58),
        "C",
        D(60),
        D(0),
        D(2),
        1,
    )

    table = await client.get(f"{API}/ranking.csv")
    assert table.status_code == 200
    assert table.headers["content-type"] == "text/csv; charset=utf-8"
    assert list(csv.reader(io.StringIO(table.text))) == [
        ["rank", "company", "name", "score", "band", "basic", "good", "bad", "upheld_complaints"],
        ["1", "uyut", "Uyut Housing", "70.00", "A", "70.00", "0.00", "0.00", "0"],
        ["2", "comfort", "Comfort Service", "58.00", "C", "60.00", "0.00", "2.00", "1"],
    ]


async def test_a_company_sees_only_its_own_score(hub: Hub, client: httpx.AsyncClient) -> None:
    uyut = await company_key(hub, "uyut")
    assert (await client.get(f"{API}/companies/uyut/score", headers=uyut)).status_code == 200
    assert (await client.get(f"{API}/companies/comfort/score", headers=uyut)).status_code == 404
    assert (await client.get(f"{API}/companies/uyut/score")).status_code == 401


async def test_a_deduction_is_announced_to_the_company_by_sms_in_its_language(hub: Hub) -> None:
    event = await record_at(hub, T0, "uyut", ScoreKind.SANCTION, "notice:1", estate="gardens")
    (notice,) = await sms_to(hub, UYUT_PHONE)
    assert (notice.channel, notice.language, notice.kind) == ("sms", "ru", "notice")
    # 10 points (×1), appeal by T0 + 10 days = 2026-03-12 in Moscow.
    assert notice.text == (
        "Уведомление о снятии баллов: 10 баллов за «Административное взыскание». "
        "Обжаловать с доказательствами можно до 12 марта 2026."
    )

    await appeal_at(hub, T0 + timedelta(days=1), event.id, "uyut", "Repaired")
    await decide_at(hub, T0 + timedelta(days=2), event.id, AppealDecision.REFUSED)
    decided = (await sms_to(hub, UYUT_PHONE))[-1]
    assert decided.text == "Ваша жалоба на снятие баллов (10 баллов): отклонена, баллы сняты."


async def test_an_award_needs_no_notice(hub: Hub) -> None:
    await record_at(hub, T0, "uyut", ScoreKind.AWARD, "notice:award")
    assert await sms_to(hub, UYUT_PHONE) == []


async def test_an_upheld_complaint_deducts_after_notice_and_counts_once_confirmed(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    from core.intake import service as intake

    # The owner of flat 1 in b001 lives in gardens, which uyut serves.
    received = await intake.receive(
        hub=hub, message=inbound("Лифт не работает третий день", sender="+79001000001")
    )
    assert received.ticket_number is not None
    # Nobody answers: the sweep hands the complaint to the authority.
    routing = await hub.routing.get()
    async with transaction(hub.session_factory) as session:
        ctx = Context(SYSTEM, routing, hub.settings, utcnow() + timedelta(days=30))
        swept = await sweep(db_session=session, ctx=ctx)
    assert swept.escalated == [received.ticket_id]
    finding = await client.post(
        f"{API}/complaints/{received.ticket_number}/finding",
        json={"upheld": True, "note": "The lift was idle for three days"},
        headers=await staff_key(hub, Role.INSPECTOR),
    )
    assert finding.status_code == 200, finding.text

    events = await client.get(
        f"{API}/score/events", headers=await company_key(hub, "uyut"), params={"status": "pending"}
    )
    (event,) = events.json()
    # Upheld complaint on a residential estate of a 18,500.50 m² company: 2 × 1 × 1.
    assert (event["kind"], event["complaint"], event["points"]) == (
        "upheld_complaint",
        received.ticket_number,
        "2.00",
    )
    assert await _ranking(client) == [("uyut", "70.00", "A"), ("comfort", "60.00", "B")]

    async with transaction(hub.session_factory) as session:
        later = datetime.fromisoformat(event["appeal_by"]) + timedelta(seconds=1)
        assert await integrity.confirm_unappealed(db_session=session, now=later) == 1
    # 70 − 2 = 68 → B.
    assert await _ranking(client) == [("uyut", "68.00", "B"), ("comfort", "60.00", "B")]


async def test_a_sanction_sent_several_times_at_once_is_one_event_with_one_notice(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    supervisor = await staff_key(hub, Role.SUPERVISOR)
    sent = await asyncio.gather(
        *(_post_event(client, supervisor, "S-race", estate="gardens") for _ in range(4))
    )
    assert {(r.status_code, r.json()["id"]) for r in sent} == {(201, sent[0].json()["id"])}
    assert await _events(hub) == 1
    assert len(await sms_to(hub, UYUT_PHONE)) == 1


async def test_two_decisions_at_once_decide_an_appeal_once(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    supervisor = await staff_key(hub, Role.SUPERVISOR)
    sanction = await _post_event(client, supervisor, "S-twice")
    event_id = sanction.json()["id"]
    await client.post(
        f"{API}/score/events/{event_id}/appeal",
        json={"text": "Wrong building"},
        headers=await company_key(hub, "uyut"),
    )
    decided = await asyncio.gather(
        *(
            client.post(
                f"{API}/score/events/{event_id}/decision",
                json={"decision": decision, "reason": "checked"},
                headers=supervisor,
            )
            for decision in ("upheld", "refused")
        )
    )
    assert sorted(r.status_code for r in decided) == [200, 409]
    # The pre-deduction notice and one decision notice, not two.
    assert len(await sms_to(hub, UYUT_PHONE)) == 2
