from enum import StrEnum


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    # Answered within the resident's own request or call (TwiML, a voice prompt, a page):
    # waiting for the channel to confirm it, and never sent again by the sweep.
    INLINE = "inline"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    # Not sent: the recipient opted out of bulk messages after the notice was queued.
    SUPPRESSED = "suppressed"


class OutboxKind(StrEnum):
    REPLY = "reply"
    NOTICE = "notice"


# Replies to a resident's own message go before bulk notices.
KIND_PRIORITY = {OutboxKind.REPLY: 0, OutboxKind.NOTICE: 10}
