from enum import StrEnum


class BackOffice(StrEnum):
    """The back offices a request can be handed to; ``general`` is the triage queue."""

    GENERAL = "general"
    BILLING = "billing"
    DISPATCH = "dispatch"
    COMPLAINTS = "complaints"
    VOTES = "votes"
