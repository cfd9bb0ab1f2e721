"""Open311 bodies as JSON or XML: the same dicts, two spellings (XML is the spec's default).

A field with no value is left out of both spellings rather than written as JSON ``null``
or an empty XML element: the spec types every field plainly (a string is a string), so
strict clients refuse a null, and an empty ``<expected_datetime />`` fails their date
parser. Every field that may be missing is optional in the spec.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree

from fastapi.responses import Response

FORMATS = ("json", "xml")
PREFIX = "/open311/"

# The element name of a list's items, by the list's name.
_ITEM = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}

# Characters XML 1.0 cannot carry at all, not even escaped: a description holding one
# (a stray control character pasted from somewhere) would make the whole document
# unreadable to every client, so they are dropped from the XML spelling.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _without_nulls(value: Any) -> Any:
    """Returns ``value`` with every mapping entry that has no value (None) left out."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _element(name: str, value: Any) -> ElementTree.Element:
    element = ElementTree.Element(name)
    if isinstance(value, dict):
        for key, item in value.items():
            if item is not None:
                element.append(_element(key, item))
    elif isinstance(value, list):
        for item in value:
            element.append(_element(_ITEM.get(name, "item"), item))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _NOT_XML.sub("", str(value))
    return element


def to_xml(root: str, body: Any) -> bytes:
    """Returns ``body`` as an XML document whose root element is ``root``."""
    return ElementTree.tostring(_element(root, body), encoding="utf-8", xml_declaration=True)


def respond(fmt: str, root: str, body: Any, status_code: int = 200) -> Response:
    """Returns ``body`` in the asked format; ``root`` names the XML document element."""
    if fmt == "xml":
        return Response(to_xml(root, body), status_code, media_type="text/xml; charset=utf-8")
    return Response(
        json.dumps(_without_nulls(body), ensure_ascii=False),
        status_code,
        media_type="application/json; charset=utf-8",
    )


def error(fmt: str, status_code: int, description: str) -> Response:
    """Returns the spec's error body: a list of {code, description}."""
    return respond(fmt, "errors", [{"code": status_code, "description": description}], status_code)


def format_of(path: str) -> str:
    """Returns the format a path's extension names, or the spec's default (XML)."""
    name = path.rsplit("/", 1)[-1]
    fmt = name.rsplit(".", 1)[-1] if "." in name else "xml"
    return fmt if fmt in FORMATS else "xml"


def refusal(path: str, status_code: int, description: str) -> Response | None:
    """Returns a refusal made before any Open311 view runs (a body over the hub's limit,
    text no database can keep) in the spec's shape, or None for a path outside Open311.

    Clients of this API read only [{code, description}], in the format the path names.
    """
    if not path.startswith(PREFIX):
        return None
    # The spec's code for a request it cannot take is 400; it has no 422.
    code = 400 if status_code == 422 else status_code
    return error(format_of(path), code, description)
