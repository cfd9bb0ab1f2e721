"""Territory enums."""

from enum import StrEnum


class EstateKind(StrEnum):
    RESIDENTIAL = "residential"
    COMMERCIAL = "commercial"
    MIXED = "mixed"


class GazetteerKind(StrEnum):
    STREET = "street"
    COMMUNITY = "community"
    LANDMARK = "landmark"
