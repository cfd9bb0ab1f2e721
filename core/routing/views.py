"""REST API for routing data: rules are edited here, without code or a deploy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy import select

from core.auth.service import Principal
from core.routing import service as routing_service
from core.routing.models import Category, Department, RoutingRule
from core.routing.schemas import CategoryOut, DepartmentOut, RoutingRuleIn, RoutingRuleOut
from core.web.deps import STAFF_ROLES, CityAdminDep, DbId, HubDep, SessionDep, require_roles

router = APIRouter(tags=["routing"])

StaffDep = Annotated[Principal, Depends(require_roles(*STAFF_ROLES))]


@router.get("/routing-rules", response_model=list[RoutingRuleOut])
async def list_rules(db_session: SessionDep, _: StaffDep) -> list[RoutingRule]:
    """Returns the routing rules in the order they are tried."""
    return await routing_service.list_rules(db_session=db_session)


@router.post("/routing-rules", response_model=RoutingRuleOut, status_code=201)
async def create_rule(
    body: RoutingRuleIn, hub: HubDep, db_session: SessionDep, _: CityAdminDep
) -> RoutingRule:
    """Adds a routing rule; it applies to messages from the next cache refresh on."""
    try:
        rule = await routing_service.create_rule(db_session=db_session, data=body)
    except routing_service.UnknownReference as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    await db_session.commit()
    hub.routing.invalidate()
    return rule


@router.put("/routing-rules/{rule_id}", response_model=RoutingRuleOut)
async def update_rule(
    rule_id: DbId, body: RoutingRuleIn, hub: HubDep, db_session: SessionDep, _: CityAdminDep
) -> RoutingRule:
    """Replaces a routing rule."""
    rule = await db_session.get(RoutingRule, rule_id)
    if rule is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such routing rule")
    try:
        await routing_service.update_rule(db_session=db_session, rule=rule, data=body)
    except routing_service.UnknownReference as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    await db_session.commit()
    hub.routing.invalidate()
    return rule


@router.get("/categories", response_model=list[CategoryOut])
async def list_categories(db_session: SessionDep, _: StaffDep) -> list[Category]:
    """Returns every category."""
    return list(await db_session.scalars(select(Category).order_by(Category.code)))


@router.get("/departments", response_model=list[DepartmentOut])
async def list_departments(db_session: SessionDep, _: StaffDep) -> list[Department]:
    """Returns every department."""
    return list(await db_session.scalars(select(Department).order_by(Department.code)))
