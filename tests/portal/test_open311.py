"""Open311 GeoReport v2 (DOMAIN §2) against a real hub: services, requests, tokens, media."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import select, update

from core.auth.enums import Role
from core.auth.models import ApiKey
from core.config import Settings
from core.intake.models import InboundRecord
from core.runtime import Hub
from core.tickets.numbers import format_public_number
from tests.factories import api_key
from tests.portal.open311_helpers import (
    BASE,
    INSIDE,
    OUTSIDE,
    assert_error,
    assert_valid,
    case_of,
    close_case,
    counts,
    created,
    fetch_photos,
    fields_of,
    give_lamps_attributes,
    listed,
    post_request,
    serving_png,
    take_actions,
    xml_root,
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The media server in these tests listens on 127.0.0.1, which production refuses."""
    return settings.model_copy(update={"media_fetch_allow_private": True})


@pytest.fixture
async def key(hub: Hub) -> str:
    """Returns the raw key an Open311 client sends as api_key."""
    return (await api_key(hub))["X-API-Key"]


@pytest.fixture
async def admin(hub: Hub) -> dict[str, str]:
    return await api_key(hub, role=Role.ADMIN)


LAMP = {"service_code": "street_light", **INSIDE}
COVER = {"service_code": "manhole_cover", **INSIDE}


# Services


