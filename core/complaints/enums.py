from enum import StrEnum

from core.tickets.enums import TicketStatus


class Stage(StrEnum):
    """Where a complaint is, finer than the ticket's generic status."""

    TRIAGE = "triage"  # no estate or no contract: the authority finds who is responsible
    WITH_COMPANY = "with_company"  # the company's response clock runs
    ANSWERED = "answered"  # the company answered: waiting for the resident's verdict
    AUTHORITY = "authority"  # disputed or overdue: the authority inspects
    RECTIFYING = "rectifying"  # upheld: a rectification order runs
    RESOLVED = "resolved"  # the resident confirmed, or the order was done
    DISMISSED = "dismissed"  # the authority found the complaint not upheld


OPEN_STAGES = frozenset(
    {Stage.TRIAGE, Stage.WITH_COMPANY, Stage.ANSWERED, Stage.AUTHORITY, Stage.RECTIFYING}
)

# On hold means "waiting for you": the resident's next message is read as their verdict.
STATUS_OF_STAGE = {
    Stage.TRIAGE: TicketStatus.NEW,
    Stage.WITH_COMPANY: TicketStatus.ASSIGNED,
    Stage.ANSWERED: TicketStatus.ON_HOLD,
    Stage.AUTHORITY: TicketStatus.IN_PROGRESS,
    Stage.RECTIFYING: TicketStatus.IN_PROGRESS,
    Stage.RESOLVED: TicketStatus.CLOSED,
    Stage.DISMISSED: TicketStatus.CLOSED,
}


class TriageReason(StrEnum):
    NO_ESTATE = "no_estate"
    NO_CONTRACT = "no_contract"


class Verdict(StrEnum):
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


class Escalation(StrEnum):
    """Why the authority stepped in."""

    DISPUTED = "disputed"
    OVERDUE = "overdue"


class Frequency(StrEnum):
    """How often an indicator is checked on every estate."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


FREQUENCY_DAYS = {
    Frequency.MONTHLY: 31,
    Frequency.QUARTERLY: 92,
    Frequency.HALF_YEARLY: 183,
    Frequency.YEARLY: 366,
}


class InspectionStatus(StrEnum):
    PLANNED = "planned"
    DONE = "done"


class OrderStatus(StrEnum):
    OPEN = "open"  # the company is working on it
    REPORTED = "reported"  # the company says it is done: the authority checks
    DONE = "done"  # checked and done


class Section(StrEnum):
    """The three parts of the integrity score (DOMAIN §5)."""

    BASIC = "basic"
    GOOD = "good"
    BAD = "bad"


class ScoreKind(StrEnum):
    """What an integrity event is about; each has a rule with its points."""

    UPHELD_COMPLAINT = "upheld_complaint"
    OVERDUE_RECTIFICATION = "overdue_rectification"
    SANCTION = "sanction"
    AWARD = "award"


SECTION_OF_KIND = {
    ScoreKind.UPHELD_COMPLAINT: Section.BAD,
    ScoreKind.OVERDUE_RECTIFICATION: Section.BAD,
    ScoreKind.SANCTION: Section.BAD,
    ScoreKind.AWARD: Section.GOOD,
}


class ScoreStatus(StrEnum):
    PENDING = "pending"  # notice given, the appeal period runs; does not count yet
    APPEALED = "appealed"  # the company appealed in time: the authority decides
    CONFIRMED = "confirmed"  # counts in the score
    WITHDRAWN = "withdrawn"  # the appeal was upheld: never counts


class AppealDecision(StrEnum):
    UPHELD = "upheld"  # the company was right: the deduction is withdrawn
    REFUSED = "refused"  # the deduction stands


class WeightDimension(StrEnum):
    ESTATE_KIND = "estate_kind"
    AREA_FROM = "area_from"  # key: managed area in m² from which the factor applies
