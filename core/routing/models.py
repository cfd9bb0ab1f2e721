"""Departments, categories and routing rules: data, editable without code."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.territory.models import Names
from core.tickets.enums import Priority, TicketKind


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    names: Mapped[Names] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[TicketKind] = mapped_column(String(32))
    names: Mapped[Names] = mapped_column(JSON)
    # Words per language that point a free-text message to this category.
    keywords: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    default_priority: Mapped[Priority] = mapped_column(String(16), default=Priority.NORMAL)
    active: Mapped[bool] = mapped_column(default=True)


class SlaPolicy(Base):
    """How long a request may take: limits counted on a working calendar."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    names: Mapped[Names] = mapped_column(JSON)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("work_calendars.id"))
    resolution_limit: Mapped[int]
    # working_hours | working_days | calendar_hours
    unit: Mapped[str] = mapped_column(String(16))


class RoutingRule(Base):
    """Where a request goes. Rules are tried in ascending ``position``; the first match wins.

    Empty match columns match anything, so a rule with none set is the fallback.
    """

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(100))
    match_kind: Mapped[TicketKind | None] = mapped_column(String(32))
    match_category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    match_district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    match_community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    back_office: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    sla_policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"))
    priority: Mapped[Priority | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
