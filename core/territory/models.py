"""Territory tables: the places tickets are about, the estates buildings make up (and their
owners' committees), and the gazetteer that turns an address into a point."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Float, ForeignKey, Numeric, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow
from core.territory.enums import EstateKind, GazetteerKind

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


class Estate(Base):
    __tablename__ = "estates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    names: Mapped[Names] = mapped_column(JSON)
    addresses: Mapped[Names] = mapped_column(JSON, default=dict)
    kind: Mapped[EstateKind] = mapped_column(String(16), default=EstateKind.RESIDENTIAL)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    # Managed floor area in m²: it weighs a company's deductions (core.complaints.integrity).
    area: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    building_count: Mapped[int] = mapped_column(default=0)
    # Facility codes: lift, parking, playground, security, heating_station…
    facilities: Mapped[list[str]] = mapped_column(JSON, default=list)


class EstateBuilding(Base):
    """Which territory buildings an estate is made of: a resident's home finds its estate."""

    __tablename__ = "estate_buildings"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), unique=True)


class Committee(Base):
    """An owners' committee of an estate, with its term."""

    __tablename__ = "owners_committees"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    names: Mapped[Names] = mapped_column(JSON)
    chair_name: Mapped[str | None] = mapped_column(String(200))
    elected_on: Mapped[date]
    term_ends_on: Mapped[date | None]


class GazetteerEntry(Base):
    """A named place (street, community, landmark) that turns an address into a point."""

    __tablename__ = "gazetteer"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[GazetteerKind] = mapped_column(String(16))
    names: Mapped[Names] = mapped_column(JSON)
    # Other ways people name it, per language ({"en": ["station"], "zh": ["车站"]}); the key
    # "*" holds aliases of no particular language (the import's plain ``aliases`` column).
    aliases: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


class PlaceName(Base):
    """One name of a building or a gazetteer entry, filed under its geocoding key.

    The geocoder turns a message into the keys its words could match and reads only the
    names filed under them (core.territory.geocode.name_key), instead of every building.
    Rows are written by core.territory.places whenever an address or a gazetteer row changes.
    """

    __tablename__ = "place_names"

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int | None] = mapped_column(
        ForeignKey("buildings.id", ondelete="CASCADE"), index=True
    )
    gazetteer_id: Mapped[int | None] = mapped_column(
        ForeignKey("gazetteer.id", ondelete="CASCADE"), index=True
    )
    # The name's language; None for an alias of no particular language.
    language: Mapped[str | None] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(64), index=True)
