"""One ticket event as a stream says it: the payload (codes and ids, nothing personal) and
its text/event-stream frame. Built once per event by the feed and shared by every stream.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi.sse import format_sse_event

from core.tickets.enums import ActorKind
from core.tickets.models import Ticket, TicketEvent

# The event data fields that carry no personal data (no text, address, phone or error).
_SAFE_DATA = (
    "status",
    "previous",
    "stage",
    "level",
    "decided",
    "joined",
    "department_id",
    "outbox_id",
    "photo_id",
    "back_office",
    "code",
    # The console's own: who a ticket went to, who a note mentions, what a merge joined.
    "assignee_id",
    "mentions",
    "into",
    "to",
    "auto",
)


def event_payload(event: TicketEvent, ticket: Ticket) -> dict[str, Any]:
    """Returns what a stream says about one event: codes and ids, nothing personal."""
    data: Mapping[str, Any] = event.data or {}
    identified = event.actor_kind in (ActorKind.STAFF, ActorKind.API_KEY)
    return {
        "id": event.id,
        "ticket": ticket.public_number,
        "kind": str(event.kind),
        "actor_kind": str(event.actor_kind),
        "actor_id": event.actor_id if identified else None,
        "channel": data.get("channel") or ticket.channel,
        "ticket_kind": str(ticket.kind),
        "back_office": ticket.back_office,
        "district_id": ticket.district_id,
        "community_id": ticket.community_id,
        "department_id": ticket.department_id,
        "created_at": event.created_at.isoformat(),
        "data": {key: data[key] for key in _SAFE_DATA if data.get(key) is not None},
    }


def event_frame(event: TicketEvent, ticket: Ticket, *, late: bool = False) -> bytes:
    """Returns one event in the text/event-stream format.

    A late event (its transaction committed after newer ones were sent) goes without an SSE
    id, so the browser's Last-Event-ID keeps pointing at the newest event it has; its id is
    in the data as always.
    """
    body = json.dumps(event_payload(event, ticket), ensure_ascii=False, separators=(",", ":"))
    return format_sse_event(
        data_str=body, event=str(event.kind), id=None if late else str(event.id)
    )
