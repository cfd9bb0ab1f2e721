"""ticket actions: canned responses

Ready answers per language that an admin keeps and agents insert into a reply. (Notes,
merges and splits need no table of their own: they are thread messages and events.)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_canned_language_active", "canned_responses", ["language", "active"])


def downgrade() -> None:
    op.drop_index("ix_canned_language_active", table_name="canned_responses")
    op.drop_table("canned_responses")
