"""places: geocoding search support and gazetteer aliases per language

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 02:50:00
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_gazetteer = sa.table(
    "gazetteer",
    sa.column("id", sa.Integer()),
    sa.column("names", sa.JSON()),
    sa.column("aliases", sa.JSON()),
)
_buildings = sa.table(
    "buildings",
    sa.column("id", sa.Integer()),
    sa.column("addresses", sa.JSON()),
)


def _loaded(value: Any) -> Any:
    # JSON columns read back as text on some drivers when reflected through sa.table.
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    op.create_table(
        "place_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("gazetteer_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["building_id"], ["buildings.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["gazetteer_id"], ["gazetteer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_place_names_building_id"), "place_names", ["building_id"], unique=False
    )
    op.create_index(
        op.f("ix_place_names_gazetteer_id"), "place_names", ["gazetteer_id"], unique=False
    )
    op.create_index(op.f("ix_place_names_key"), "place_names", ["key"], unique=False)
    _fill()


def _fill() -> None:
    """Aliases become per language ("*": of none in particular); every name is filed."""
    # The index must be filed by the very function the geocoder queries with: a frozen
    # copy here would drift from it and silently lose matches.
    from core.territory.places import building_rows, gazetteer_rows

    bind = op.get_bind()
    place_names = sa.table(
        "place_names",
        sa.column("building_id", sa.Integer()),
        sa.column("gazetteer_id", sa.Integer()),
        sa.column("language", sa.String()),
        sa.column("name", sa.String()),
        sa.column("key", sa.String()),
    )
    rows: list[dict[str, Any]] = []
    for entry_id, names, aliases in bind.execute(sa.select(_gazetteer)).all():
        aliases = _loaded(aliases)
        if isinstance(aliases, list):
            aliases = {"*": aliases} if aliases else {}
            bind.execute(
                _gazetteer.update().where(_gazetteer.c.id == entry_id).values(aliases=aliases)
            )
        rows.extend(gazetteer_rows(entry_id, _loaded(names), aliases))
    for building_id, addresses in bind.execute(sa.select(_buildings)).all():
        rows.extend(building_rows(building_id, _loaded(addresses)))
        if len(rows) >= 5000:
            bind.execute(place_names.insert(), rows)
            rows = []
    if rows:
        bind.execute(place_names.insert(), rows)


def downgrade() -> None:
    bind = op.get_bind()
    for entry_id, aliases in bind.execute(sa.select(_gazetteer.c.id, _gazetteer.c.aliases)).all():
        aliases = _loaded(aliases)
        if isinstance(aliases, dict):
            flat = [alias for said in aliases.values() for alias in said]
            bind.execute(
                _gazetteer.update().where(_gazetteer.c.id == entry_id).values(aliases=flat)
            )
    op.drop_index(op.f("ix_place_names_key"), table_name="place_names")
    op.drop_index(op.f("ix_place_names_gazetteer_id"), table_name="place_names")
    op.drop_index(op.f("ix_place_names_building_id"), table_name="place_names")
    op.drop_table("place_names")
