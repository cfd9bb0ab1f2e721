"""Territory tables: the places tickets are about."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Float, ForeignKey, Numeric, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow

# Names shown to people are stored per language: {"en": ..., "ru": ..., "zh": ...}.
Names = dict[str, str]


class City(Base):
    __tablename__ = "cities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    names: Mapped[Names] = mapped_column(JSON)


class District(Base):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    names: Mapped[Names] = mapped_column(JSON)


class Community(Base):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    names: Mapped[Names] = mapped_column(JSON)

    district: Mapped[District] = relationship(lazy="raise")


class Building(Base):
    __tablename__ = "buildings"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    addresses: Mapped[Names] = mapped_column(JSON)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    total_area: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    community: Mapped[Community] = relationship(lazy="raise")


class Premises(Base):
    __tablename__ = "premises"
    __table_args__ = (UniqueConstraint("building_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    number: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="flat")
    area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    # Where ``area`` came from for owners' votes: the property register, else a survey,
    # else the sale contract (DOMAIN §3); None where the owner register never said.
    registered_area: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    surveyed_area: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    contract_area: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))


class PremisesOwner(Base):
    __tablename__ = "premises_owners"
    __table_args__ = (UniqueConstraint("premises_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    premises_id: Mapped[int] = mapped_column(ForeignKey("premises.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    # Share of the premises owned, as a fraction (joint owners hold parts of one unit).
    share: Mapped[Decimal] = mapped_column(Numeric(7, 6), default=Decimal(1))


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    premises_id: Mapped[int] = mapped_column(ForeignKey("premises.id"), index=True)
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    registered_residents: Mapped[int] = mapped_column(default=1)
    # The PIN printed on the paper bill, hashed: with the number it proves who is asking.
    pin_hash: Mapped[str | None] = mapped_column(String(200))


class GridCell(Base):
    """A unit grid cell: a polygon of about 10,000 m² with a city-specific code."""

    __tablename__ = "grid_cells"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    # GeoJSON Polygon geometry; the bounding box columns let SQL pre-filter cheaply.
    geometry: Mapped[str] = mapped_column(Text)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    # Processes cache the cells in a spatial index; a newer stamp tells them to reload.
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, server_default=func.current_timestamp()
    )
