"""The live event stream under load: 200 staff streams on ``GET /api/v1/events`` while SMS
arrive through intake at 50 a second, on PostgreSQL + Redis, in three processes.

    python -m bench.events [--clients 200] [--rate 50] [--seconds 60] [--port 8917]
                           [--raw-clients] [--database hub_bench_events]
                           [--server-profile FILE]

1. A scratch database with the demo city and one API key per client (city-scoped staff of
   several roles, so every stream is owed every event: the widest fan-out).
2. ``hub serve`` (uvicorn, one process) on that database and Redis. Its RSS is read with no
   stream open (after one warm-up stream) and with every client connected and idle: the
   difference over the number of clients is the memory a connection costs.
3. A client process holds the streams (httpx async streaming; ``--raw-clients``: plain
   asyncio sockets, for when httpx's own parsing is what saturates the client) and stamps
   every frame's arrival with the wall clock.
4. A sender process runs ``core.intake.service.receive`` on new SMS at ``--rate`` for
   ``--seconds`` (open loop: a slow message does not slow the next one; each from a new
   phone, so each is its own ticket and its own transaction). The commit is stamped where
   the hub runs its after-commit effects (``Hub.run_effects``, right after COMMIT returns).
5. Latency of an event on a stream = its arrival there − its transaction's commit stamp,
   over every (stream, event) pair of the measured messages; every stream must get every
   event exactly once. Also from the event's ``created_at``, and per event until the last
   stream had it.

Bare limits measured in the same run: the Redis pub/sub round trip from the sender process
to the client process (publish → subscriber receive, idle and during the load), and the
feed's SELECT of new ``ticket_events`` with their tickets (``read_events``) after the load.

Prints human-readable progress on stderr and a JSON summary on stdout.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import itertools
import json
import os
import platform
import re
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from redis.asyncio import Redis
from sqlalchemy import func, select, text

from bench import common
from bench.intake import TEXTS
from channels.contract import Channel, InboundMessage
from channels.installed import registry as installed_channels
from core.auth import service as auth_service
from core.auth.enums import Role, ScopeKind
from core.config import Settings
from core.db import transaction, utcnow
from core.demo import load_demo_if_empty
from core.events.collector import Effect
from core.events.feed import read_events
from core.installed import installed
from core.intake import service as intake
from core.migrate import upgrade_engine
from core.runtime import Hub, open_hub
from core.tickets.models import TicketEvent

RTT_CHANNEL = "bench:events:rtt"
ROLES = (Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR)
_ID_LINE = re.compile(rb"^id: ?(\d+)\r?$", re.MULTILINE)
_PYTHON = sys.executable


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def settings_for(database: str, pool: int) -> Settings:
    """Returns the settings every process of the run shares."""
    common.BENCH_DB = database
    return Settings(
        database_url=common.bench_database_url(),
        redis_url=common.REDIS_URL,
        secret_key="bench-only-secret-value-0123456789",
        db_pool_size=pool,
        db_max_overflow=0,
    )


def percentiles(values: Any) -> dict[str, float]:
    """Returns count, p50/p95/p99/max of ``values`` (seconds) in milliseconds."""
    ordered = np.sort(np.asarray(values, dtype=float))
    if not len(ordered):
        return {"count": 0}
    return {
        "count": int(len(ordered)),
        "p50_ms": round(float(np.percentile(ordered, 50)) * 1000, 2),
        "p95_ms": round(float(np.percentile(ordered, 95)) * 1000, 2),
        "p99_ms": round(float(np.percentile(ordered, 99)) * 1000, 2),
        "max_ms": round(float(ordered[-1]) * 1000, 2),
    }


# --- the client process -------------------------------------------------------------------


class Streams:
    """What the client process saw: per stream, each event id and when it arrived."""

    def __init__(self, count: int) -> None:
        self.ids = [array.array("q") for _ in range(count)]
        self.times = [array.array("d") for _ in range(count)]
        self.connected = 0
        self.errors: list[str] = []
        self.rtt: list[tuple[str, float]] = []

    def take(self, index: int, frames: bytes, arrived: float) -> None:
        ids, times = self.ids[index], self.times[index]
        for match in _ID_LINE.finditer(frames):
            ids.append(int(match.group(1)))
            times.append(arrived)


async def _httpx_stream(
    client: httpx.AsyncClient, url: str, key: str, index: int, streams: Streams
) -> None:
    headers = {"X-API-Key": key, "Accept": "text/event-stream"}
    async with client.stream("GET", url, headers=headers) as response:
        response.raise_for_status()
        streams.connected += 1
        buffer = b""
        async for chunk in response.aiter_raw():
            arrived = time.time()
            buffer += chunk
            end = buffer.rfind(b"\n\n")
            if end >= 0:
                streams.take(index, buffer[:end], arrived)
                buffer = buffer[end + 2 :]


async def _raw_stream(host: str, port: int, key: str, index: int, streams: Streams) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        (
            f"GET /api/v1/events HTTP/1.1\r\nHost: {host}:{port}\r\nX-API-Key: {key}\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
    streams.connected += 1
    buffer = b""
    while data := await reader.read(65536):
        arrived = time.time()
        buffer += data
        # Chunk-size lines of the chunked encoding never look like "id: <digits>".
        end = buffer.rfind(b"\n\n")
        if end >= 0:
            streams.take(index, buffer[:end], arrived)
            buffer = buffer[end + 2 :]


async def _follow_rtt(streams: Streams, subscribed: asyncio.Event) -> None:
    redis = Redis.from_url(common.REDIS_URL)
    pubsub = redis.pubsub()
    await pubsub.subscribe(RTT_CHANNEL)
    subscribed.set()
    async for message in pubsub.listen():
        if message["type"] == "message":
            phase, sent = message["data"].decode().split(":", 1)
            streams.rtt.append((phase, time.time() - float(sent)))


async def run_clients(args: argparse.Namespace) -> None:
    """Holds the streams until SIGTERM, writing progress; then writes what arrived."""
    keys = read_json(Path(args.keys))
    out = Path(args.out)
    streams = Streams(len(keys))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    subscribed = asyncio.Event()
    tasks = [asyncio.create_task(_follow_rtt(streams, subscribed))]
    await subscribed.wait()
    url = f"http://127.0.0.1:{args.port}/api/v1/events"
    limits = httpx.Limits(max_connections=len(keys) + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(10, read=None)) as client:

        async def one(index: int, key: str) -> None:
            try:
                if args.raw_clients:
                    await _raw_stream("127.0.0.1", args.port, key, index, streams)
                else:
                    await _httpx_stream(client, url, key, index, streams)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                streams.errors.append(f"stream {index}: {exc!r}")

        tasks += [asyncio.create_task(one(i, key)) for i, key in enumerate(keys)]
        cpu_started = time.process_time()
        while not stop.is_set():
            lasts = [ids[-1] if ids else 0 for ids in streams.ids]
            progress = {
                "connected": streams.connected,
                "errors": len(streams.errors),
                "min_last_id": min(lasts),
                "frames": sum(len(ids) for ids in streams.ids),
                "cpu_s": time.process_time() - cpu_started,
            }
            write_json(out.parent / "progress.json", progress)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    save_streams(out, streams)


def save_streams(out: Path, streams: Streams) -> None:
    """Writes every stream's arrivals (numpy) and the rest (JSON) beside ``out``."""
    np.savez(
        out.with_suffix(".npz"),
        ids=np.concatenate([np.frombuffer(ids, dtype=np.int64) for ids in streams.ids]),
        times=np.concatenate([np.frombuffer(times) for times in streams.times]),
        lengths=np.array([len(ids) for ids in streams.ids], dtype=np.int64),
    )
    write_json(out.with_suffix(".json"), {"errors": streams.errors, "rtt": streams.rtt})


