"""The hub served in this test process (embedded mode), so a browser test can also reach
the running hub's own services: inject a call event, read what a page did."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

from core.config import Settings
from core.runtime import Hub
from portal.app import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
T = TypeVar("T")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveHub:
    """A hub serving HTTP on a thread of its own, with its event loop reachable."""

    def __init__(self, data_dir: Path) -> None:
        self.settings = Settings(
            database_url=f"sqlite+aiosqlite:///{data_dir}/hub.db",
            data_dir=data_dir,
            simulator_enabled=True,
        )
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        app = create_app(self.settings)
        self.app = app
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def hub(self) -> Hub:
        hub: Hub = self.app.state.hub
        return hub

    def run(self, work: Callable[[Hub], Awaitable[T]], timeout: float = 30) -> T:
        """Runs ``work(hub)`` on the server's loop and returns its result."""
        assert self.loop is not None
        future = asyncio.run_coroutine_threadsafe(work(self.hub), self.loop)
        return future.result(timeout)

    def _serve(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            await self.server.serve()

        asyncio.run(main())


@contextmanager
def live_hub(data_dir: Path) -> Iterator[LiveHub]:
    """Starts the hub (migrations, demo city, in-process worker) and stops it after."""
    live = LiveHub(data_dir)
    thread = threading.Thread(target=live._serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{live.base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the hub did not start")
        time.sleep(0.2)
    try:
        yield live
    finally:
        live.server.should_exit = True
        thread.join(timeout=30)


def launch(playwright: Any) -> Any:
    """Returns Debian's Chromium, driven by Playwright."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
