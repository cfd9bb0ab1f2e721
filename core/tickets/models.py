"""Tickets, their threads and their append-only events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.tickets.actors import Actor
from core.tickets.enums import (
    ActorKind,
    Direction,
    EventKind,
    Priority,
    TicketKind,
    TicketStatus,
)
from core.tickets.numbers import format_public_number

# Open and held by nobody: what the queue hands out (core.tickets.inbox, core.assignment).
WAITING = (
    "assignee_id IS NULL AND status IN ('assigned', 'in_progress', 'new', 'on_hold', 'reopened')"
)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_due", "status", "due_at"),
        Index("ix_tickets_resident_created", "resident_id", "created_at"),
        # Intake looks up "a ticket this contact is in the middle of" on every message.
        Index("ix_tickets_contact_id", "contact_id", "id"),
        # Dispatch looks for duplicates: the same category within the last hours.
        Index("ix_tickets_category_created", "category_id", "created_at"),
        # The console's inbox: newest activity first, in a district, or one person's own.
        Index("ix_tickets_updated", "updated_at", "id"),
        Index("ix_tickets_district_updated", "district_id", "updated_at"),
        Index("ix_tickets_assignee_updated", "assignee_id", "updated_at"),
        # The queue (unassigned, oldest first) and the overdue view (docs/performance.md).
        Index("ix_tickets_assignee_created", "assignee_id", "created_at"),
        Index("ix_tickets_overdue_updated", "overdue", "updated_at"),
        # The queue of a district, oldest first: small, and instant even when it is empty
        # (a plain index on created_at would be read to the end looking for one).
        Index(
            "ix_tickets_waiting",
            "district_id",
            "created_at",
            postgresql_where=text(WAITING),
            sqlite_where=text(WAITING),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[TicketKind] = mapped_column(String(32), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    # The contact that raised the ticket: replies and notices go back to it.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    summary: Mapped[str] = mapped_column(String(500))
    address: Mapped[str | None] = mapped_column(String(500))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    premises_id: Mapped[int | None] = mapped_column(ForeignKey("premises.id"))
    grid_cell_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    status: Mapped[TicketStatus] = mapped_column(String(16), default=TicketStatus.NEW)
    priority: Mapped[Priority] = mapped_column(String(16), default=Priority.NORMAL)
    back_office: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    sla_policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue: Mapped[bool] = mapped_column(default=False)
    escalation_level: Mapped[int] = mapped_column(default=0)
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def public_number(self) -> str:
        """The number residents quote: the id with a check digit, so typos are caught."""
        return format_public_number(self.id)


class TicketMessage(Base):
    """A message from the resident, or a staff note, in a ticket's thread.

    Messages sent to the resident are the ticket's outbox rows; the thread is both, by time,
    so outbound text is stored once, with its delivery status beside it.
    """

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    direction: Mapped[Direction] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketEvent(Base):
    """The audit trail: rows are only ever inserted."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[EventKind] = mapped_column(String(32))
    # Who acted (core.tickets.actors.Actor): a kind, and the staff member's or API key's id.
    actor_kind: Mapped[ActorKind] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def actor(self) -> Actor:
        """Returns who made this change."""
        return Actor(ActorKind(self.actor_kind), self.actor_id)
