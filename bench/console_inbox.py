"""The inbox's first paint at a million tickets: each saved view's first page, as a query
(``core.tickets.inbox.page``) and as the whole page over HTTP, for a city-wide agent and a
district dispatcher; beside the bare indexed query in the same run.

    python -m bench.console_inbox [--tickets 1000000] [--runs 50] [--reuse]

The tickets are written by PostgreSQL itself (``generate_series``): two years of them over
three districts, 95 % closed, the open rest spread over statuses, a third assigned to one
of 300 agents, some overdue. Then ANALYZE, as a live database would have.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import httpx
from sqlalchemy import select, text

from bench import common
from bench.events import log, percentiles, settings_for
from channels.installed import registry as installed_channels
from core.auth import service as auth_service
from core.auth.enums import Role, ScopeKind
from core.auth.models import StaffUser
from core.db import transaction
from core.demo import load_demo_if_empty
from core.installed import installed
from core.migrate import upgrade_engine
from core.runtime import Hub, open_hub
from core.territory.models import District
from core.tickets import inbox
from core.tickets.inbox import InboxQuery, View, Viewer
from portal.app import create_app

PASSWORD = "bench-inbox-password-1"
SEED = """
INSERT INTO tickets (channel, kind, summary, status, priority, back_office, district_id,
                     assignee_id, overdue, escalation_level, language, created_at, updated_at,
                     due_at)
SELECT 'sms', 'general', 'Bench request ' || n,
       CASE WHEN n % 20 = 0 THEN (ARRAY['new','assigned','in_progress','on_hold'])[1 + n % 4]
            ELSE 'closed' END,
       'normal', 'general', (CAST(:districts AS int[]))[1 + n % 3],
       CASE WHEN n % 3 = 0 THEN (CAST(:agents AS int[]))[1 + n % 300] END,
       n % 97 = 0, 0, 'ru',
       now() - make_interval(secs => (CAST(:count AS int) - n) * 63.0),
       now() - make_interval(secs => (CAST(:count AS int) - n) * 63.0 - (n % 50) * 60),
       now() - make_interval(secs => (CAST(:count AS int) - n) * 63.0) + interval '5 days'
FROM generate_series(1, CAST(:count AS int)) AS n
"""


async def seed(hub: Hub, count: int) -> None:
    """The demo city, 300 agents and a North dispatcher, and ``count`` tickets."""
    await upgrade_engine(hub.engine, hub.settings)
    await load_demo_if_empty(session_factory=hub.session_factory, with_staff=False)
    async with transaction(hub.session_factory) as session:
        districts = list(await session.scalars(select(District.id).order_by(District.id)))
        north = await session.scalar(select(District.id).where(District.code == "north"))
        agents = []
        for index in range(300):
            user = await auth_service.create_staff(
                db_session=session, username=f"inbox{index}", password=PASSWORD, role=Role.AGENT
            )
            agents.append(user.id)
        await auth_service.create_staff(
            db_session=session,
            username="inbox-north",
            password=PASSWORD,
            role=Role.DISPATCHER,
            scope_kind=ScopeKind.DISTRICT,
            scope_id=north,
        )
        begun = time.perf_counter()
        await session.execute(
            text(SEED), {"districts": districts, "agents": agents, "count": count}
        )
    async with hub.engine.connect() as connection:
        await connection.execute(text("COMMIT"))
        await connection.execute(text("ANALYZE tickets"))
    log(f"seeded {count} tickets in {time.perf_counter() - begun:.0f} s")


async def _timed(runs: int, work: Any) -> dict[str, Any]:
    took = []
    for _ in range(runs):
        begun = time.perf_counter()
        await work()
        took.append(time.perf_counter() - begun)
    return percentiles(took)


async def _viewer(hub: Hub, username: str) -> Viewer:
    async with hub.session_factory() as session:
        user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
        assert user is not None
        principal = auth_service.principal_for(user)
        return Viewer(staff_id=user.id, scope=principal.scope, teams=("general",))


async def queries(hub: Hub, runs: int) -> dict[str, Any]:
    """Each view's first page as the inbox service reads it, and the bare indexed query."""
    found: dict[str, Any] = {}

    async def bare() -> None:
        async with hub.session_factory() as session:
            await session.execute(
                text("SELECT id FROM tickets ORDER BY updated_at DESC, id DESC LIMIT 50")
            )

    found["bare indexed query"] = await _timed(runs, bare)
    for username in ("inbox1", "inbox-north"):
        viewer = await _viewer(hub, username)
        for view in View:

            async def first_page(view: View = view, viewer: Viewer = viewer) -> None:
                async with hub.session_factory() as session:
                    await inbox.page(db_session=session, viewer=viewer, query=InboxQuery(view=view))

            found[f"{username} {view}"] = await _timed(runs, first_page)
    return found


async def pages(hub: Hub, runs: int) -> dict[str, Any]:
    """The whole inbox page over HTTP (through the app, in this process), per view."""
    app = create_app(hub.settings, hub=hub, run_worker=False, prepare_database=False)
    found: dict[str, Any] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://hub.bench") as client:
        login = await client.post(
            "/api/v1/session", json={"username": "inbox1", "password": PASSWORD}
        )
        login.raise_for_status()
        for view in (View.MINE, View.UNASSIGNED, View.ALL):

            async def paint(view: View = view) -> None:
                (await client.get("/console", params={"view": str(view)})).raise_for_status()

            found[f"GET /console?view={view}"] = await _timed(runs, paint)
    return found


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    settings = settings_for(args.database, 4)
    if not args.reuse:
        await common.recreate_database()
    hub = await open_hub(settings, channels=installed_channels(settings), offices=installed())
    try:
        if not args.reuse:
            await seed(hub, args.tickets)
        return {
            "tickets": args.tickets,
            **await queries(hub, args.runs),
            **await pages(hub, args.runs),
        }
    finally:
        await hub.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database", default="hub_bench_inbox")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args)), indent=2))


if __name__ == "__main__":
    main()
