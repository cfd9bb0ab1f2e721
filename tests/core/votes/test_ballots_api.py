"""A ballot's life over the API: written (checked against its rule set and the caller's
scope), changed or deleted only as a draft, published, cancelled, opened and closed by the
lifecycle job (each step once), closed early with a reason, paper votes and the tally."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core.auth.enums import Role, ScopeKind
from core.db import transaction, utcnow
from core.notices.models import Notice
from core.outbox.models import OutboxMessage
from core.runtime import Hub
from core.votes import ballots
from core.votes.enums import BallotStatus, PhoneStatus
from core.votes.jobs import run_ballots
from core.votes.models import Ballot, Owner, OwnerPhone
from core.votes.rules import get_rule_set
from tests.core.votes.factories import (
    SPOUSE,
    TIMEZONE,
    ballot_body,
    committee_key,
    open_ballot_via_api,
    owner_phone,
)
from tests.factories import api_key

API = "/api/v1/votes"
REASON = "The management company resigned"
B001_PHONES = {*(owner_phone(1, flat) for flat in range(1, 7)), SPOUSE}


def dates(notice: float, opens: float, closes: float) -> dict[str, str]:
    """Returns a ballot's dates as days from now."""
    start = utcnow().replace(microsecond=0)
    return {
        name: (start + timedelta(days=days)).isoformat()
        for name, days in (("notice_at", notice), ("opens_at", opens), ("closes_at", closes))
    }


def china(**overrides: Any) -> dict[str, Any]:
    """Returns a Chinese-rules ballot of the whole of Riverside Gardens (the owners' assembly
    is the estate's), voting told 16 days ahead."""
    body = {
        "scope": "estate",
        "estate": "gardens",
        "building": None,
        "rule_set": "cn-civil-code",
        "language": "zh",
        "questions": [{"matter": "other", "texts": {"zh": "建儿童游乐场？", "en": "Playground?"}}],
        **dates(1, 17, 27),
    }
    return {**body, **overrides}


async def create(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> Any:
    return await client.post(f"{API}/ballots", json=ballot_body(**overrides), headers=headers)


async def created(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> int:
    answer = await create(client, headers, **overrides)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


async def count_ballots(hub: Hub) -> int:
    async with hub.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(Ballot)) or 0)


async def ballot_row(hub: Hub, ballot_id: int) -> Ballot:
    async with hub.session_factory() as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        return ballot


async def paper(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ballot_id: int,
    owner: str,
    choices: dict[str, str],
    reference: str,
) -> httpx.Response:
    return await client.post(
        f"{API}/ballots/{ballot_id}/paper-votes",
        json={"owner": owner, "choices": choices, "reference": reference},
        headers=headers,
    )


async def test_a_new_ballot_is_a_draft_with_agree_disagree_abstain(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    answer = await create(client, headers)
    assert answer.status_code == 201, answer.text
    ballot = answer.json()
    rules = get_rule_set("ru-housing-code")
    assert (ballot["status"], ballot["scope"], ballot["estate"], ballot["building"]) == (
        "draft",
        "building",
        "gardens",
        "b001",
    )
    assert (ballot["edition"], ballot["rules_digest"]) == (rules.edition, rules.digest)
    assert ballot["count_policy"] == "last"
    assert set(ballot["channels"]) == {"sms", "telegram", "web", "kiosk", "voice", "paper"}
    assert ballot["electorate_digest"] is None and ballot["total_area"] is None
    [question] = ballot["questions"]
    assert (question["position"], question["threshold"]) == (1, "ru_majority")
    assert question["options"] == [
        {"code": "1", "kind": "for", "labels": {"en": "Agree", "ru": "За", "zh": "同意"}},
        {
            "code": "2",
            "kind": "against",
            "labels": {"en": "Disagree", "ru": "Против", "zh": "不同意"},
        },
        {
            "code": "3",
            "kind": "abstain",
            "labels": {"en": "Abstain", "ru": "Воздержался", "zh": "弃权"},
        },
    ]
    again = await client.get(f"{API}/ballots/{ballot['id']}", headers=headers)
    assert again.status_code == 200 and again.json() == ballot


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (lambda: dates(1, 10, 24), "at least 10 days before voting opens (ru-housing-code)"),
        (lambda: dates(1, 12, 18), "voting must last at least 7 days"),
        (lambda: dates(1, 12, 73), "voting may last at most 60 days"),
        (lambda: china(**dates(1, 15, 25)), "at least 15 days before voting opens (cn-civil-code)"),
        (lambda: dates(1, 26, 12), "the notice must come first"),
        (lambda: dates(-1, 12, 26), "the notice date has passed"),
        (lambda: {"rule_set": "xx-code"}, "no rule set 'xx-code'"),
        (lambda: {"edition": "1999"}, "no rule set 'ru-housing-code' 1999"),
        (
            lambda: {"questions": [{"matter": "lottery", "texts": {"ru": "Лотерея?"}}]},
            "has no matter 'lottery'",
        ),
        (
            lambda: china(questions=[{"matter": "capital_repair", "texts": {"zh": "大修？"}}]),
            "no matter",
        ),
        (
            lambda: {"questions": [{"matter": "default", "texts": {"en": "Why?"}}]},
            "question 1 must be",
        ),
        (
            lambda: {"titles": {"en": "Playground"}},
            "the title must be given in the ballot's language",
        ),
        (lambda: {"details": {"en": "Long story"}}, "the details must be given"),
        (lambda: china(estate="nowhere"), "no estate 'nowhere'"),
        (lambda: {"building": "b999"}, "no building 'b999'"),
    ],
)
async def test_a_ballot_breaking_its_rules_is_refused_with_the_reason(
    hub: Hub, client: httpx.AsyncClient, overrides: Callable[[], dict[str, Any]], message: str
) -> None:
    before = await count_ballots(hub)
    answer = await create(client, await committee_key(hub), **overrides())
    assert answer.status_code == 409, answer.text
    assert message in answer.json()["detail"]
    assert await count_ballots(hub) == before


