"""The GeoReport v2 discovery document: where the endpoint is, what it speaks, who runs it.

Optional in the spec, but the first thing common validators and client libraries read.
"""

from __future__ import annotations

from typing import Any

from core.i18n import gettext

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's behaviour last changed in a way a client could notice (the spec's
# "changeset"): move it forward with every such change, so clients know to look again.
CHANGESET = "2026-12-06T00:00:00+00:00"
MEDIA_TYPES = {"xml": "text/xml", "json": "application/json"}


def discovery(*, base_url: str, production: bool, language: str) -> dict[str, Any]:
    """Returns the discovery document for the endpoint at ``base_url`` (…/open311/v2/)."""
    return {
        "changeset": CHANGESET,
        "contact": gettext(
            language,
            "Questions about this API go to the city's service hub administrators.",
        ),
        "key_service": gettext(
            language,
            "Reading is open to all; to send requests, ask the city's service hub "
            "administrators for an API key and send it as the api_key form field.",
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": CHANGESET,
                "type": "production" if production else "test",
                # XML first: the spec's default format.
                "formats": [MEDIA_TYPES["xml"], MEDIA_TYPES["json"]],
            }
        ],
    }
