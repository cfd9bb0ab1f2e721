"""GET /api/v1/events: the live stream of ticket events for staff (server-sent events)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, status
from fastapi.responses import StreamingResponse

from core.auth.service import Principal
from core.events.stream import follow
from core.tickets.actors import Actor
from core.tickets.enums import ActorKind
from core.web.deps import STAFF_ROLES, HubDep, require_roles

router = APIRouter(tags=["events"])

StaffDep = Annotated[Principal, Depends(require_roles(*STAFF_ROLES))]
# Ids are 64-bit on PostgreSQL; anything longer is not one of ours.
MAX_ID = 2**63 - 1


def _cursor(header: str | None, query: int | None) -> int | None:
    """Returns where to resume: the browser's Last-Event-ID header, else ?last_event_id=."""
    if header is None or not header.strip():
        return query
    value = header.strip()
    # isdecimal() alone lets "²" or Arabic-Indic digits through to int(); ids are ASCII.
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "Last-Event-ID must be an event id"
        )
    return int(value)


def _staff_id(principal: Principal) -> int | None:
    """Returns the staff member behind a session (personal frames are theirs); None for a key."""
    actor = Actor.parse(principal.actor)
    return actor.id if actor.kind is ActorKind.STAFF else None


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An event stream"}},
)
async def stream_events(
    hub: HubDep,
    principal: StaffDep,
    last_event_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    last_event_id_header: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=32)
    ] = None,
) -> StreamingResponse:
    """Streams every ticket event in the caller's scope as it is committed.

    Each event's ``id`` is its ``ticket_events`` id: reconnecting with ``Last-Event-ID``
    (which browsers send by themselves) resumes exactly after it; ``?last_event_id=`` does
    the same for a first connection. Without either, the stream starts from now. A comment
    line is sent when nothing else was for ``HUB_EVENTS_HEARTBEAT_SECONDS``.
    """
    after = _cursor(last_event_id_header, last_event_id)
    feed = await hub.event_feed()
    return StreamingResponse(
        follow(
            feed=feed,
            session_factory=hub.session_factory,
            scope=principal.scope,
            after=after,
            heartbeat=hub.settings.events_heartbeat_seconds,
            batch=hub.settings.events_batch_size,
            staff_id=_staff_id(principal),
        ),
        media_type="text/event-stream",
        # No proxy may hold events back to fill a buffer, nor cache them.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
