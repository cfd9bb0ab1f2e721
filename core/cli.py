"""The ``hub`` command: serve, worker, db upgrade, demo, import, and account tools."""

from __future__ import annotations

import asyncio
import importlib
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.registry import ChannelRegistry
from core.auth.enums import Role, ScopeKind
from core.config import Settings, get_settings
from core.installed import installed


def _setup_logging() -> None:
    from core.logs import configure_logging

    configure_logging(get_settings().log_level)


T = TypeVar("T")

# The installed channels, built outside the core (channels/installed.py) and found by name,
# as ``hub serve`` finds the web app ("portal.app:create_app"): the core imports no channel
# package, and this is the one place the command names the composition root.
CHANNELS = "channels.installed:registry"


def installed_channels(settings: Settings) -> ChannelRegistry:
    """Returns the installed channels for ``settings`` (see ``CHANNELS``)."""
    module, _, factory = CHANNELS.partition(":")
    registry = getattr(importlib.import_module(module), factory)(settings)
    if not isinstance(registry, ChannelRegistry):
        raise TypeError(f"{CHANNELS} returned {type(registry).__name__}, not a ChannelRegistry")
    return registry


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Runs ``work`` in one database transaction on a short-lived engine."""
    from core.db import run_in_transaction

    return run_in_transaction(work)


# The importers' names, listed here so `hub import --help` shows them without a database.
IMPORT_KINDS = (
    "departments",
    "categories",
    "routing",
    "calendar",
    "suppliers",
    "services",
    "tariffs",
    "accounts",
    "meters",
    "building_meters",
    "balances",
    "dispatch_categories",
    "responsibilities",
    "gazetteer",
    "grid",
    "indicator_weights",
    "companies",
    "managers",
    "estates",
    "contracts",
    "committees",
    "indicators",
    "score_rules",
    "score_weights",
    "owners",
)


# How long `hub serve` lets requests finish on a stop; below docker's 10 s between SIGTERM
# and SIGKILL.
SHUTDOWN_GRACE_SECONDS = 5


@click.group()
def main() -> None:
    """Citizen service hub."""
    _setup_logging()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Runs the web app (and, in the embedded mode, the worker and the demo city)."""
    import uvicorn

    settings = get_settings()
    if settings.embedded:
        click.echo(f"Embedded mode: data in {settings.data_dir.resolve()}")
        click.echo(f"Open http://{host}:{port}/simulator")
    uvicorn.run(
        "portal.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
        # Live streams (/api/v1/events, the simulator's) never end by themselves: without a
        # limit a stop would wait for every console to hang up. They reconnect elsewhere
        # and resume from Last-Event-ID.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )


@main.command()
@click.option("--concurrency", default=10, show_default=True, type=int)
def worker(concurrency: int) -> None:
    """Runs the queue worker: outbox delivery, outbox sweep, SLA escalation."""
    from core.jobs.tasks import running_workers
    from core.runtime import open_hub

    settings = get_settings()
    if settings.redis_url is None:
        raise click.ClickException(
            "hub worker needs HUB_REDIS_URL; in the embedded mode the worker runs inside hub serve"
        )

    async def run() -> None:
        hub = await open_hub(settings, channels=installed_channels(settings), offices=installed())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            async with running_workers(hub, concurrency=concurrency):
                await stop.wait()
        finally:
            await hub.close()

    asyncio.run(run())


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    """Upgrades the database schema (Alembic)."""
    from core.migrate import upgrade as run_upgrade

    run_upgrade(get_settings(), revision)
    click.echo("database is at " + revision)


@main.command()
@click.option(
    "--with-staff/--without-staff",
    default=None,
    help="Create the demo logins (default: only in the embedded mode).",
)
def demo(with_staff: bool | None) -> None:
    """Loads the demo city (idempotent: a second run changes nothing)."""
    from channels.registry import bind as bind_channels
    from core.db import create_engine, create_session_factory
    from core.demo import load_demo_if_empty
    from core.migrate import upgrade as run_upgrade

    settings = get_settings()
    run_upgrade(settings)

    async def run() -> bool:
        engine = create_engine(settings)
        session_factory = create_session_factory(engine)
        # The demo's open ballot writes its SMS notices: they need the installed channels.
        bind_channels(session_factory, installed_channels(settings))
        try:
            return await load_demo_if_empty(
                session_factory=session_factory,
                with_staff=settings.embedded if with_staff is None else with_staff,
                billing_secret=settings.secret_key.get_secret_value(),
            )
        finally:
            await engine.dispose()

    click.echo("demo city loaded" if asyncio.run(run()) else "demo city already present")


@main.command("import")
@click.argument("what", type=click.Choice(sorted(IMPORT_KINDS)))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(what: str, path: Path) -> None:
    """Imports reference, billing or dispatch data from CSV, YAML or GeoJSON (by the file's
    extension; columns in docs/import-formats.md)."""
    from core.importing.service import ImportOptions, ImportRejected, format_of
    from core.imports import import_text

    settings = get_settings()
    options = ImportOptions(
        secret=settings.secret_key.get_secret_value(),
        region=settings.phone_region,
        language=settings.default_language,
    )
    # utf-8-sig: spreadsheets save CSV with a byte-order mark.
    text = path.read_text(encoding="utf-8-sig")
    fmt = format_of(path.name)
    try:
        report = _in_transaction(
            lambda session: import_text(
                db_session=session, what=what, text=text, fmt=fmt, options=options
            )
        )
    except ImportRejected as exc:
        for line, reason in exc.report.rejected:
            click.echo(f"line {line}: {reason}", err=True)
        raise click.ClickException("nothing imported: fix the rows above") from exc
    click.echo(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}")


@main.group()
def apikey() -> None:
    """API keys for outside systems."""


@apikey.command("create")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option(
    "--scope",
    "scope_kind",
    default="city",
    show_default=True,
    type=click.Choice([k.value for k in ScopeKind]),
)
@click.option("--scope-id", type=int, default=None)
def apikey_create(name: str, role: str, scope_kind: str, scope_id: int | None) -> None:
    """Creates an API key and prints it once."""
    from core.auth import service as auth_service

    if scope_kind != "city" and scope_id is None:
        raise click.ClickException("--scope-id is required for a scope narrower than the city")

    async def create(session: AsyncSession) -> str:
        _, key = await auth_service.create_api_key(
            db_session=session,
            name=name,
            role=Role(role),
            scope_kind=ScopeKind(scope_kind),
            scope_id=scope_id,
        )
        return key

    click.echo(_in_transaction(create))


@main.group()
def staff() -> None:
    """Staff accounts."""


@staff.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option(
    "--scope",
    "scope_kind",
    default="city",
    show_default=True,
    type=click.Choice([k.value for k in ScopeKind]),
)
@click.option("--scope-id", type=int, default=None)
@click.password_option()
def staff_create(
    username: str, role: str, scope_kind: str, scope_id: int | None, password: str
) -> None:
    """Creates a staff account."""
    from core.auth import service as auth_service

    if len(password) < 10:
        raise click.ClickException("use a password of at least 10 characters")
    if scope_kind != "city" and scope_id is None:
        raise click.ClickException("--scope-id is required for a scope narrower than the city")
    try:
        _in_transaction(
            lambda session: auth_service.create_staff(
                db_session=session,
                username=username,
                password=password,
                role=Role(role),
                scope_kind=ScopeKind(scope_kind),
                scope_id=scope_id,
            )
        )
    except IntegrityError as exc:
        raise click.ClickException(f"a staff account {username!r} already exists") from exc
    click.echo(f"created {username}")


def _add_domain_commands() -> None:
    from core.billing.cli import billing

    main.add_command(billing)


_add_domain_commands()


if __name__ == "__main__":
    sys.exit(main())