def load_streams(out: Path) -> dict[str, Any]:
    """Reads what ``save_streams`` wrote: per stream, the ids and arrival times."""
    arrays = np.load(out.with_suffix(".npz"))
    bounds = np.cumsum(arrays["lengths"])[:-1]
    return {
        "ids": np.split(arrays["ids"], bounds),
        "times": np.split(arrays["times"], bounds),
        **read_json(out.with_suffix(".json")),
    }


# --- the sender process -------------------------------------------------------------------


def stamp_commits(hub: Hub) -> dict[asyncio.Task[Any], float]:
    """Records, per task, the wall-clock time its transaction's after-commit effects began.

    The hub runs them from the session's ``after_commit`` (core/events/collector.py), in
    the task that committed, so this is when COMMIT returned.
    """
    stamps: dict[asyncio.Task[Any], float] = {}
    original = hub.run_effects

    async def stamped(effects: list[Effect]) -> None:
        task = asyncio.current_task()
        if task is not None:
            stamps.setdefault(task, time.time())
        await original(effects)

    hub.run_effects = stamped  # type: ignore[method-assign]
    return stamps


async def _ping(redis: Redis, phase: str, count: int, every: float) -> None:
    for _ in range(count):
        await redis.publish(RTT_CHANNEL, f"{phase}:{time.time()!r}")
        await asyncio.sleep(every)