@pytest.mark.parametrize(
    "overrides",
    [
        lambda: dates(1, 11, 18),  # exactly 10 days' notice, exactly 7 days of voting
        lambda: dates(1, 11, 71),  # exactly 60 days of voting
        lambda: china(**dates(1, 16, 17)),  # exactly 15 days' notice
        lambda: {"details": {"ru": "Подробности", "en": "Details"}},
    ],
    ids=["notice-10-voting-7", "voting-60", "china-notice-15", "details-in-language"],
)
async def test_a_ballot_just_inside_its_rules_is_accepted(
    hub: Hub, client: httpx.AsyncClient, overrides: Callable[[], dict[str, Any]]
) -> None:
    answer = await create(client, await committee_key(hub), **overrides())
    assert answer.status_code == 201, answer.text


async def test_malformed_ballots_are_422(hub: Hub, client: httpx.AsyncClient) -> None:
    headers = await committee_key(hub)
    before = await count_ballots(hub)
    question = {"matter": "default", "texts": {"ru": "Вопрос?"}}
    naive = {k: v.replace("+00:00", "") for k, v in dates(1, 12, 26).items()}
    assert all("+" not in v for v in naive.values())
    for overrides in (
        {"questions": [question] * 10},
        {"questions": []},
        {"status": "open"},
        {"questions": [{**question, "weight": 2}]},
        naive,
        {"language": "de"},
    ):
        answer = await create(client, headers, **overrides)
        assert answer.status_code == 422, (overrides, answer.text)
    assert await count_ballots(hub) == before


