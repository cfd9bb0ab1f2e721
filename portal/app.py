"""The FastAPI app factory: one app serving the API, health, and the web surfaces."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from channels.installed import registry as installed_channels
from channels.registry import ChannelRegistry
from core.assignment.views import router as assignment_router
from core.auth.views import router as session_router
from core.config import Settings, get_settings
from core.events.views import router as events_router
from core.installed import installed
from core.jobs.tasks import running_workers
from core.notices.views import router as notices_router
from core.residents.views import router as residents_router
from core.routing.views import router as routing_router
from core.runtime import Hub, open_hub
from core.tickets.actions_views import canned_router
from core.tickets.actions_views import router as ticket_actions_router
from core.tickets.views import router as tickets_router
from portal import console, guards
from portal.apidocs import router as apidocs_router
from portal.health import router as health_router
from portal.open311.views import router as open311_router
from portal.simulator.live import router as simulator_live_router
from portal.simulator.views import router as simulator_router
from portal.subscriptions.views import router as subscriptions_router

logger = logging.getLogger("hub.portal")

# Routes that take files: CSV imports and bank statements, and case photos.
IMPORT_PATHS = re.compile(r"/api/v1/[a-z-]+/(imports/[a-z_-]+|statements)")
PHOTO_PATHS = re.compile(r"(/api/v1|/console)/dispatch/cases/[^/]+/photos")


def _body_limits(settings: Settings) -> guards.BodyLimits:
    # A multipart photo carries its form framing beside the picture.
    photo = settings.media_max_bytes + 64 * 1024
    return guards.BodyLimits(
        default=settings.max_body_bytes,
        larger=((IMPORT_PATHS, settings.import_max_bytes), (PHOTO_PATHS, photo)),
    )


def create_app(
    settings: Settings | None = None,
    *,
    channels: ChannelRegistry | None = None,
    run_worker: bool | None = None,
    prepare_database: bool | None = None,
    hub: Hub | None = None,
) -> FastAPI:
    """Returns the hub's web app.

    In the embedded mode the app also migrates the database, loads the demo city on
    first run and runs the queue worker in-process, so one command gives a working hub.
    """
    settings = settings or get_settings()
    channels = channels or (hub.channels if hub else installed_channels(settings))
    app = FastAPI(
        title="Citizen service hub",
        version="0.1.0",
        lifespan=_lifespan(
            settings,
            channels=channels,
            given_hub=hub,
            run_worker=settings.embedded if run_worker is None else run_worker,
            prepare_database=settings.embedded if prepare_database is None else prepare_database,
        ),
        openapi_url="/openapi.json",
        # /docs and /redoc come from portal.apidocs, with their assets served from here.
        docs_url=None,
        redoc_url=None,
    )
    if hub is not None:
        app.state.hub = hub
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie="hub_session",
        same_site="lax",
        https_only=not settings.embedded,
        max_age=12 * 3600,
    )
    guards.install(app, limits=_body_limits(settings))
    _include_routers(app, settings, channels)
    return app


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def _lifespan(
    settings: Settings,
    *,
    channels: ChannelRegistry,
    given_hub: Hub | None,
    run_worker: bool,
    prepare_database: bool,
) -> Lifespan:
    """Returns the app's lifespan: open the hub (migrate, demo, worker as asked), close it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if given_hub is not None:
            # The caller owns this hub (tests, embedding): use it, and leave it open.
            app.state.hub = given_hub
            yield
            return
        hub: Hub = await open_hub(settings, channels=channels, offices=installed())
        if prepare_database:
            await _prepare_database(hub, settings)
        app.state.hub = hub
        try:
            if run_worker:
                async with running_workers(hub):
                    yield
            else:
                yield
        finally:
            await hub.close()

    return lifespan


async def _prepare_database(hub: Hub, settings: Settings) -> None:
    """Migrates the database and, on first run, loads the demo city."""
    from core.demo import load_demo_if_empty
    from core.migrate import upgrade_engine

    await upgrade_engine(hub.engine, settings)
    if settings.demo_on_first_run:
        await load_demo_if_empty(
            session_factory=hub.session_factory,
            billing_secret=settings.secret_key.get_secret_value(),
        )


def _include_routers(app: FastAPI, settings: Settings, channels: ChannelRegistry) -> None:
    """Mounts the API, the channels' webhooks and the web surfaces."""
    api = APIRouter(prefix="/api/v1")
    # Each installed back office brings its own API (its spec lists the routers).
    for router in (
        *installed().routers(),
        tickets_router,
        ticket_actions_router,
        canned_router,
        assignment_router,
        residents_router,
        routing_router,
        session_router,
        notices_router,
        events_router,
    ):
        api.include_router(router)
    app.include_router(api)
    app.include_router(health_router)
    app.include_router(apidocs_router)
    app.include_router(open311_router)
    # Each installed channel brings its own webhooks (Twilio's, later Telegram's).
    for name in channels.names():
        for router in channels.spec(name).routers:
            app.include_router(router)
    app.include_router(subscriptions_router)
    console.install(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    if settings.simulator_on:
        app.include_router(simulator_router)
        app.include_router(simulator_live_router)

        @app.get("/", include_in_schema=False)
        async def home() -> RedirectResponse:
            # Until the citizen portal lands, a new user's first stop is the simulator.
            return RedirectResponse("/simulator")
