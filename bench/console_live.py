"""200 consoles connected while 50 messages a second arrive: from a message's commit to its
event on every console, and to its row drawn there; server memory per connection.

    python -m bench.console_live [--consoles 200] [--rate 50] [--seconds 30] [--port 8918]

On PostgreSQL + Redis, ``hub serve`` in its own process. A client process logs in one staff
session per console (the browser's way: a session cookie, not an API key), opens its
``GET /api/v1/events`` stream, and does what ``portal/static/console.js`` does: collects the
ticket numbers of events arriving within a second and asks ``/console/inbox/rows`` for them in
one request. The orchestrator sends the messages through intake (each from a new phone: each
its own ticket and transaction), stamping each commit (``bench.events.stamp_commits``).

Bare limit in the same run: a bare SSE echo (``bench.console_echo``): one Redis subscriber
fanning out to as many SSE connections, fed 50 timestamps a second through Redis pub/sub.
Prints progress on stderr and a JSON summary on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import common
from bench.events import (
    log,
    percentiles,
    read_json,
    rss_kib,
    settings_for,
    spawn,
    stamp_commits,
    write_json,
)
from bench.intake import TEXTS
from channels.contract import Channel, InboundMessage
from channels.installed import registry as installed_channels
from core.auth import service as auth_service
from core.auth.enums import Role
from core.db import transaction, utcnow
from core.demo import load_demo_if_empty
from core.installed import installed
from core.intake import service as intake
from core.migrate import upgrade_engine
from core.runtime import open_hub

PASSWORD = "bench-console-password-1"
# As portal/static/console.js: the rows of a burst of events are asked for together.
BATCH_SECONDS = 1.0
_TICKET = re.compile(rb'"ticket":"(\d+)"')
_CREATED = b"event: created"
_ROW = re.compile(r'data-number="(\d+)"')


async def prepare(database: str, consoles: int) -> None:
    """A scratch database with the demo city and one city-wide agent per console."""
    settings = settings_for(database, 4)
    await common.recreate_database()
    hub = await open_hub(settings, channels=installed_channels(settings), offices=installed())
    try:
        await upgrade_engine(hub.engine, settings)
        await load_demo_if_empty(session_factory=hub.session_factory, with_staff=False)
        async with transaction(hub.session_factory) as session:
            for index in range(consoles):
                await auth_service.create_staff(
                    db_session=session,
                    username=f"console{index}",
                    password=PASSWORD,
                    role=Role.AGENT,
                )
    finally:
        await hub.close()


async def _console(base: str, index: int, seen: dict[str, Any], ready: asyncio.Event) -> None:
    """One console: logs in, follows the stream, fetches the rows of each burst of events."""
    client = httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(30, read=None))
    login = await client.post(
        "/api/v1/session", json={"username": f"console{index}", "password": PASSWORD}
    )
    login.raise_for_status()
    # The cookie is Secure outside the embedded mode and this is plain HTTP on 127.0.0.1:
    # it is sent by hand, as a browser would over HTTPS.
    session = login.headers["set-cookie"].split(";", 1)[0]
    client.headers["cookie"] = session
    events: dict[str, float] = seen.setdefault("events", {}).setdefault(str(index), {})
    rows: dict[str, float] = seen.setdefault("rows", {}).setdefault(str(index), {})
    pending: set[str] = set()

    async def fetch_rows() -> None:
        await asyncio.sleep(BATCH_SECONDS)
        numbers = sorted(pending)
        pending.clear()
        answer = await client.get(
            "/console/inbox/rows", params={"view": "all", "numbers": ",".join(numbers)}
        )
        drawn = time.time()
        for number in _ROW.findall(answer.text):
            rows.setdefault(number, drawn)

    async with client.stream("GET", "/api/v1/events") as response:
        response.raise_for_status()
        seen["connected"] = seen.get("connected", 0) + 1
        if seen["connected"] >= seen["wanted"]:
            ready.set()
        async for chunk in response.aiter_raw():
            arrived = time.time()
            for frame in chunk.split(b"\n\n"):
                found = _TICKET.search(frame) if _CREATED in frame else None
                if found is None:
                    continue
                number = found.group(1).decode()
                events.setdefault(number, arrived)
                if not pending:
                    asyncio.create_task(fetch_rows())
                pending.add(number)


async def run_clients(args: argparse.Namespace) -> None:
    """The client process: every console, until told to stop; then writes what it saw."""
    seen: dict[str, Any] = {"wanted": args.consoles}
    ready = asyncio.Event()
    base = f"http://127.0.0.1:{args.port}"
    tasks = [asyncio.create_task(_console(base, i, seen, ready)) for i in range(args.consoles)]
    await asyncio.wait_for(ready.wait(), 300)
    Path(args.out).with_suffix(".ready").write_text("ready")
    stop = Path(args.out).with_suffix(".stop")
    # The orchestrator is another process: a file is the signal between the two.
    while not stop.exists():  # noqa: ASYNC110, ASYNC240
        await asyncio.sleep(0.2)
    for task in tasks:
        task.cancel()
    write_json(Path(args.out), seen)


async def send(database: str, rate: float, seconds: float) -> list[dict[str, Any]]:
    """Sends ``rate`` SMS a second through intake; returns each ticket's commit stamp."""
    settings = settings_for(database, 8)
    hub = await open_hub(settings, channels=installed_channels(settings), offices=installed())
    stamps = stamp_commits(hub)
    texts = itertools.cycle(TEXTS)
    records: list[dict[str, Any]] = []

    async def one(number: int) -> None:
        message = InboundMessage(
            channel=Channel.SMS,
            sender_address=f"+7917{number:07d}",
            text=next(texts),
            provider_message_id=f"console-{number}",
            received_at=utcnow(),
        )
        result = await intake.receive(hub=hub, message=message)
        task = asyncio.current_task()
        committed = stamps.pop(task, None) if task is not None else None
        if result.ticket_number and committed is not None:
            records.append({"ticket": result.ticket_number, "committed": committed})

    try:
        started, sending = time.perf_counter(), []
        for number in range(int(rate * seconds)):
            delay = started + number / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sending.append(asyncio.create_task(one(number)))
        await asyncio.gather(*sending)
    finally:
        await hub.close()
    return records