async def _timed_reads(hub: Hub, repeat: int) -> dict[str, Any]:
    """Times the feed's read of the newest few events (one message's worth) with tickets."""
    async with hub.session_factory() as session:
        newest = int(await session.scalar(select(func.max(TicketEvent.id))) or 0)
    took: list[float] = []
    for _ in range(repeat):
        begun = time.perf_counter()
        async with hub.session_factory() as session:
            rows = await read_events(db_session=session, after=newest - 4, upto=None, limit=200)
        took.append(time.perf_counter() - begun)
    return {"rows": len(rows), **percentiles(took)}


async def run_sender(args: argparse.Namespace) -> None:
    """Sends ``rate`` SMS a second through intake for ``seconds``; writes the stamps."""
    settings = settings_for(args.database, args.pool)
    hub = await open_hub(settings, channels=installed_channels(settings), offices=installed())
    stamps = stamp_commits(hub)
    redis = Redis.from_url(common.REDIS_URL)
    texts = itertools.cycle(TEXTS)
    records: list[dict[str, Any]] = []
    intake_latency: list[float] = []

    async def send(number: int, measured: bool) -> None:
        message = InboundMessage(
            channel=Channel.SMS,
            sender_address=f"+7916{number:07d}",
            text=next(texts),
            provider_message_id=f"events-{number}",
            received_at=utcnow(),
        )
        begun = time.time()
        result = await intake.receive(hub=hub, message=message)
        returned = time.time()
        task = asyncio.current_task()
        committed = stamps.pop(task, None) if task is not None else None
        if measured and result.ticket_id is not None and committed is not None:
            intake_latency.append(returned - begun)
            records.append(
                {"ticket": result.ticket_id, "committed": committed, "returned": returned}
            )

    try:
        await _ping(redis, "idle", 200, 0.01)
        await asyncio.gather(*(send(9_000_000 + i, False) for i in range(20)))
        await asyncio.sleep(2)
        total = int(args.rate * args.seconds)
        pinging = asyncio.create_task(_ping(redis, "load", int(args.seconds * 10), 0.1))
        started = time.perf_counter()
        sending: list[asyncio.Task[None]] = []
        for number in range(total):
            delay = started + number / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sending.append(asyncio.create_task(send(number, True)))
        await asyncio.gather(*sending)
        elapsed = time.perf_counter() - started
        await pinging
        reads = await _timed_reads(hub, 300)
    finally:
        await redis.aclose()
        await hub.close()
    write_json(
        Path(args.out),
        {
            "sent": total,
            "measured": len(records),
            "seconds": round(elapsed, 2),
            "rate": round(total / elapsed, 1),
            "intake": percentiles(intake_latency),
            "select_new_events": reads,
            "records": records,
        },
    )


