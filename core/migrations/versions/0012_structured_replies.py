"""structured replies: outbox structure, pending choices; category menu keys go

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A menu key is the channel's data now (its ChannelSpec), not the category's.
    with op.batch_alter_table("categories") as batch:
        batch.drop_constraint("uq_categories_menu_key", type_="unique")
        batch.drop_column("menu_key")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("structure", sa.JSON(), nullable=True))
    op.create_table(
        "pending_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("notice", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_pending_choices_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_pending_choices_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_choices")),
        sa.UniqueConstraint(
            "contact_id", "channel", name=op.f("uq_pending_choices_contact_id_channel")
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("categories") as batch:
        batch.add_column(sa.Column("menu_key", sa.String(length=8), nullable=True))
        batch.create_unique_constraint("uq_categories_menu_key", ["menu_key"])
    op.drop_table("pending_choices")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("structure")
