"""Open311 GeoReport v2 as outside clients and validators read it: discovery, no empty
values, status codes, body limits, and where the api_key may travel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from core.auth.enums import Role
from core.config import Settings
from core.runtime import Hub
from tests.factories import api_key
from tests.portal import open311_helpers
from tests.portal.open311_helpers import (
    BASE,
    INSIDE,
    assert_error,
    assert_no_empty_elements,
    assert_swagger,
    close_case,
    counts,
    created,
    fields_of,
    post_request,
    xml_root,
)

LAMP = {"service_code": "street_light", **INSIDE}


@pytest.fixture
async def key(hub: Hub) -> str:
    """Returns the raw key an Open311 client sends as api_key."""
    return (await api_key(hub))["X-API-Key"]


@pytest.fixture
async def admin(hub: Hub) -> dict[str, str]:
    return await api_key(hub, role=Role.ADMIN)


# Where the spec's schemas are found


def test_the_schemas_are_read_from_shared_beside_the_repository() -> None:
    repository = Path(__file__).resolve().parents[2]
    assert (repository / "pyproject.toml").is_file()
    assert repository.parent / "shared/data/open311/georeport-v2" == open311_helpers.SCHEMAS


@pytest.mark.parametrize("ci", ["true", ""])
def test_missing_schemas_fail_in_ci_and_skip_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str
) -> None:
    monkeypatch.setattr(open311_helpers, "SCHEMAS", tmp_path / "absent")
    monkeypatch.setenv("CI", ci)
    outcome = pytest.fail.Exception if ci else pytest.skip.Exception
    either = (pytest.fail.Exception, pytest.skip.Exception)
    with pytest.raises(either, match="absent") as schemas:
        open311_helpers.validator("request.json")
    with pytest.raises(either, match="absent") as swagger:
        open311_helpers.assert_swagger("Request", {})
    assert schemas.type is swagger.type is outcome


# Discovery


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The test's settings, with the public address a test gives as its parameter."""
    public_url = getattr(request, "param", None)
    return settings.model_copy(update={"public_url": public_url}) if public_url else settings