# --- the orchestrator ---------------------------------------------------------------------


async def prepare(database: str, clients: int) -> tuple[Settings, list[str]]:
    """Creates the scratch database with the demo city; returns one staff key per client."""
    settings = settings_for(database, 4)
    await common.recreate_database()
    hub = await open_hub(settings, channels=installed_channels(settings), offices=installed())
    try:
        await upgrade_engine(hub.engine, settings)
        await load_demo_if_empty(session_factory=hub.session_factory, with_staff=False)
        keys = []
        async with transaction(hub.session_factory) as session:
            for index in range(clients):
                _, key = await auth_service.create_api_key(
                    db_session=session,
                    name=f"bench stream {index}",
                    role=ROLES[index % len(ROLES)],
                    scope_kind=ScopeKind.CITY,
                )
                keys.append(key)
    finally:
        await hub.close()
    return settings, keys


def rss_kib(pid: int) -> int:
    """Returns the resident set size of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """Returns the user + system CPU time a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def spawn(command: list[str], log_file: Path, **env: str) -> asyncio.subprocess.Process:
    """Starts one of the run's processes, its output going to ``log_file``."""
    with log_file.open("wb") as output:
        return await asyncio.create_subprocess_exec(
            *command,
            env={**os.environ, **env},
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )


async def start_server(
    settings: Settings, port: int, folder: Path, profile: str | None
) -> asyncio.subprocess.Process:
    """Starts ``hub serve`` on the scratch database; returns the process once it answers.

    ``profile``: run it under cProfile, the statistics written there when it stops.
    """
    command = [str(Path(_PYTHON).with_name("hub")), "serve", "--port", str(port)]
    if profile:
        command = [_PYTHON, "-m", "cProfile", "-o", profile, *command]
    server = await spawn(
        command,
        folder / "server.log",
        HUB_DATABASE_URL=settings.database_url,
        HUB_REDIS_URL=common.REDIS_URL,
        HUB_SECRET_KEY=settings.secret_key.get_secret_value(),
        HUB_DB_POOL_SIZE="10",
    )
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if server.returncode is not None:
                raise RuntimeError(f"hub serve exited: see {folder / 'server.log'}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code < 500:
                    return server
            await asyncio.sleep(0.3)
    server.terminate()
    raise RuntimeError("hub serve did not answer within 60 s")


async def warm_stream(port: int, key: str) -> None:
    """Opens one stream and waits for its first frame, so the server's feed is running."""
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(10, read=30)) as client,
        client.stream(
            "GET", f"http://127.0.0.1:{port}/api/v1/events", headers={"X-API-Key": key}
        ) as response,
    ):
        response.raise_for_status()
        async for _ in response.aiter_raw():
            break


def read_progress(folder: Path) -> dict[str, Any]:
    try:
        return dict(read_json(folder / "progress.json"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


async def event_rows(settings: Settings) -> list[tuple[int, int, float]]:
    """Returns (event id, ticket id, created_at) of every event, for the analysis."""
    hub = await open_hub(settings, channels=installed_channels(settings), offices=installed())
    try:
        async with hub.engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT id, ticket_id, extract(epoch FROM created_at)"
                    " FROM ticket_events ORDER BY id"
                )
            )
            return [(int(row[0]), int(row[1]), float(row[2])) for row in rows]
    finally:
        await hub.close()


