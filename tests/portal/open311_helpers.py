"""Helpers for the Open311 tests: the spec's JSON Schemas, XML reading, and row counts."""

from __future__ import annotations

import io
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
import pytest
import yaml
from aiohttp import web
from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker
from PIL import Image
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select

from core.dispatch.demo import DEFAULTS
from core.dispatch.jobs import fetch_case_photos
from core.intake.models import InboundRecord
from core.runtime import Hub, HubContext
from core.tickets.models import Ticket

# Third-party data lives beside the repository, not in it: <somewhere>/main is the clone
# and <somewhere>/shared the data, wherever the two were put.
REPOSITORY = Path(__file__).resolve().parents[2]
SCHEMAS = REPOSITORY.parent / "shared" / "data" / "open311" / "georeport-v2"
BASE = "/open311/v2"

# A point inside the demo grid, and one outside every cell.
INSIDE = {"lat": "55.75", "long": "37.60"}
OUTSIDE = {"lat": "55.7", "long": "37.5"}


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    # jsonschema checks "uri" only with an optional package installed; this is the part
    # that matters here: an absolute URL with a scheme and a host.
    @checker.checks("uri")
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme and parts.netloc)

    # A checker that silently lacks date-time would let naive datetimes through.
    assert not checker.conforms("2026-01-01T10:00:00", "date-time")
    assert checker.conforms("2026-01-01T10:00:00+00:00", "date-time")
    return checker


def require_schemas() -> None:
    """Fails in CI when the spec's schemas are missing (a silent skip would hide a whole
    conformance check); elsewhere, such as a fresh clone with no ../shared, skips."""
    if SCHEMAS.is_dir():
        return
    reason = f"the Open311 JSON Schemas are not at {SCHEMAS} (../shared beside the repository)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def validator(name: str) -> Draft202012Validator:
    """Returns a validator for one of the spec's schemas, its relative $refs resolved."""
    require_schemas()
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT202012))
        for path in SCHEMAS.glob("*.json")
        if path.name != "swagger.json"
    ]
    registry: Registry[Any] = Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / name).read_text())
    return Draft202012Validator(schema, registry=registry, format_checker=_format_checker())


def assert_valid(name: str, body: Any) -> None:
    """Fails with every schema error listed, not just the first."""
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(name).iter_errors(body)]
    assert not errors, errors


def assert_swagger(definition: str, body: Any) -> None:
    """Checks ``body`` against a definition of the spec's Swagger description, whose fields
    are plain types (a string is a string, never null), as strict clients read them."""
    require_schemas()
    swagger = json.loads((SCHEMAS / "swagger.json").read_text())
    schema = {"$ref": f"#/definitions/{definition}", "definitions": swagger["definitions"]}
    checker = Draft4Validator(schema, format_checker=_format_checker())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in checker.iter_errors(body)]
    assert not errors, errors


# XML elements that hold a list: empty, they still say something (no services, no values).
XML_LISTS = frozenset({"services", "service_requests", "attributes", "values", "endpoints"})


def assert_no_empty_elements(root: ElementTree.Element) -> None:
    """Checks an XML document leaves out what has no value rather than writing an empty
    element, which a client's date or number parser then fails on."""
    empty = [
        element.tag
        for element in root.iter()
        if element is not root
        and element.tag not in XML_LISTS
        and not len(element)
        and not (element.text or "").strip()
    ]
    assert not empty, empty


def xml_root(response: httpx.Response) -> ElementTree.Element:
    assert response.headers["content-type"].startswith("text/xml")
    return ElementTree.fromstring(response.content)  # noqa: S314  (our own app's output)


def fields_of(element: ElementTree.Element) -> dict[str, str | None]:
    """Returns an element's children as {tag: text} (one level)."""
    return {child.tag: child.text for child in element}


def assert_error(response: httpx.Response, status: int, fmt: str, words: str = "") -> None:
    """Checks a refusal has the spec's error shape, in the asked format."""
    assert response.status_code == status, response.text
    if fmt == "xml":
        root = xml_root(response)
        assert root.tag == "errors"
        items = [fields_of(item) for item in root]
        assert [item.tag for item in root] == ["error"]
        assert items[0]["code"] == str(status)
        description = items[0]["description"] or ""
    else:
        body = response.json()
        assert isinstance(body, list) and len(body) == 1
        assert body[0]["code"] == status
        description = body[0]["description"]
    assert description
    assert words.lower() in description.lower(), description


