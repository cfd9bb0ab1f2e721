"""A server-sent-events client for the in-process app: httpx's ASGI transport waits for a
response to end, which an event stream never does, so this speaks ASGI itself."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message


@dataclass
class Frame:
    """One event (or comment) as a browser's EventSource would parse it."""

    id: str | None = None
    event: str | None = None
    data: str = ""
    comments: list[str] = field(default_factory=list)


@dataclass
class Stream:
    status: int
    headers: dict[str, str]
    _chunks: asyncio.Queue[bytes]
    _buffer: str = ""

    async def next_frame(self, timeout: float = 10.0) -> Frame:
        """Returns the next frame, waiting at most ``timeout`` seconds for it."""
        while "\n\n" not in self._buffer:
            chunk = await asyncio.wait_for(self._chunks.get(), timeout)
            self._buffer += chunk.decode()
        block, self._buffer = self._buffer.split("\n\n", 1)
        frame = Frame()
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                frame.comments.append(value)
            elif name == "data":
                frame.data = f"{frame.data}\n{value}" if frame.data else value
            elif name in ("id", "event"):
                setattr(frame, name, value)
        return frame

    async def next_event(self, timeout: float = 10.0) -> Frame:
        """Returns the next frame that is an event, skipping comments (heartbeats)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            frame = await self.next_frame(max(left, 0.01))
            if frame.event is not None or frame.data:
                return frame

    async def events_until_quiet(self, quiet: float = 1.0) -> list[Frame]:
        """Returns every event that arrives until none has for ``quiet`` seconds."""
        found: list[Frame] = []
        with contextlib.suppress(TimeoutError):
            while True:
                found.append(await self.next_event(quiet))
        return found


@contextlib.asynccontextmanager
async def open_stream(
    app: ASGIApp, path: str, headers: dict[str, str] | None = None
) -> AsyncIterator[Stream]:
    """Opens ``path`` as a browser would and yields the stream; leaving disconnects."""
    target, _, query = path.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": target,
        "raw_path": target.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"hub.test"), (b"accept", b"text/event-stream")]
        + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 50000),
        "server": ("hub.test", 443),
    }
    gone = asyncio.Event()
    started: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
    chunks: asyncio.Queue[bytes] = asyncio.Queue()
    sent_request = False

    async def receive() -> Message:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.set_result(message)
        elif message["type"] == "http.response.body":
            chunks.put_nowait(message.get("body", b""))

    task = asyncio.create_task(app(scope, receive, send))  # type: ignore[arg-type]
    try:
        start = await asyncio.wait_for(started, 10)
        stream = Stream(
            status=start["status"],
            headers={k.decode(): v.decode() for k, v in start.get("headers", [])},
            _chunks=chunks,
        )
        yield stream
    finally:
        gone.set()
        # The app must notice the client left and end by itself, promptly.
        await asyncio.wait_for(task, 5)