def analyse(
    events: list[tuple[int, int, float]], sent: dict[str, Any], seen: dict[str, Any]
) -> dict[str, Any]:
    """Latency of every measured event on every stream, and what is missing or repeated."""
    committed = {record["ticket"]: record["committed"] for record in sent["records"]}
    # The warm-up messages' events are not measured (no commit stamp kept for them).
    wanted = [
        (eid, committed[ticket], created) for eid, ticket, created in events if ticket in committed
    ]
    ids = np.array([eid for eid, _, _ in wanted], dtype=np.int64)
    commits = np.array([commit for _, commit, _ in wanted])
    created = np.array([c for _, _, c in wanted])
    from_commit, from_created, commit_of, missing, repeated = [], [], [], 0, 0
    last_arrival = np.full(len(ids), -np.inf)
    streams_with = np.zeros(len(ids), dtype=np.int64)
    for stream_ids, stream_times in zip(seen["ids"], seen["times"], strict=True):
        got, times = stream_ids, stream_times
        order = np.argsort(got, kind="stable")
        got, times = got[order], times[order]
        repeated += len(got) - len(np.unique(got))
        position = np.searchsorted(got, ids) if len(got) else np.zeros(len(ids), dtype=int)
        position = np.minimum(position, max(len(got) - 1, 0))
        found = (got[position] == ids) if len(got) else np.zeros(len(ids), dtype=bool)
        missing += int((~found).sum())
        arrival = times[position[found]] if len(got) else np.array([])
        from_commit.append(arrival - commits[found])
        from_created.append(arrival - created[found])
        commit_of.append(commits[found])
        last_arrival[found] = np.maximum(last_arrival[found], arrival)
        streams_with[found] += 1
    every = np.concatenate(from_commit) if from_commit else np.array([])
    # Whether the streams keep up: the median latency in each tenth of the sending time.
    when = np.concatenate(commit_of) if commit_of else np.array([])
    edges = np.linspace(commits.min(), commits.max(), 11) if len(commits) else np.array([])
    tenths = [
        round(float(np.median(every[(when >= low) & (when <= high)])) * 1000, 1)
        for low, high in itertools.pairwise(edges)
        if ((when >= low) & (when <= high)).any()
    ]
    # Events every stream had by the end (the others count as missing).
    everywhere = streams_with == len(seen["ids"])
    return {
        "events_measured": len(ids),
        "streams": len(seen["ids"]),
        "deliveries": int(len(every)),
        "missing": missing,
        "repeated": repeated,
        "commit_to_delivery": percentiles(every),
        "created_at_to_delivery": percentiles(np.concatenate(from_created)),
        "commit_to_last_stream": percentiles(last_arrival[everywhere] - commits[everywhere]),
        "p50_ms_by_tenth_of_the_run": tenths,
        "rtt": {
            phase: percentiles([value for name, value in seen["rtt"] if name == phase])
            for phase in ("idle", "load")
        },
    }


async def connect_clients(args: argparse.Namespace, folder: Path) -> asyncio.subprocess.Process:
    """Starts the client process; returns it once every stream is connected."""
    command = [_PYTHON, "-m", "bench.events", "--role", "clients", "--port", str(args.port)]
    command += ["--keys", str(folder / "keys.json"), "--out", str(folder / "seen")]
    clients = await spawn(
        command + (["--raw-clients"] if args.raw_clients else []), folder / "clients.log"
    )
    deadline = time.monotonic() + 60
    while read_progress(folder).get("connected", 0) < args.clients:
        if time.monotonic() > deadline or clients.returncode is not None:
            raise RuntimeError(f"clients did not connect: {read_progress(folder)}")
        await asyncio.sleep(0.5)
    return clients


