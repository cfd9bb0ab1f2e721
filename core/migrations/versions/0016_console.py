"""console: read marks and the inbox's indexes

Each staff member's last look at a ticket (unread badges), and the indexes the inbox's
views page on: newest activity first city-wide, within a district, one person's own, the
queue (unassigned, oldest first) and the overdue.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_reads",
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff_users.id"), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), primary_key=True),
        sa.Column("seen_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tickets_updated", "tickets", ["updated_at", "id"])
    op.create_index("ix_tickets_district_updated", "tickets", ["district_id", "updated_at"])
    op.create_index("ix_tickets_assignee_updated", "tickets", ["assignee_id", "updated_at"])
    op.create_index("ix_tickets_assignee_created", "tickets", ["assignee_id", "created_at"])
    op.create_index("ix_tickets_overdue_updated", "tickets", ["overdue", "updated_at"])
    waiting = sa.text(
        "assignee_id IS NULL AND status IN "
        "('assigned', 'in_progress', 'new', 'on_hold', 'reopened')"
    )
    op.create_index(
        "ix_tickets_waiting",
        "tickets",
        ["district_id", "created_at"],
        postgresql_where=waiting,
        sqlite_where=waiting,
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_waiting", table_name="tickets")
    op.drop_index("ix_tickets_overdue_updated", table_name="tickets")
    op.drop_index("ix_tickets_assignee_created", table_name="tickets")
    op.drop_index("ix_tickets_assignee_updated", table_name="tickets")
    op.drop_index("ix_tickets_district_updated", table_name="tickets")
    op.drop_index("ix_tickets_updated", table_name="tickets")
    op.drop_table("ticket_reads")
