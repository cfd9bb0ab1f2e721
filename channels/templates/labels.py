"""Message ids built at run time ("status:" + status), listed so the catalog extractor sees them."""


def N_(message: str) -> str:  # noqa: N802 (the conventional name for a no-op gettext marker)
    return message


LABELS = (
    N_("status:new"),
    N_("status:assigned"),
    N_("status:in_progress"),
    N_("status:on_hold"),
    N_("status:resolved"),
    N_("status:closed"),
    N_("status:rejected"),
    N_("status:reopened"),
    N_("channel:sms"),
    N_("channel:telegram"),
    N_("channel:voice"),
    N_("channel:web"),
    N_("channel:kiosk"),
    N_("channel:open311"),
    N_("channel:api"),
    N_("delivery:pending"),
    N_("delivery:sending"),
    N_("delivery:sent"),
    N_("delivery:delivered"),
    N_("delivery:failed"),
    N_("delivery:processed"),
    N_("event:created"),
    N_("event:routed"),
    N_("event:status_changed"),
    N_("event:message_in"),
    N_("event:message_out"),
    N_("event:delivery"),
    N_("event:escalated"),
    N_("event:assigned"),
    N_("topic:outages"),
    N_("topic:ticket_status"),
    N_("topic:votes"),
    N_("topic:billing"),
    N_("delivery:undelivered"),
    N_("delivery:suppressed"),
)