def analyse(records: list[dict[str, Any]], seen: dict[str, Any]) -> dict[str, Any]:
    """Commit → event and commit → row, over every (console, message) pair."""
    to_event, to_row, missing = [], [], 0
    for console, events in seen.get("events", {}).items():
        rows = seen.get("rows", {}).get(console, {})
        for record in records:
            arrived, drawn = events.get(record["ticket"]), rows.get(record["ticket"])
            if arrived is None or drawn is None:
                missing += 1
                continue
            to_event.append(arrived - record["committed"])
            to_row.append(drawn - record["committed"])
    return {
        "commit_to_event": percentiles(to_event),
        "commit_to_row": percentiles(to_row),
        "missing": missing,
    }


async def _wait_for(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():  # noqa: ASYNC240 (another process writes it)
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {path.name} within {seconds} s")
        await asyncio.sleep(0.2)


async def start_hub(database: str, port: int, folder: Path) -> asyncio.subprocess.Process:
    """``hub serve`` on the scratch database, with room for every console's login."""
    settings = settings_for(database, 4)
    server = await spawn(
        [str(Path(sys.executable).with_name("hub")), "serve", "--port", str(port)],
        folder / "server.log",
        HUB_DATABASE_URL=settings.database_url,
        HUB_REDIS_URL=common.REDIS_URL,
        HUB_SECRET_KEY=settings.secret_key.get_secret_value(),
        HUB_DB_POOL_SIZE="10",
        HUB_LOGIN_MAX_FAILURES_PER_CLIENT="1000",
    )
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(200):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code < 500:
                    return server
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)
    raise RuntimeError("hub serve did not start")


async def orchestrate(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-console-"))
    log(f"preparing {args.consoles} consoles in {args.database}")
    await prepare(args.database, args.consoles)
    server = await start_hub(args.database, args.port, folder)
    try:
        idle = rss_kib(server.pid)
        out = folder / "clients.json"
        clients = await spawn(
            [
                sys.executable,
                "-m",
                "bench.console_live",
                "clients",
                "--consoles",
                str(args.consoles),
                "--port",
                str(args.port),
                "--out",
                str(out),
            ],
            folder / "clients.log",
        )
        await _wait_for(out.with_suffix(".ready"), 300)
        await asyncio.sleep(2)
        connected = rss_kib(server.pid)
        log(f"{args.consoles} consoles connected; sending {args.rate}/s for {args.seconds} s")
        records = await send(args.database, args.rate, args.seconds)
        await asyncio.sleep(3)
        out.with_suffix(".stop").write_text("stop")
        await clients.wait()
        seen = read_json(out)
    finally:
        server.terminate()
        await server.wait()
    per_connection = (connected - idle) / args.consoles
    return {
        "consoles": args.consoles,
        "sent": len(records),
        **analyse(records, seen),
        "server_rss_kib": {
            "idle": idle,
            "connected": connected,
            "per_connection": round(per_connection, 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "clients"])
    parser.add_argument("--consoles", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--port", type=int, default=8918)
    parser.add_argument("--database", default="hub_bench_console")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    if args.mode == "clients":
        asyncio.run(run_clients(args))
        return
    print(json.dumps(asyncio.run(orchestrate(args)), indent=2))


if __name__ == "__main__":
    main()
