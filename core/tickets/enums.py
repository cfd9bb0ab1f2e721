from enum import StrEnum


class TicketKind(StrEnum):
    BILLING_INQUIRY = "billing_inquiry"
    CITY_CASE = "city_case"
    PROPERTY_COMPLAINT = "property_complaint"
    VOTE = "vote"
    METER_READING = "meter_reading"
    GENERAL = "general"


class TicketStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    REOPENED = "reopened"


OPEN_STATUSES = frozenset(
    {
        TicketStatus.NEW,
        TicketStatus.ASSIGNED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.ON_HOLD,
        TicketStatus.REOPENED,
    }
)

# The generic lifecycle; back offices refine their own stages on top of it.
ALLOWED_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset(
        {
            TicketStatus.ASSIGNED,
            TicketStatus.IN_PROGRESS,
            TicketStatus.REJECTED,
            TicketStatus.ON_HOLD,
        }
    ),
    TicketStatus.ASSIGNED: frozenset(
        {
            TicketStatus.IN_PROGRESS,
            TicketStatus.ON_HOLD,
            TicketStatus.REJECTED,
            TicketStatus.RESOLVED,
        }
    ),
    TicketStatus.IN_PROGRESS: frozenset(
        {TicketStatus.ON_HOLD, TicketStatus.RESOLVED, TicketStatus.ASSIGNED}
    ),
    TicketStatus.ON_HOLD: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.ASSIGNED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.REOPENED}),
    TicketStatus.CLOSED: frozenset({TicketStatus.REOPENED}),
    TicketStatus.REJECTED: frozenset({TicketStatus.REOPENED}),
    TicketStatus.REOPENED: frozenset(
        {TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED}
    ),
}


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"
    NOTE = "note"


class ActorKind(StrEnum):
    """Who made a ticket change: the audit trail says which kind, and which one by id."""

    RESIDENT = "resident"
    # A staff member logged in to the console (actor id: staff_users.id).
    STAFF = "staff"
    # A partner system calling the API with a key (actor id: api_keys.id).
    API_KEY = "api_key"
    # The hub itself: routing, SLA clocks, sweeps, delivery retries.
    SYSTEM = "system"
    # A provider reporting on its own (a delivery receipt from the SMS gateway).
    PROVIDER = "provider"


class EventKind(StrEnum):
    CREATED = "created"
    ROUTED = "routed"
    STATUS_CHANGED = "status_changed"
    MESSAGE_IN = "message_in"
    MESSAGE_OUT = "message_out"
    DELIVERY = "delivery"
    ESCALATED = "escalated"
    ASSIGNED = "assigned"
    # Back-office workflow steps (dispatch stages, extensions, merges, photos).
    STAGE_CHANGED = "stage_changed"
    EXTENSION = "extension"
    MERGED = "merged"
    PHOTO = "photo"
    # A resident's message moved out of this ticket into a request of its own.
    SPLIT = "split"
    # A staff member's internal note (never sent to the resident), with any @mentions.
    NOTE = "note"
