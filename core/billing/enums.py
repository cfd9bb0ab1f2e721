from enum import StrEnum


class ChargeBasis(StrEnum):
    """How a service is charged when everything is in order."""

    METERED = "metered"  # volume from the account's meter
    PER_RESIDENT = "per_resident"  # normative × registered residents (no meter possible)
    AREA = "area"  # normative × premises area (heating, maintenance)


class ReadingStatus(StrEnum):
    ACCEPTED = "accepted"
    REVIEW = "review"
    REJECTED = "rejected"
