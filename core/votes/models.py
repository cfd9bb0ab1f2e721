"""Owner register extras, ballots, their frozen electorate and the append-only vote rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.votes.enums import (
    BallotScope,
    BallotStatus,
    CountPolicy,
    OwnerKind,
    PhoneStatus,
    Threshold,
)

Names = dict[str, str]


class Owner(Base):
    """A person (or company, or the developer) in the owner register, by the register's key.

    The key recognises one owner across all their units; the units and shares themselves
    are the territory's ``premises_owners`` rows.
    """

    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), unique=True)
    kind: Mapped[OwnerKind] = mapped_column(String(16), default=OwnerKind.PERSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OwnerPhone(Base):
    """A phone an owner votes from. A number added to an owner already on the register is
    pending until confirmed: numbers get recycled, and a register edit is not proof."""

    __tablename__ = "owner_phones"
    __table_args__ = (UniqueConstraint("owner_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    phone: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[PhoneStatus] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # register | account_pin | staff:<username>
    verified_by: Mapped[str | None] = mapped_column(String(80))
    # What the staff member saw (a passport check, a document number).
    reference: Mapped[str | None] = mapped_column(String(200))


class Ballot(Base):
    __tablename__ = "ballots"
    __table_args__ = (Index("ix_ballots_status_times", "status", "opens_at", "closes_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[BallotScope] = mapped_column(String(16))
    # Set for a building's ballot; the estate is set for both kinds when there is one, so
    # the estate's committee sees its buildings' ballots too.
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"), index=True)
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("estates.id"), index=True)
    # For staff scopes: the district the building (or the estate's first building) is in.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    # The committee that called it; None when the housing authority did.
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("owners_committees.id"))
    titles: Mapped[Names] = mapped_column(JSON)
    # The long explanation sent to whoever replies 0, and printed on the protocol.
    details: Mapped[Names] = mapped_column(JSON, default=dict)
    # The protocol is written in this language; texts must exist in it.
    language: Mapped[str] = mapped_column(String(8))
    rule_set: Mapped[str] = mapped_column(String(32))
    edition: Mapped[str] = mapped_column(String(16))
    rules_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[BallotStatus] = mapped_column(String(16), default=BallotStatus.DRAFT)
    count_policy: Mapped[CountPolicy] = mapped_column(String(8), default=CountPolicy.LAST)
    channels: Mapped[list[str]] = mapped_column(JSON)
    notice_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it closed early or was cancelled.
    end_reason: Mapped[str | None] = mapped_column(Text)
    # Each blast is claimed once by setting its time (a repeated job sends nothing).
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    results_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The longest SMS invitation in parts, and whether the caller accepted the cost.
    sms_parts: Mapped[int] = mapped_column(default=1)
    # Frozen when it opens: every vote there is (area in 1e-8 m², heads) and a digest
    # of the questions and the electorate.
    total_weight: Mapped[int | None] = mapped_column(BigInteger)
    total_heads: Mapped[int | None]
    voter_count: Mapped[int | None]
    unowned_units: Mapped[int | None]
    electorate_digest: Mapped[str | None] = mapped_column(String(64))
    # The tally as it stood at closing.
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BallotQuestion(Base):
    __tablename__ = "ballot_questions"
    __table_args__ = (UniqueConstraint("ballot_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    # 1–9: a reply code is the question's digit then the option's.
    position: Mapped[int]
    texts: Mapped[Names] = mapped_column(JSON)
    matter: Mapped[str] = mapped_column(String(48))
    threshold: Mapped[Threshold] = mapped_column(String(32))
    # [{"code": "1", "kind": "for", "labels": {"en": ..., ...}}, ...]
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class BallotVoter(Base):
    """One vote-holder of an opened ballot: a person (Russia) or an owner (China: a unit's
    owners, all units of one buyer together, the developer once), or a unit nobody is
    registered for, which counts in the totals and cannot vote."""

    __tablename__ = "ballot_voters"
    __table_args__ = (UniqueConstraint("ballot_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    key: Mapped[str] = mapped_column(String(200))
    weight: Mapped[int] = mapped_column(BigInteger)
    heads: Mapped[int]
    owners: Mapped[str] = mapped_column(Text)
    units: Mapped[str] = mapped_column(Text)


class BallotVoterMember(Base):
    """Who may vote for a voter: the residents behind it."""

    __tablename__ = "ballot_voter_members"
    __table_args__ = (Index("ix_ballot_voter_members_resident", "resident_id", "ballot_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("ballot_voters.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))


class BallotVote(Base):
    """One vote as cast. Append-only (the database refuses UPDATE and DELETE): a changed
    vote is a new row, and which row counts is the ballot's count policy."""

    __tablename__ = "ballot_votes"
    __table_args__ = (
        Index("ix_ballot_votes_count", "ballot_id", "question_id", "voter_id", "id"),
        UniqueConstraint("question_id", "voter_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("ballot_questions.id"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("ballot_voters.id"), index=True)
    option: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    # The resident who cast it, and from which address (phone, chat) if any.
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    address: Mapped[str | None] = mapped_column(String(200))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    # The provider's message id, the call id, or the paper decision's number.
    message_ref: Mapped[str | None] = mapped_column(String(200))
    # One vote per (question, voter, key): a retried call records nothing new.
    idempotency_key: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(80))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
