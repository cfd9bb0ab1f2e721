"""API shapes of the votes back office."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from core.votes.enums import BallotScope, BallotStatus, CountPolicy, OptionKind, VoteChannel

Language = Literal["en", "ru", "zh"]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
QuestionText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Detail = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1500)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OptionIn(_In):
    kind: OptionKind
    labels: dict[Language, Label]


class QuestionIn(_In):
    texts: dict[Language, QuestionText]
    matter: Code
    # Omitted: agree / disagree / abstain in every language.
    options: list[OptionIn] | None = Field(default=None, min_length=2, max_length=9)


class BallotIn(_In):
    scope: BallotScope
    building: Code | None = None
    estate: Code | None = None
    titles: dict[Language, Title]
    details: dict[Language, Detail] = Field(default_factory=dict)
    language: Language
    rule_set: Code
    edition: Code | None = None
    count_policy: CountPolicy = CountPolicy.LAST
    channels: list[VoteChannel] = Field(default_factory=lambda: list(VoteChannel), min_length=1)
    notice_at: AwareDatetime
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    questions: list[QuestionIn] = Field(min_length=1, max_length=9)
    # An SMS invitation longer than the hub's part limit costs more: say you accept it.
    confirm_long: bool = False


class EndIn(_In):
    reason: Reason


class PaperVoteIn(_In):
    """A signed paper decision handed in while the ballot is open."""

    owner: Code = Field(description="the owner's register key")
    # question position → option code
    choices: dict[int, Annotated[str, StringConstraints(pattern=r"^[1-9]$")]]
    reference: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]


class PhoneConfirmIn(_In):
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=32)]
    reference: Reason


class QuestionOut(BaseModel):
    position: int
    texts: dict[str, str]
    matter: str
    threshold: str
    options: list[dict[str, Any]]


class BallotOut(BaseModel):
    id: int
    status: BallotStatus
    scope: BallotScope
    building: str | None
    estate: str | None
    titles: dict[str, str]
    details: dict[str, str]
    language: str
    rule_set: str
    edition: str
    rules_digest: str
    count_policy: CountPolicy
    channels: list[str]
    notice_at: datetime
    opens_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    end_reason: str | None
    sms_parts: int
    total_area: str | None
    total_heads: int | None
    voter_count: int | None
    unowned_units: int | None
    electorate_digest: str | None
    created_by: str
    questions: list[QuestionOut]


class OwnerPhoneOut(BaseModel):
    phone: str
    status: str
    added_at: datetime
    verified_by: str | None


class OwnerOut(BaseModel):
    code: str
    kind: str
    name: str | None
    units: list[dict[str, str]]
    phones: list[OwnerPhoneOut]


class RuleSetOut(BaseModel):
    code: str
    edition: str
    jurisdiction: str
    names: dict[str, str]
    source: str
    digest: str
    notice_days_min: int
    voting_days_min: int
    voting_days_max: int
    # What one meeting (one ballot) may cover: "building", "estate".
    scopes: list[str]
    matters: list[dict[str, Any]]


class TallyOut(BaseModel):
    ballot: int
    status: BallotStatus
    final: bool
    rule_set: str
    edition: str
    total_area: str
    total_heads: int
    voters: int
    voted: int
    questions: list[dict[str, Any]]


class CastOut(BaseModel):
    counted: dict[int, str]
    replaced: dict[int, str]
    kept: dict[int, str]
