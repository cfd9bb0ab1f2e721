from enum import StrEnum


class Topic(StrEnum):
    OUTAGES = "outages"
    TICKET_STATUS = "ticket_status"
    VOTES = "votes"
    BILLING = "billing"


class Audience(StrEnum):
    # Everyone with a phone who owns premises in the scope (an outage in their building).
    RESIDENTS = "residents"
    # Only those who subscribed to the topic for a place in the scope.
    SUBSCRIBERS = "subscribers"


class NoticeStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"
