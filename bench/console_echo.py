"""The bare limit beside ``bench.console_live``: a bare SSE echo. One Redis subscriber fans
each published timestamp out to every SSE connection; 50 a second are published for the
run. Measures publish → arrival over every (connection, message) pair, and the server's
memory per connection.

    python -m bench.console_echo [--consoles 200] [--rate 50] [--seconds 30] [--port 8919]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

from bench import common
from bench.events import percentiles, rss_kib, spawn

CHANNEL = "bench:console:echo"


def app() -> Any:
    """A Starlette app: ``GET /sse`` streams every message published on CHANNEL."""
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    queues: set[asyncio.Queue[bytes]] = set()

    async def fan_out() -> None:
        pubsub = Redis.from_url(common.REDIS_URL).pubsub()
        await pubsub.subscribe(CHANNEL)
        async for message in pubsub.listen():
            if message.get("type") == "message":
                frame = b"data: " + message["data"] + b"\n\n"
                for queue in queues:
                    queue.put_nowait(frame)

    async def sse(_request: Any) -> StreamingResponse:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        queues.add(queue)

        async def frames() -> AsyncIterator[bytes]:
            try:
                yield b": connected\n\n"
                while True:
                    yield await queue.get()
            finally:
                queues.discard(queue)

        return StreamingResponse(frames(), media_type="text/event-stream")

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        task = asyncio.get_running_loop().create_task(fan_out())
        yield
        task.cancel()

    return Starlette(routes=[Route("/sse", sse)], lifespan=lifespan)


async def _client(port: int, arrivals: list[float], sent_at: list[float], ready: list[int]) -> None:
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(30, read=None)) as client,
        client.stream("GET", f"http://127.0.0.1:{port}/sse") as response,
    ):
        ready.append(1)
        async for chunk in response.aiter_raw():
            now = time.time()
            for line in chunk.split(b"\n"):
                if line.startswith(b"data: "):
                    arrivals.append(now - float(line[6:]))


async def orchestrate(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-echo-"))
    server = await spawn(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bench.console_echo:app",
            "--port",
            str(args.port),
            "--log-level",
            "warning",
        ],
        folder / "echo.log",
    )
    await asyncio.sleep(2)
    if server.returncode is not None:
        raise RuntimeError((folder / "echo.log").read_text())
    try:
        idle = rss_kib(server.pid)
        arrivals: list[float] = []
        ready: list[int] = []
        tasks = [
            asyncio.create_task(_client(args.port, arrivals, [], ready))
            for _ in range(args.consoles)
        ]
        # The clients count themselves in as they connect.
        while len(ready) < args.consoles:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)
        connected = rss_kib(server.pid)
        redis = Redis.from_url(common.REDIS_URL)
        started = time.perf_counter()
        for number in range(int(args.rate * args.seconds)):
            delay = started + number / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await redis.publish(CHANNEL, repr(time.time()))
        await asyncio.sleep(2)
        await redis.aclose()
        for task in tasks:
            task.cancel()
    finally:
        server.terminate()
        await server.wait()
    return {
        "consoles": args.consoles,
        "publish_to_arrival": percentiles(arrivals),
        "server_rss_kib": {
            "idle": idle,
            "connected": connected,
            "per_connection": round((connected - idle) / args.consoles, 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--consoles", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--port", type=int, default=8919)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(orchestrate(args)), indent=2))


if __name__ == "__main__":
    main()