async def test_services_are_the_city_case_categories(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/services.json")
    assert response.status_code == 200
    assert_valid("services.json", response.json())
    by_code = {service["service_code"]: service for service in response.json()}
    assert {"garbage", "manhole_cover", "street_light"} <= set(by_code)
    # Only city cases: a bill or a stairwell is not a street problem.
    assert not {"stairwell", "bill_question", "meter_reading", "other"} & set(by_code)
    assert by_code["manhole_cover"]["metadata"] is True
    assert by_code["garbage"]["metadata"] is True
    assert by_code["street_light"]["metadata"] is False
    assert by_code["manhole_cover"]["service_name"] == "Manhole cover missing or broken"
    assert by_code["manhole_cover"]["group"] == "Public facilities"
    assert "manhole" in by_code["manhole_cover"]["keywords"].split(",")
    russian = await client.get(f"{BASE}/services.json", params={"locale": "ru"})
    assert {s["service_code"]: s["service_name"] for s in russian.json()}["garbage"] == "Мусор"

    xml = await client.get(f"{BASE}/services.xml")
    assert xml.status_code == 200
    root = xml_root(xml)
    assert root.tag == "services" and {child.tag for child in root} == {"service"}
    services = {item["service_code"]: item for item in map(fields_of, root)}
    assert list(services) == list(by_code)
    assert services["manhole_cover"]["metadata"] == "true"
    assert services["street_light"]["metadata"] == "false"
    assert services["street_light"]["type"] == "realtime"


async def test_service_definition_lists_attributes_with_values(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/services/manhole_cover.json")
    assert response.status_code == 200
    body = response.json()
    assert_valid("service-definition.json", body)
    assert body["service_code"] == "manhole_cover"
    [attribute] = body["attributes"]
    assert attribute["code"] == "cover_state" and attribute["datatype"] == "singlevaluelist"
    assert attribute["required"] is True and attribute["variable"] is True
    assert attribute["description"] == "What is wrong with the cover?"
    values = [("missing", "Missing"), ("broken", "Broken"), ("displaced", "Displaced")]
    assert [(v["key"], v["name"]) for v in attribute["values"]] == values

    root = xml_root(await client.get(f"{BASE}/services/manhole_cover.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "manhole_cover"
    [element] = root.findall("attributes/attribute")
    assert element.findtext("code") == "cover_state" and element.findtext("required") == "true"
    assert [(v.findtext("key"), v.findtext("name")) for v in element.iter("value")] == values


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_unknown_resources_are_404_in_the_spec_shape(
    client: httpx.AsyncClient, fmt: str
) -> None:
    assert_error(await client.get(f"{BASE}/services/unicorns.{fmt}"), 404, fmt, "unicorns")
    assert_error(await client.get(f"{BASE}/widgets.{fmt}"), 404, fmt, "widgets")
    assert_error(await client.get(f"{BASE}/requests/1/notes.{fmt}"), 404, fmt, "unknown")


@pytest.mark.parametrize(
    "path", ["services/street%00light.json", "tokens/a%00b.json", "requests.json?service_code=%00"]
)
async def test_a_nul_character_in_a_query_is_400(client: httpx.AsyncClient, path: str) -> None:
    assert_error(await client.get(f"{BASE}/{path}"), 400, "json", "NUL")


@pytest.mark.parametrize(
    "path", ["services.html", "services/garbage.csv", "requests.yaml", "tokens/abc.txt", "services"]
)
async def test_unknown_format_is_404(client: httpx.AsyncClient, path: str) -> None:
    # The error itself comes in the spec's default format, XML.
    assert_error(await client.get(f"{BASE}/{path}"), 404, "xml")


async def test_jurisdiction_id_must_be_the_citys(
    client: httpx.AsyncClient, hub: Hub, settings: Settings, key: str
) -> None:
    ours = settings.open311_jurisdiction
    wrong = await client.get(f"{BASE}/services.json", params={"jurisdiction_id": "elsewhere"})
    assert_error(wrong, 404, "json", "jurisdiction")
    right = await client.get(f"{BASE}/services.json", params={"jurisdiction_id": ours})
    assert right.status_code == 200 and right.json()
    # A POST carries every argument in its form body, jurisdiction_id included.
    posted = await post_request(client, key, jurisdiction_id="elsewhere", **LAMP)
    assert_error(posted, 404, "json", "jurisdiction")
    assert await counts(hub) == (0, 0)
    accepted = await post_request(client, key, jurisdiction_id=ours, **LAMP)
    assert accepted.status_code == 200, accepted.text


# POST requests


async def test_a_request_at_a_point_becomes_an_accepted_city_case(
    client: httpx.AsyncClient, hub: Hub, key: str, admin: dict[str, str]
) -> None:
    response = await post_request(
        client,
        key,
        service_code="manhole_cover",
        description="The cover is cracked in two",
        email="resident@example.org",
        **{"attribute[cover_state]": "broken"},
        **INSIDE,
    )
    assert response.status_code == 200, response.text
    [item] = response.json()
    assert item["service_request_id"] and item["token"]
    assert await counts(hub) == (1, 1)

    case = await case_of(client, admin, item["service_request_id"])
    assert case["stage"] == "accepted" and case["channel"] == "open311"
    assert case["category"] == "manhole_cover" and case["grid_cell"] == "RS0001"
    assert (case["latitude"], case["longitude"]) == (55.75, 37.60)
    assert case["attributes"] == {"cover_state": "broken"}
    assert "register" in case["actions"]  # an ordinary case, registered like any other
    # The reporter's e-mail stays in the raw record, out of addresses and public answers.
    async with hub.session_factory() as session:
        record = await session.scalar(select(InboundRecord))
    assert record is not None and "example.org" not in record.sender_address
    assert "resident@example.org" not in (await client.get(f"{BASE}/requests.json")).text


@pytest.mark.parametrize(
    ("fields", "grid_cell", "point", "address"),
    [
        ({"address_string": "Central Market"}, "RS0007", (55.754, 37.606), "Central Market"),
        # An address_id is kept as the place's name, so the case says where it is.
        ({"address_id": "b001"}, "RS0001", (55.75, 37.60), "Lenin Street, 1"),
        ({"address_id": "station"}, "RS0013", (55.758, 37.612), "Railway Station"),
        # An address nobody can place is still taken: a person will place it.
        (
            {"address_string": "Behind the old water tower"},
            None,
            (None, None),
            "Behind the old water tower",
        ),
    ],
)
async def test_an_address_is_placed_on_the_grid(
    client: httpx.AsyncClient,
    key: str,
    admin: dict[str, str],
    fields: dict[str, str],
    grid_cell: str | None,
    point: tuple[float | None, float | None],
    address: str,
) -> None:
    case = await case_of(client, admin, await created(client, key, **fields))
    assert case["stage"] == "accepted" and case["grid_cell"] == grid_cell
    assert (case["latitude"], case["longitude"]) == pytest.approx(point)
    assert case["address"] == address


REFUSALS = [
    ("no key", LAMP, 403, "api_key"),
    ("wrong key", LAMP, 403, "api_key"),
    ("revoked key", LAMP, 403, "api_key"),
    ("", INSIDE, 400, "service_code"),
    ("", {**INSIDE, "service_code": "unicorns"}, 400, "unicorns"),
    ("", {**INSIDE, "service_code": "bill_question"}, 400, "bill_question"),
    ("", {"service_code": "street_light"}, 400, "location"),
    ("", {"service_code": "street_light", "lat": "55.75"}, 400, "long"),
    ("", {**LAMP, "lat": "north"}, 400, "lat"),
    ("", {**LAMP, "lat": "95"}, 400, "lat"),
    ("", {**LAMP, "lat": "nan"}, 400, "lat"),
    ("", {**LAMP, **OUTSIDE}, 400, "grid"),
    ("", {"service_code": "street_light", "address_id": "b999"}, 400, "address_id"),
    ("", COVER, 400, "cover_state"),
    ("", {**COVER, "attribute[cover_state]": "gone"}, 400, "one of"),
    ("", {**COVER, "attribute[cover_state][x]": "broken"}, 400, "attribute"),
    ("", {**INSIDE, "service_code": "garbage", "attribute[colour]": "red"}, 400, "colour"),
    ("", {**LAMP, "description": "x" * 4001}, 400, "4000"),
    ("", {**LAMP, "media_url": "ftp://a.example/p.png"}, 400, "media_url"),
    # PostgreSQL cannot store a NUL character, nor compare with one.
    ("", {**LAMP, "description": "Lamp\x00out"}, 400, "NUL"),
    ("", {**INSIDE, "service_code": "street\x00light"}, 400, "NUL"),
    ("", {"service_code": "street_light", "address_string": "Lenin\x00 Street"}, 400, "NUL"),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("who", "fields", "status", "words"), REFUSALS)
async def test_refused_requests_say_why_and_write_nothing(
    client: httpx.AsyncClient,
    hub: Hub,
    key: str,
    fmt: str,
    who: str,
    fields: dict[str, str],
    status: int,
    words: str,
) -> None:
    if who == "revoked key":
        async with hub.session_factory() as session, session.begin():
            await session.execute(update(ApiKey).values(active=False))
    sent_key = {"no key": None, "wrong key": "hub_not-a-real-key"}.get(who, key)
    response = await post_request(client, sent_key, fmt, **fields)
    assert_error(response, status, fmt, words)
    assert await counts(hub) == (0, 0)


async def test_a_retried_post_returns_the_same_request(
    client: httpx.AsyncClient, hub: Hub, key: str
) -> None:
    fields = {"service_code": "garbage", "description": "Bags by the bins", **INSIDE}
    first = await post_request(client, key, **fields)
    second = await post_request(client, key, **fields)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    # Retries racing each other (a client's timeout fired while the first was in flight).
    racing = await asyncio.gather(*(post_request(client, key, **fields) for _ in range(3)))
    assert {r.status_code for r in racing} == {200}
    assert {r.text for r in racing} == {first.text}
    assert await counts(hub) == (1, 1)
    # A different report from the same client is a new request.
    third = await post_request(client, key, **{**fields, "description": "And a sofa"})
    assert third.status_code == 200
    assert third.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]
    assert await counts(hub) == (2, 2)


async def test_list_number_and_datetime_attributes(
    client: httpx.AsyncClient, hub: Hub, key: str, admin: dict[str, str]
) -> None:
    await give_lamps_attributes(client, admin)
    definition = (await client.get(f"{BASE}/services/street_light.json")).json()
    assert_valid("service-definition.json", definition)
    datatypes = [a["datatype"] for a in definition["attributes"]]
    assert datatypes == ["multivaluelist", "number", "datetime"]

    # The spec's form of a multivaluelist: attribute[code][]=value, once per value.
    response = await client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": key,
            "service_code": "street_light",
            **INSIDE,
            "attribute[faults][]": ["dark", "leaning"],
            "attribute[height]": "7.5",
            "attribute[seen_at]": "2026-05-03T21:00:00+03:00",
        },
    )
    assert response.status_code == 200, response.text
    case = await case_of(client, admin, response.json()[0]["service_request_id"])
    assert case["attributes"] == {
        "faults": ["dark", "leaning"],
        "height": 7.5,
        "seen_at": "2026-05-03T21:00:00+03:00",
    }
    before = await counts(hub)
    wrong = [("faults", "broken"), ("height", "tall"), ("height", "inf"), ("seen_at", "May"),
             ("seen_at", "2026-05-03T21:00:00")]  # fmt: skip
    for name, value in wrong:
        refused = await post_request(client, key, **LAMP, **{f"attribute[{name}]": value})
        assert_error(refused, 400, "json", name)
    assert await counts(hub) == before


# GET requests


async def test_listed_requests_show_what_was_reported(client: httpx.AsyncClient, key: str) -> None:
    fields = {"service_code": "garbage", "description": "A heap", "attribute[volume]": "heap"}
    number = await created(client, key, **fields, **INSIDE)
    response = await client.get(f"{BASE}/requests.json")
    assert response.status_code == 200
    [item] = response.json()
    assert_valid("requests.json", response.json())
    assert item["service_request_id"] == number
    assert item["status"] == "open" and item["status_notes"] == "Accepted"
    assert item["service_code"] == "garbage" and item["service_name"] == "Exposed garbage"
    assert item["description"] == "A heap"
    assert (item["lat"], item["long"]) == (55.75, 37.60)
    requested = datetime.fromisoformat(item["requested_datetime"])
    assert abs(requested - datetime.now(UTC)) < timedelta(minutes=5)

    root = xml_root(await client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests" and [r.tag for r in root] == ["request"]
    xml = fields_of(root[0])
    assert xml["service_request_id"] == number and xml["status"] == "open"
    assert xml["service_code"] == "garbage" and xml["description"] == "A heap"
    assert xml["lat"] == "55.75" and "media_url" not in xml
    assert xml["requested_datetime"] == item["requested_datetime"]


async def test_xml_survives_control_characters_in_a_description(
    client: httpx.AsyncClient, key: str
) -> None:
    number = await created(client, key, description="Lamp\x01 out\x0b again\x1f!", **INSIDE)
    response = await client.get(f"{BASE}/requests/{number}.xml")
    assert response.status_code == 200
    assert fields_of(xml_root(response)[0])["description"] == "Lamp out again!"


async def test_only_city_cases_are_shown_and_only_open311_words(
    client: httpx.AsyncClient, hub: Hub, key: str
) -> None:
    numbers = []
    for text, category in [("Rubbish by flat 12, Ivan Petrov", "garbage"), ("Dark", "stairwell")]:
        body = {"channel": "sms", "sender_address": "+79005550101", "text": text}
        response = await client.post(
            "/api/v1/tickets", json={**body, "category_code": category}, headers=await api_key(hub)
        )
        assert response.status_code == 201, response.text
        numbers.append(response.json()["number"])
    sms_number, stairwell_number = numbers
    ours = await created(client, key, description="Lamp out", **INSIDE)

    response = await client.get(f"{BASE}/requests.json")
    assert {i["service_request_id"] for i in response.json()} == {ours, sms_number}
    # A text message may hold names and flat numbers meant for the city alone.
    assert "Ivan" not in response.text
    [sms_item] = (await client.get(f"{BASE}/requests/{sms_number}.json")).json()
    assert sms_item["service_code"] == "garbage" and "description" not in sms_item
    assert_error(await client.get(f"{BASE}/requests/{stairwell_number}.json"), 404, "json")
    assert await listed(client, service_request_id=stairwell_number) == []


async def test_filter_by_id_list_and_by_service_code(client: httpx.AsyncClient, key: str) -> None:
    first, second, third = [await created(client, key, description=d, **INSIDE) for d in "abc"]
    rubbish = await created(client, key, service_code="garbage", **INSIDE)
    ids = f"{first}, {third},{format_public_number(999_999)},12345"
    # Unknown ids are left out; the id list overrides every other filter (GeoReport v2).
    assert sorted(await listed(client, service_request_id=ids, service_code="x")) == [first, third]
    assert await listed(client, service_code="garbage") == [rubbish]
    both = await listed(client, service_code="garbage,street_light")
    assert sorted(both) == sorted([first, second, third, rubbish])
    assert await listed(client, service_code="unicorns") == []


async def test_filter_by_status_and_a_closed_requests_notes(
    client: httpx.AsyncClient, key: str, admin: dict[str, str]
) -> None:
    still_open = await created(client, key, description="Lamp out", **INSIDE)
    closing = await created(client, key, description="Other lamp out", **INSIDE)
    await close_case(client, admin, closing, "Lamp replaced on 3 May")

    await take_actions(client, admin, still_open, {"action": "register"})
    [dispatched] = (await client.get(f"{BASE}/requests/{still_open}.json")).json()
    assert dispatched["status"] == "open" and dispatched["status_notes"] == "Dispatched"
    assert dispatched["agency_responsible"] == "Roads and Lighting"
    assert datetime.fromisoformat(dispatched["expected_datetime"]) > datetime.now(UTC)

    assert await listed(client, status="open") == [still_open]
    assert await listed(client, status="closed") == [closing]
    assert set(await listed(client, status="open,closed")) == {still_open, closing}

    [item] = (await client.get(f"{BASE}/requests/{closing}.json")).json()
    assert_valid("request.json", item)
    assert item["status"] == "closed" and item["status_notes"] == "Lamp replaced on 3 May"
    assert item["agency_responsible"] == "Roads and Lighting"
    assert "expected_datetime" not in item
    at = datetime.fromisoformat
    assert at(item["updated_datetime"]) > at(item["requested_datetime"])
    xml = fields_of(xml_root(await client.get(f"{BASE}/requests/{closing}.xml"))[0])
    assert xml["status"] == "closed" and xml["status_notes"] == "Lamp replaced on 3 May"


async def test_filter_by_dates(client: httpx.AsyncClient, key: str) -> None:
    number = await created(client, key, **INSIDE)
    now = datetime.now(UTC)
    hour = timedelta(hours=1)
    around = {"start_date": (now - hour).isoformat(), "end_date": (now + hour).isoformat()}
    assert await listed(client, **around) == [number]
    # The same moment written with another offset, and with Z.
    moscow = (now - hour).astimezone(timezone(timedelta(hours=3)))
    assert await listed(client, start_date=moscow.isoformat()) == [number]
    later = (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert await listed(client, start_date=later) == []
    assert await listed(client, end_date=(now - timedelta(days=1)).isoformat()) == []
    assert await listed(client, end_date=(now + timedelta(days=1)).isoformat()) == [number]
    # Without dates: the last 90 days; a window 90 days back no longer holds it.
    assert await listed(client) == [number]
    old = now - timedelta(days=100)
    assert await listed(client, start_date=old.isoformat()) == []


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"}, "90 days"),
        ({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"}, "after"),
        ({"start_date": "2026-03-01T00:00:00"}, "timezone"),
        ({"end_date": "2026-03-01"}, "timezone"),
        ({"end_date": "yesterday"}, "end_date"),
        ({"start_date": "2026-13-45T00:00:00Z"}, "start_date"),
        ({"start_date": "9999-12-31T00:00:00Z"}, "years"),
        ({"end_date": "0001-01-01T00:00:00+01:00"}, "years"),
        ({"status": "pending"}, "status"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_bad_filters_are_400(
    client: httpx.AsyncClient, params: dict[str, str], words: str, fmt: str
) -> None:
    response = await client.get(f"{BASE}/requests.{fmt}", params=params)
    assert_error(response, 400, fmt, words)


# GET requests/{id} and tokens/{token}


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_one_request_by_id(client: httpx.AsyncClient, key: str, fmt: str) -> None:
    number = await created(client, key, service_code="garbage", address_id="b001")
    response = await client.get(f"{BASE}/requests/{number}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        assert_valid("requests.json", response.json())
        items = [(i["service_request_id"], i["service_code"]) for i in response.json()]
    else:
        root = xml_root(response)
        assert root.tag == "service_requests" and [r.tag for r in root] == ["request"]
        items = [(r.findtext("service_request_id"), r.findtext("service_code")) for r in root]
    assert items == [(number, "garbage")]
    mistyped = number[:-1] + str((int(number[-1]) + 1) % 10)
    for wrong in (format_public_number(424_242), mistyped, "abc", "9" * 30):
        response = await client.get(f"{BASE}/requests/{wrong}.{fmt}")
        assert_error(response, 404, fmt, "service_request_id")


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_a_token_names_its_request(client: httpx.AsyncClient, key: str, fmt: str) -> None:
    response = await post_request(client, key, fmt, service_code="street_light", **INSIDE)
    assert response.status_code == 200
    if fmt == "json":
        [item] = response.json()
    else:
        root = xml_root(response)
        assert root.tag == "service_requests" and [r.tag for r in root] == ["request"]
        item = fields_of(root[0])
        assert "service_notice" not in item and "account_id" not in item
    found = await client.get(f"{BASE}/tokens/{item['token']}.{fmt}")
    assert found.status_code == 200
    expected = {"service_request_id": item["service_request_id"], "token": item["token"]}
    assert (found.json() if fmt == "json" else list(map(fields_of, xml_root(found)))) == [expected]
    assert_error(await client.get(f"{BASE}/tokens/{'0' * 32}.{fmt}"), 404, fmt, "token")


# media_url


async def test_a_media_url_is_fetched_and_stored(
    client: httpx.AsyncClient, hub: Hub, key: str, admin: dict[str, str]
) -> None:
    async with serving_png() as (url, png):
        number = await created(client, key, media_url=url, **INSIDE)
        [pending] = (await case_of(client, admin, number))["photos"]
        assert pending["status"] == "pending" and pending["url"] is None
        assert await fetch_photos(hub) == 1
    [photo] = (await case_of(client, admin, number))["photos"]
    assert photo["status"] == "stored" and photo["source"] == "open311"
    assert (photo["content_type"], photo["width"], photo["height"]) == ("image/png", 64, 48)
    stored = await client.get(photo["url"], headers=admin)
    assert stored.status_code == 200 and stored.content == png
    # Clients still see the URL they gave.
    [item] = (await client.get(f"{BASE}/requests/{number}.json")).json()
    assert item["media_url"] == url
    assert_valid("request.json", item)


async def test_a_media_url_that_is_not_there_ends_as_a_failed_photo(
    client: httpx.AsyncClient, hub: Hub, key: str, admin: dict[str, str]
) -> None:
    async with serving_png() as (url, _png):
        number = await created(client, key, media_url=url.replace("lamp", "nothing"), **INSIDE)
        assert await fetch_photos(hub) == 0
        [photo] = (await case_of(client, admin, number))["photos"]
        assert photo["status"] == "failed" and "404" in photo["error"]
        assert photo["url"] is None
        # A 404 is final: the next run leaves it alone.
        assert await fetch_photos(hub) == 0
    assert (await case_of(client, admin, number))["photos"] == [photo]
