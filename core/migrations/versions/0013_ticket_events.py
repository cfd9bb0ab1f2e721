"""ticket events: typed actor

The free-text ``actor`` ("system", "resident", "staff:8", "apikey:3") becomes a kind and an
id, so the live stream and the history read who acted without parsing strings.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_events = sa.table(
    "ticket_events",
    sa.column("actor", sa.String()),
    sa.column("actor_kind", sa.String()),
    sa.column("actor_id", sa.Integer()),
)
# The legacy prefixes of the kinds that carry an id, as core.tickets.actors wrote them.
_PREFIXES = {"staff": "staff", "apikey": "api_key"}
_PLAIN = {"resident", "system", "provider"}


def _typed(actor: str) -> tuple[str, int | None]:
    """Returns (kind, id) for a legacy actor string; anything unknown was the hub itself."""
    prefix, _, number = actor.partition(":")
    if prefix in _PREFIXES and number.isdigit():
        return _PREFIXES[prefix], int(number)
    return (actor, None) if actor in _PLAIN else ("system", None)


def upgrade() -> None:
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("actor_id", sa.Integer(), nullable=True))
    connection = op.get_bind()
    # A handful of distinct values (one per staff member and key), so one UPDATE each.
    actors = connection.execute(sa.select(_events.c.actor).distinct()).scalars().all()
    for actor in actors:
        kind, number = _typed(actor)
        connection.execute(
            _events.update()
            .where(_events.c.actor == actor)
            .values(actor_kind=kind, actor_id=number)
        )
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.alter_column("actor_kind", existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_column("actor")


def downgrade() -> None:
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    legacy = {"staff": "staff", "api_key": "apikey"}
    pairs = connection.execute(sa.select(_events.c.actor_kind, _events.c.actor_id).distinct()).all()
    for kind, number in pairs:
        actor = f"{legacy.get(kind, kind)}:{number}" if number is not None else kind
        connection.execute(
            _events.update()
            .where(_events.c.actor_kind == kind)
            .where(_events.c.actor_id == number if number is not None else sa.true())
            .values(actor=actor)
        )
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.alter_column("actor", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("actor_id")
        batch_op.drop_column("actor_kind")