async def counts(hub: Hub) -> tuple[int, int]:
    """Returns how many tickets and raw inbound records there are."""
    async with hub.session_factory() as session:
        tickets = await session.scalar(select(func.count()).select_from(Ticket))
        inbound = await session.scalar(select(func.count()).select_from(InboundRecord))
    return int(tickets or 0), int(inbound or 0)


async def post_request(
    client: httpx.AsyncClient, key: str | None, fmt: str = "json", **fields: str
) -> httpx.Response:
    """POSTs a form-encoded service request; ``key`` None leaves api_key out."""
    data = {**({"api_key": key} if key is not None else {}), **fields}
    return await client.post(f"{BASE}/requests.{fmt}", data=data)


async def listed(client: httpx.AsyncClient, **params: str) -> list[str]:
    """Returns the ids GET requests.json answers with, checking the body against the spec."""
    response = await client.get(f"{BASE}/requests.json", params=params)
    assert response.status_code == 200, response.text
    assert_valid("requests.json", response.json())
    return [item["service_request_id"] for item in response.json()]


async def created(client: httpx.AsyncClient, key: str, **fields: str) -> str:
    """POSTs a request that must be accepted (a street light unless told); returns its id."""
    response = await post_request(client, key, **{"service_code": "street_light", **fields})
    assert response.status_code == 200, response.text
    return str(response.json()[0]["service_request_id"])


async def case_of(client: httpx.AsyncClient, admin: dict[str, str], number: str) -> dict[str, Any]:
    """Returns the case as the dispatch back office shows it."""
    response = await client.get(f"/api/v1/dispatch/cases/{number}", headers=admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def take_actions(
    client: httpx.AsyncClient, admin: dict[str, str], number: str, *bodies: dict[str, str]
) -> None:
    """Takes dispatch workflow actions on a case, each of which must succeed."""
    for body in bodies:
        response = await client.post(
            f"/api/v1/dispatch/cases/{number}/actions", json=body, headers=admin
        )
        assert response.status_code == 200, response.text


async def close_case(
    client: httpx.AsyncClient, admin: dict[str, str], number: str, note: str
) -> None:
    """Takes a case to closed (registered, auto-dispatched, reported with ``note``, verified)."""
    report = {"action": "report", "reason": note}
    await take_actions(
        client, admin, number, {"action": "register"}, report, {"action": "verify_pass"}
    )


@asynccontextmanager
async def serving_png() -> AsyncIterator[tuple[str, bytes]]:
    """Serves a PNG at /lamp.png on 127.0.0.1 (404 elsewhere); yields its URL and bytes."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 180, 20)).save(buffer, format="PNG")
    png = buffer.getvalue()

    async def picture(_request: web.Request) -> web.Response:
        return web.Response(body=png, content_type="image/png")

    app = web.Application()
    app.router.add_get("/lamp.png", picture)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/lamp.png", png
    finally:
        await runner.cleanup()


async def fetch_photos(hub: Hub) -> int:
    """Runs the photo-fetching job once, as the worker would."""
    return await fetch_case_photos(cast(HubContext, {"hub": hub}))


async def give_lamps_attributes(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """Re-imports the street_light category with a list, a number and a datetime attribute."""
    categories = yaml.safe_load((DEFAULTS / "categories.yaml").read_text(encoding="utf-8"))
    [lamp] = [c for c in categories if c["code"] == "street_light"]
    lamp["attributes"] = [
        {
            "code": "faults",
            "datatype": "multivaluelist",
            "names": {"en": "What is wrong?"},
            "values": [{"key": "dark"}, {"key": "flicker"}, {"key": "leaning"}],
        },
        {"code": "height", "datatype": "number", "names": {"en": "Pole height, m"}},
        {"code": "seen_at", "datatype": "datetime", "names": {"en": "Seen at"}},
    ]
    imported = await client.post(
        "/api/v1/dispatch/imports/dispatch_categories",
        params={"format": "yaml"},
        content=yaml.safe_dump([lamp], allow_unicode=True),
        headers={**admin, "Content-Type": "text/plain"},
    )
    assert imported.status_code == 200, imported.text