async def test_a_long_sms_ballot_needs_the_cost_confirmed(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    long_text = "Утвердить смету работ по благоустройству двора и детской площадки. " * 4
    questions = [{"matter": "default", "texts": {"ru": long_text.strip()}} for _ in range(4)]
    refused = await create(client, headers, questions=questions)
    assert refused.status_code == 409, refused.text
    assert "over the limit of 3" in refused.json()["detail"]
    assert "confirm_long" in refused.json()["detail"]
    accepted = await create(client, headers, questions=questions, confirm_long=True)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["sms_parts"] > 3
    # Without the SMS channel the length costs nothing.
    no_sms = await create(client, headers, questions=questions, channels=["paper", "web"])
    assert no_sms.status_code == 201, no_sms.text


async def test_a_committee_calls_ballots_only_in_its_own_estate(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    before = await count_ballots(hub)
    other_estate = await create(client, headers, **china(estate="north_park"))
    assert other_estate.status_code == 409, other_estate.text
    assert "north_park" in other_estate.json()["detail"]
    other_building = await create(client, headers, scope="building", building="b006", estate=None)
    assert other_building.status_code == 409, other_building.text
    assert await count_ballots(hub) == before
    # Its own estate's building is fine, and a city admin may call North Park's ballots.
    own = await create(client, headers, scope="building", building="b003", estate=None)
    assert own.status_code == 201 and own.json()["building"] == "b003"
    admin = await api_key(hub, Role.ADMIN)
    assert (await create(client, admin, **china(estate="north_park"))).status_code == 201
    assert (await create(client, admin, building="b006")).status_code == 201


async def test_inspectors_read_agents_see_nothing(hub: Hub, client: httpx.AsyncClient) -> None:
    ballot_id = await created(client, await committee_key(hub))
    inspector = await api_key(hub, Role.INSPECTOR)
    listed = await client.get(f"{API}/ballots", headers=inspector)
    assert listed.status_code == 200 and ballot_id in [b["id"] for b in listed.json()]
    assert (await client.get(f"{API}/ballots/{ballot_id}", headers=inspector)).status_code == 200
    assert (await create(client, inspector)).status_code == 403
    publish = await client.post(f"{API}/ballots/{ballot_id}/publish", headers=inspector)
    assert publish.status_code == 403
    agent = await api_key(hub, Role.AGENT)
    assert (await client.get(f"{API}/ballots", headers=agent)).status_code == 403
    assert (await client.get(f"{API}/ballots/{ballot_id}", headers=agent)).status_code == 403
    assert (await ballot_row(hub, ballot_id)).status == BallotStatus.DRAFT


async def test_a_district_supervisor_sees_only_its_district(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    admin = await api_key(hub, Role.ADMIN)
    # The estate's ballot belongs to its first building's district (b001, north); a ballot
    # of building b003 to central.
    estate_id = await created(client, admin, **china())
    central_id = await created(client, admin, scope="building", building="b003", estate=None)
    north = await api_key(hub, Role.SUPERVISOR, ScopeKind.DISTRICT, "north")
    seen = [b["id"] for b in (await client.get(f"{API}/ballots", headers=north)).json()]
    assert estate_id in seen and central_id not in seen
    assert (await client.get(f"{API}/ballots/{central_id}", headers=north)).status_code == 404
    publish = await client.post(f"{API}/ballots/{central_id}/publish", headers=north)
    assert publish.status_code == 404
    assert (await client.delete(f"{API}/ballots/{central_id}", headers=north)).status_code == 404
    central = await api_key(hub, Role.SUPERVISOR, ScopeKind.DISTRICT, "central")
    seen = [b["id"] for b in (await client.get(f"{API}/ballots", headers=central)).json()]
    assert central_id in seen and estate_id not in seen
    # The estate's committee sees both: b003 is one of its buildings.
    committee = await committee_key(hub)
    seen = [b["id"] for b in (await client.get(f"{API}/ballots", headers=committee)).json()]
    assert {estate_id, central_id} <= set(seen)
    assert (await ballot_row(hub, central_id)).status == BallotStatus.DRAFT


async def test_only_a_draft_changes_or_is_deleted(hub: Hub, client: httpx.AsyncClient) -> None:
    headers = await committee_key(hub)
    ballot_id = await created(client, headers)
    url = f"{API}/ballots/{ballot_id}"
    two = [
        {"matter": "default", "texts": {"ru": "Покрасить фасад?"}},
        {"matter": "capital_repair", "texts": {"ru": "Заменить крышу?"}},
    ]
    changed = await client.put(
        url, json=ballot_body(questions=two, confirm_long=True), headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert [(q["position"], q["threshold"]) for q in changed.json()["questions"]] == [
        (1, "ru_majority"),
        (2, "ru_two_thirds_of_all"),
    ]
    bad = await client.put(url, json=ballot_body(**dates(1, 5, 20)), headers=headers)
    assert bad.status_code == 409
    published = await client.post(f"{url}/publish", headers=headers)
    assert published.status_code == 200 and published.json()["status"] == "scheduled"
    assert (await client.post(f"{url}/publish", headers=headers)).status_code == 409
    late = await client.put(url, json=ballot_body(), headers=headers)
    assert late.status_code == 409 and "only a draft can change" in late.json()["detail"]
    assert (await client.delete(url, headers=headers)).status_code == 409
    after = (await client.get(url, headers=headers)).json()
    assert after["status"] == "scheduled" and len(after["questions"]) == 2

    draft_id = await created(client, headers)
    assert (await client.delete(f"{API}/ballots/{draft_id}", headers=headers)).status_code == 204
    assert (await client.get(f"{API}/ballots/{draft_id}", headers=headers)).status_code == 404


async def test_a_ballot_is_cancelled_before_it_opens_with_a_reason(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await created(client, headers)
    url = f"{API}/ballots/{ballot_id}"
    await client.post(f"{url}/publish", headers=headers)
    short = await client.post(f"{url}/cancel", json={"reason": "no"}, headers=headers)
    assert short.status_code == 422
    cancelled = await client.post(f"{url}/cancel", json={"reason": REASON}, headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["end_reason"]) == ("cancelled", REASON)
    again = await client.post(f"{url}/cancel", json={"reason": REASON}, headers=headers)
    assert again.status_code == 409
    async with hub.session_factory() as session:
        steps = await ballots.due_steps(db_session=session, now=utcnow() + timedelta(days=90))
    assert all(ballot != ballot_id for _step, ballot in steps)

    open_id = await open_ballot_via_api(hub, client, headers)
    too_late = await client.post(
        f"{API}/ballots/{open_id}/cancel", json={"reason": REASON}, headers=headers
    )
    assert too_late.status_code == 409 and "closes early" in too_late.json()["detail"]


async def addresses(hub: Hub, outbox_ids: list[int]) -> set[str]:
    """Returns the phones the outbox rows go to, checking each goes to a different one."""
    async with hub.session_factory() as session:
        found = list(
            await session.scalars(
                select(OutboxMessage.address).where(OutboxMessage.id.in_(outbox_ids))
            )
        )
    assert len(found) == len(set(found)) == len(outbox_ids)
    return set(found)


async def notices_of(hub: Hub, ballot_id: int) -> list[tuple[int, int, dict[str, str]]]:
    """Returns (notice id, outbox rows, texts) of each blast about a ballot, oldest first."""
    async with hub.session_factory() as session:
        notices = (
            await session.execute(
                select(Notice.id, Notice.texts)
                .where(Notice.scope_kind == "ballot", Notice.scope_id == ballot_id)
                .order_by(Notice.id)
            )
        ).all()
        rows = dict(
            (
                await session.execute(
                    select(OutboxMessage.notice_id, func.count())
                    .where(OutboxMessage.notice_id.in_([n for n, _ in notices]))
                    .group_by(OutboxMessage.notice_id)
                )
            ).all()
        )
        return [(int(n), int(rows.get(n, 0)), dict(t)) for n, t in notices]


async def test_an_open_ballot_closes_early_with_a_reason(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    headers = await committee_key(hub)
    ballot_id = await open_ballot_via_api(hub, client, headers)
    url = f"{API}/ballots/{ballot_id}"
    assert (await paper(client, headers, ballot_id, "RS-b001-3", {"1": "1"}, "P-1")).is_success
    short = await client.post(f"{url}/close", json={"reason": "x"}, headers=headers)
    assert short.status_code == 422
    closed = await client.post(f"{url}/close", json={"reason": REASON}, headers=headers)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["status"], body["end_reason"]) == ("closed", REASON)
    assert body["closed_at"] is not None
    ballot = await ballot_row(hub, ballot_id)
    assert ballot.results is not None and ballot.results_sent_at is not None
    assert ballot.results["voted"] == 1
    tally = (await client.get(f"{url}/tally", headers=headers)).json()
    assert tally["final"] is True and tally["questions"] == ballot.results["questions"]
    # The invitation went out at opening, the results now, to the same owners.
    [(_, invited, _), (_, told, texts)] = await notices_of(hub, ballot_id)
    assert told == invited > 0
    # b001's voters: the owners of its six flats and the spouse.
    assert f"№{ballot_id}" in texts["ru"] and "Проголосовали 1 из 7" in texts["ru"]
    assert f"#{ballot_id}" in texts["en"] and "closed" in texts["en"]
    # Closed is closed: no more votes, no second close, and the reason is on the protocol.
    late = await paper(client, headers, ballot_id, "RS-b001-4", {"1": "1"}, "P-2")
    assert late.status_code == 409
    assert (await client.post(f"{url}/close", json={"reason": REASON}, headers=headers)).is_error
    assert (await ballot_row(hub, ballot_id)).results == ballot.results
    protocol = await client.get(f"{url}/protocol.html", headers=headers)
    assert REASON in protocol.text and "досрочно" in protocol.text


async def test_closing_early_needs_an_open_ballot(hub: Hub, client: httpx.AsyncClient) -> None:
    headers = await committee_key(hub)
    ballot_id = await created(client, headers)
    url = f"{API}/ballots/{ballot_id}"
    assert (
        await client.post(f"{url}/close", json={"reason": REASON}, headers=headers)
    ).status_code == 409
    await client.post(f"{url}/publish", headers=headers)
    assert (
        await client.post(f"{url}/close", json={"reason": REASON}, headers=headers)
    ).status_code == 409
    assert (await ballot_row(hub, ballot_id)).status == BallotStatus.SCHEDULED


async def test_each_lifecycle_step_happens_once(hub: Hub, client: httpx.AsyncClient) -> None:
    headers = await committee_key(hub)
    ballot_id = await created(client, headers)
    await client.post(f"{API}/ballots/{ballot_id}/publish", headers=headers)
    ballot = await ballot_row(hub, ballot_id)
    minute = timedelta(minutes=1)

    async def due(now: Any) -> list[str]:
        async with hub.session_factory() as session:
            steps = await ballots.due_steps(db_session=session, now=now)
        return [step for step, found in steps if found == ballot_id]

    async def step(name: str, now: Any) -> list[int]:
        async with transaction(hub.session_factory) as session:
            return await getattr(ballots, f"{name}_ballot")(
                db_session=session, ballot_id=ballot_id, now=now, timezone=TIMEZONE
            )

    assert await due(ballot.notice_at - minute) == []
    assert await due(ballot.notice_at) == ["announce"]
    announced = await step("announce", ballot.notice_at)
    # b001's verified phones: its six flats' owners and the spouse.
    assert await addresses(hub, announced) == B001_PHONES
    assert await step("announce", ballot.notice_at) == []
    assert await due(ballot.notice_at + minute) == []

    assert await step("open", ballot.opens_at - minute) == []
    assert (await ballot_row(hub, ballot_id)).status == BallotStatus.SCHEDULED
    assert await due(ballot.opens_at) == ["open"]
    invited = await step("open", ballot.opens_at)
    assert await addresses(hub, invited) == B001_PHONES
    assert await step("open", ballot.opens_at + minute) == []
    opened = await ballot_row(hub, ballot_id)
    assert opened.status == BallotStatus.OPEN and opened.electorate_digest

    assert await step("close", ballot.closes_at - minute) == []
    assert await due(ballot.closes_at) == ["close"]
    results = await step("close", ballot.closes_at)
    assert await addresses(hub, results) == B001_PHONES
    assert await step("close", ballot.closes_at + minute) == []
    closed = await ballot_row(hub, ballot_id)
    assert (closed.status, closed.closed_at, closed.end_reason) == (
        BallotStatus.CLOSED,
        ballot.closes_at,
        None,
    )
    assert [count for _, count, _ in await notices_of(hub, ballot_id)] == [7, 7, 7]


async def move_back(hub: Hub, ballot_id: int, days: float) -> None:
    """Moves a ballot's dates back, as if the days had gone by."""
    delta = timedelta(days=days)
    async with transaction(hub.session_factory) as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        ballot.notice_at -= delta
        ballot.opens_at -= delta
        ballot.closes_at -= delta


async def test_the_lifecycle_job_runs_the_due_steps(hub: Hub, client: httpx.AsyncClient) -> None:
    headers = await committee_key(hub)
    ballot_id = await created(client, headers)
    await client.post(f"{API}/ballots/{ballot_id}/publish", headers=headers)
    assert await run_ballots({"hub": hub}) == 0
    await move_back(hub, ballot_id, 2)
    assert await run_ballots({"hub": hub}) == 1
    announced = await ballot_row(hub, ballot_id)
    assert (announced.status, announced.invited_at) == (BallotStatus.SCHEDULED, None)
    assert announced.announced_at is not None
    assert await run_ballots({"hub": hub}) == 0
    await move_back(hub, ballot_id, 11)
    assert await run_ballots({"hub": hub}) == 1
    opened = await ballot_row(hub, ballot_id)
    assert opened.status == BallotStatus.OPEN and opened.invited_at is not None
    assert await run_ballots({"hub": hub}) == 0
    await move_back(hub, ballot_id, 15)
    assert await run_ballots({"hub": hub}) == 1
    assert (await ballot_row(hub, ballot_id)).status == BallotStatus.CLOSED
    assert await run_ballots({"hub": hub}) == 0
    assert [count for _, count, _ in await notices_of(hub, ballot_id)] == [7, 7, 7]


async def test_a_pending_phone_is_not_sent_the_ballot(hub: Hub, client: httpx.AsyncClient) -> None:
    async with transaction(hub.session_factory) as session:
        owner = await session.scalar(select(Owner).where(Owner.code == "RS-b001-1"))
        assert owner is not None
        phone = await session.scalar(select(OwnerPhone).where(OwnerPhone.owner_id == owner.id))
        assert phone is not None
        phone.status = PhoneStatus.PENDING
    ballot_id = await open_ballot_via_api(hub, client, await committee_key(hub))
    async with hub.session_factory() as session:
        sent = set(
            await session.scalars(
                select(OutboxMessage.address)
                .join(Notice, Notice.id == OutboxMessage.notice_id)
                .where(Notice.scope_kind == "ballot", Notice.scope_id == ballot_id)
            )
        )
    assert sent == B001_PHONES - {owner_phone(1, 1)}