async def load(args: argparse.Namespace, folder: Path, server: int, clients: int) -> dict[str, Any]:
    """Runs the sender to its end; returns the server's peak RSS and each process's CPU."""
    command = [_PYTHON, "-m", "bench.events", "--role", "sender", "--database", args.database]
    command += ["--rate", str(args.rate), "--seconds", str(args.seconds)]
    before = os.getloadavg()
    cpu = {"server": cpu_seconds(server), "clients": cpu_seconds(clients)}
    started = time.monotonic()
    sender = await spawn(command + ["--out", str(folder / "sent.json")], folder / "sender.log")
    peak = rss_kib(server)
    while sender.returncode is None:
        peak = max(peak, rss_kib(server))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sender.wait(), 1)
    took = time.monotonic() - started
    if sender.returncode:
        raise RuntimeError(f"sender failed: see {folder / 'sender.log'}")
    return {
        "load_average": {
            "before": [round(v, 2) for v in before],
            "after": [round(v, 2) for v in os.getloadavg()],
        },
        "cpu_share_during_load": {
            name: round((cpu_seconds(pid) - cpu[name]) / took, 2)
            for name, pid in (("server", server), ("clients", clients))
        },
        "peak_rss": peak,
    }


async def orchestrate(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-events-"))
    log(f"scratch folder {folder}")
    settings, keys = await prepare(args.database, args.clients)
    write_json(folder / "keys.json", keys)
    server = await start_server(settings, args.port, folder, args.server_profile)
    clients: asyncio.subprocess.Process | None = None
    try:
        await warm_stream(args.port, keys[0])
        await asyncio.sleep(2)
        rss = {"no_stream": rss_kib(server.pid)}
        log(f"server up, pid {server.pid}, RSS {rss['no_stream']} KiB with no stream open")
        clients = await connect_clients(args, folder)
        await asyncio.sleep(3)
        rss["connected_idle"] = rss_kib(server.pid)
        log(f"{args.clients} streams connected, server RSS {rss['connected_idle']} KiB")
        loaded = await load(args, folder, server.pid, clients.pid)
        rss["peak_under_load"] = loaded.pop("peak_rss")
        events = await event_rows(settings)
        log(f"sender done; waiting for every stream to reach event {events[-1][0]}")
        deadline = time.monotonic() + 90
        while read_progress(folder).get("min_last_id", 0) < events[-1][0]:
            if time.monotonic() > deadline:
                log(f"streams did not catch up: {read_progress(folder)}")
                break
            await asyncio.sleep(0.5)
        rss["after_load"] = rss_kib(server.pid)
        clients.send_signal(signal.SIGTERM)
        await asyncio.wait_for(clients.wait(), 120)
        seen = load_streams(folder / "seen")
        sent = read_json(folder / "sent.json")
    finally:
        if clients is not None and clients.returncode is None:
            clients.kill()
        # Ctrl+C, not SIGTERM: uvicorn re-raises the signal after its graceful shutdown, and
        # only an interrupt lets a profiled server write its statistics on the way out.
        server.send_signal(signal.SIGINT)
        await asyncio.wait_for(server.wait(), 60)
    return {
        "python": platform.python_version(),
        "clients": args.clients,
        "client": "raw asyncio sockets" if args.raw_clients else "httpx streaming",
        **loaded,
        "messages": {k: v for k, v in sent.items() if k != "records"},
        "server_rss_kib": rss,
        "kib_per_connection": round((rss["connected_idle"] - rss["no_stream"]) / args.clients, 1),
        "client_errors": seen["errors"][:5],
        **analyse(events, sent, seen),
        "rtt_bare_limit_note": "Redis publish in the sender → subscriber in the client process",
        "scratch_folder": str(folder),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--role", choices=("run", "clients", "sender"), default="run")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="messages a second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--port", type=int, default=8917)
    parser.add_argument("--raw-clients", action="store_true")
    parser.add_argument("--database", default="hub_bench_events")
    parser.add_argument("--pool", type=int, default=16, help="the sender's pool")
    parser.add_argument("--server-profile", help="run hub serve under cProfile, stats to this")
    parser.add_argument("--keys", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "clients":
        asyncio.run(run_clients(args))
    elif args.role == "sender":
        asyncio.run(run_sender(args))
    else:
        print(json.dumps(asyncio.run(orchestrate(args)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
