"""assignment and calls: agents' presence and capacity; call records

Who is available for the queue, with how many conversations at most and for which teams;
and one row per call to the hotline (who, when, which agent, which ticket, how it ended).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_states",
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff_users.id"), primary_key=True),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("max_open", sa.Integer(), nullable=False),
        sa.Column("teams", sa.JSON(), nullable=False),
        sa.Column("last_assigned_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("changed_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("external_id", sa.String(64), nullable=False, unique=True),
        sa.Column("caller", sa.String(32), nullable=False),
        sa.Column("resident_id", sa.Integer(), sa.ForeignKey("residents.id"), nullable=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=True),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
    )
    op.create_index("ix_calls_resident_id", "calls", ["resident_id"])
    op.create_index("ix_calls_agent_id", "calls", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_calls_agent_id", table_name="calls")
    op.drop_index("ix_calls_resident_id", table_name="calls")
    op.drop_table("calls")
    op.drop_table("agent_states")
