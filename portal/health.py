"""Liveness and readiness of the hub's dependencies."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from core.web.deps import HubDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(hub: HubDep) -> JSONResponse:
    """Returns the status of the database and Redis; 503 when one of them is down."""
    try:
        async with hub.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception:
        database = "down"
    redis_ok = await hub.ping_redis()
    redis = "not configured" if redis_ok is None else ("ok" if redis_ok else "down")
    healthy = database == "ok" and redis != "down"
    return JSONResponse(
        {
            "status": "ok" if healthy else "degraded",
            "database": database,
            "redis": redis,
            "mode": "embedded" if hub.settings.embedded else "service",
        },
        status_code=200 if healthy else 503,
    )