async def test_discovery_names_the_endpoint_and_its_formats(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/discovery.json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    assert "key" in body["key_service"] and body["contact"]
    [endpoint] = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    # No public address configured: the address this request came in at.
    assert endpoint["url"] == "https://hub.test/open311/v2/"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["type"] in ("production", "test")
    for moment in (body["changeset"], endpoint["changeset"]):
        assert datetime.fromisoformat(moment).tzinfo is not None
    # The endpoint it names answers.
    assert (await client.get(endpoint["url"] + "services.json")).status_code == 200

    xml = await client.get(f"{BASE}/discovery.xml")
    assert xml.status_code == 200
    root = xml_root(xml)
    assert root.tag == "discovery"
    assert_no_empty_elements(root)
    assert root.findtext("changeset") == body["changeset"]
    [element] = root.findall("endpoints/endpoint")
    assert element.findtext("url") == endpoint["url"]
    assert [f.text for f in element.findall("formats/format")] == endpoint["formats"]
    assert element.findtext("specification") == endpoint["specification"]


async def test_discovery_speaks_the_asked_language(client: httpx.AsyncClient) -> None:
    english = (await client.get(f"{BASE}/discovery.json")).json()
    for locale in ("ru", "zh"):
        other = (await client.get(f"{BASE}/discovery.json", params={"locale": locale})).json()
        assert other["contact"] != english["contact"]
        assert other["key_service"] != english["key_service"]


@pytest.mark.parametrize("settings", ["https://city.example.org/"], indirect=True)
async def test_discovery_gives_the_public_url_when_set(client: httpx.AsyncClient) -> None:
    # The request came in at an inner address (https://hub.test); clients reach the public one.
    body = (await client.get(f"{BASE}/discovery.json")).json()
    assert body["endpoints"][0]["url"] == "https://city.example.org/open311/v2/"


async def test_discovery_refuses_unknown_formats(client: httpx.AsyncClient) -> None:
    assert_error(await client.get(f"{BASE}/discovery.yaml"), 404, "xml", "format")


# Nothing is null, and nothing is an empty element


async def test_json_has_no_nulls_where_the_spec_wants_a_string(
    client: httpx.AsyncClient, hub: Hub, key: str, admin: dict[str, str]
) -> None:
    posted = await post_request(client, key, **LAMP)
    assert posted.status_code == 200, posted.text
    for item in posted.json():
        assert_swagger("RequestResponse", item)
    for item in (await client.get(f"{BASE}/services.json")).json():
        assert_swagger("Service", item)
    # A definition whose attribute has no datatype description.
    definition = (await client.get(f"{BASE}/services/manhole_cover.json")).json()
    assert_swagger("ServiceDefinition", definition)
    for attribute in definition["attributes"]:
        assert_swagger("ServiceAttribute", attribute)
    # A closed request (no expected time), and one with no address and no agency.
    closing = await created(client, key, description="Lamp out", **INSIDE)
    await close_case(client, admin, closing, "Lamp replaced")
    bare = await created(client, key, address_string="Behind the old water tower")
    items = (await client.get(f"{BASE}/requests.json")).json()
    assert {i["service_request_id"] for i in items} >= {closing, bare}
    for item in items:
        assert_swagger("Request", item)
        assert None not in item.values()


async def test_xml_leaves_out_what_has_no_value(
    client: httpx.AsyncClient, key: str, admin: dict[str, str]
) -> None:
    closing = await created(client, key, description="Lamp out", **INSIDE)
    await close_case(client, admin, closing, "Lamp replaced")
    posted = await post_request(client, key, "xml", **{**LAMP, "description": "Another"})
    assert posted.status_code == 200, posted.text
    assert_no_empty_elements(xml_root(posted))
    for path in ("requests.xml", f"requests/{closing}.xml", "services.xml"):
        assert_no_empty_elements(xml_root(await client.get(f"{BASE}/{path}")))
    assert_no_empty_elements(xml_root(await client.get(f"{BASE}/services/manhole_cover.xml")))
    request = fields_of(xml_root(await client.get(f"{BASE}/requests/{closing}.xml"))[0])
    assert "expected_datetime" not in request
    # Every date a client reads parses as a date-time with its offset.
    for name in ("requested_datetime", "updated_datetime"):
        assert datetime.fromisoformat(request[name] or "").tzinfo is not None


# POST requests answers 200


async def test_a_new_request_is_answered_200(client: httpx.AsyncClient, key: str) -> None:
    for fmt in ("json", "xml"):
        response = await post_request(client, key, fmt, **{**LAMP, "description": fmt})
        assert response.status_code == 200, response.text


async def test_a_multipart_form_is_read_too(client: httpx.AsyncClient, key: str) -> None:
    fields = {**LAMP, "api_key": key, "description": "Лампа не горит"}
    # Fields without a file name: a multipart form with no file in it.
    response = await client.post(
        f"{BASE}/requests.json", files={name: (None, value) for name, value in fields.items()}
    )
    assert response.status_code == 200, response.text
    [item] = (
        await client.get(f"{BASE}/requests/{response.json()[0]['service_request_id']}.json")
    ).json()
    assert item["description"] == "Лампа не горит"
    photo = {"media": ("lamp.png", b"\x89PNG", "image/png")}
    refused = await client.post(f"{BASE}/requests.json", data=fields, files=photo)
    assert_error(refused, 400, "json", "files")


# Body limits and content types


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_an_oversized_form_is_413_in_the_spec_shape(
    client: httpx.AsyncClient, hub: Hub, key: str, fmt: str
) -> None:
    big = {**LAMP, "api_key": key, "description": "x" * 300_000}
    response = await client.post(f"{BASE}/requests.{fmt}", data=big)
    assert_error(response, 413, fmt, "larger than")
    assert "x" * 100 not in response.text

    # Sent without a length (chunked), it is counted as it arrives.
    async def chunks() -> AsyncIterator[bytes]:
        yield f"api_key={key}&service_code=street_light&description=".encode()
        for _ in range(64):
            yield b"x" * 32_768

    streamed = await client.post(
        f"{BASE}/requests.{fmt}",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(streamed, 413, fmt, "larger than")
    assert await counts(hub) == (0, 0)


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_a_form_over_the_hubs_body_limit_is_413_in_the_spec_shape(
    client: httpx.AsyncClient, hub: Hub, key: str, fmt: str
) -> None:
    # Refused by the hub's own limit before any view runs, still as Open311 clients read.
    big = {**LAMP, "api_key": key, "description": "x" * 3_000_000}
    response = await client.post(f"{BASE}/requests.{fmt}", data=big)
    assert_error(response, 413, fmt, "larger than")
    assert "x" * 100 not in response.text
    assert await counts(hub) == (0, 0)


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_a_body_that_is_not_a_form_is_400(
    client: httpx.AsyncClient, hub: Hub, key: str, fmt: str
) -> None:
    response = await client.post(f"{BASE}/requests.{fmt}", json={**LAMP, "api_key": key})
    assert_error(response, 400, fmt, "x-www-form-urlencoded")
    too_many = {**LAMP, "api_key": key, **{f"attribute[a{n}]": "1" for n in range(300)}}
    assert_error(await client.post(f"{BASE}/requests.{fmt}", data=too_many), 400, fmt, "fields")
    assert await counts(hub) == (0, 0)


# api_key travels in the body only


async def test_an_api_key_in_the_url_is_refused(
    client: httpx.AsyncClient, hub: Hub, key: str
) -> None:
    response = await client.post(f"{BASE}/requests.json", params={"api_key": key}, data=LAMP)
    assert_error(response, 400, "json", "body")
    assert key not in response.text
    assert await counts(hub) == (0, 0)
