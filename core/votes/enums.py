from enum import StrEnum


class BallotStatus(StrEnum):
    # Being written; anything may change and it may be deleted.
    DRAFT = "draft"
    # Published: owners are told on the notice date; the agenda is fixed.
    SCHEDULED = "scheduled"
    # Taking votes: the electorate is frozen and nothing about the ballot changes.
    OPEN = "open"
    CLOSED = "closed"
    # Withdrawn before it opened, with a reason.
    CANCELLED = "cancelled"


class BallotScope(StrEnum):
    BUILDING = "building"
    ESTATE = "estate"


class OptionKind(StrEnum):
    # A choice that can be adopted (agree, or a candidate company).
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


class Jurisdiction(StrEnum):
    CN = "cn"
    RU = "ru"


class Threshold(StrEnum):
    """How a question is decided; each rule set maps its matter types onto these."""

    # China, Civil Code art. 278: > 1/2 of participating area and of participating owners.
    CN_ORDINARY = "cn_ordinary"
    # China, art. 278 items 6–8: ≥ 3/4 of participating area and of participating owners.
    CN_SPECIAL = "cn_special"
    # Russia, Housing Code art. 46 p. 1: a majority of the participating votes.
    RU_MAJORITY = "ru_majority"
    # Russia: more than 50 % of all the owners' votes.
    RU_HALF_OF_ALL = "ru_half_of_all"
    # Russia: at least two thirds of all the owners' votes.
    RU_TWO_THIRDS_OF_ALL = "ru_two_thirds_of_all"


class CountPolicy(StrEnum):
    """Which of an owner's replies to one question counts until closing."""

    LAST = "last"
    FIRST = "first"


class OwnerKind(StrEnum):
    PERSON = "person"
    LEGAL = "legal"
    # The developer's unsold (or sold but not handed over) units: one owner in China.
    DEVELOPER = "developer"
    PUBLIC = "public"


class PhoneStatus(StrEnum):
    # Came with the owner's first register entry, or was confirmed.
    VERIFIED = "verified"
    # Added to an owner the register already knew: it cannot vote until confirmed.
    PENDING = "pending"


class VoteChannel(StrEnum):
    SMS = "sms"
    TELEGRAM = "telegram"
    WEB = "web"
    KIOSK = "kiosk"
    VOICE = "voice"
    # A signed paper decision handed in, typed in by the committee or the authority.
    PAPER = "paper"
