"""A person's first minutes: `hub serve` on a fresh machine, then the simulator in a browser.

Runs the real command in a subprocess (embedded mode: SQLite, in-process queue, demo city)
and drives Debian's Chromium with Playwright.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
    reason="Chromium is not installed (CI installs it)",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("fresh-machine")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    hub = Path(sys.executable).with_name("hub")
    log = (workdir / "serve.log").open("w")
    process = subprocess.Popen(  # noqa: S603 (our own CLI)
        [str(hub), "serve", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((workdir / "serve.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_a_text_on_the_simulator_becomes_a_ticket_with_a_reply(served: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    health = httpx.get(f"{served}/healthz").json()
    assert health == {
        "status": "ok",
        "database": "ok",
        "redis": "not configured",
        "mode": "embedded",
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page()
            page.goto(f"{served}/")  # the home page sends a new user to the simulator
            page.get_by_role("link", name="Русский").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Симулятор каналов")

            page.get_by_label("SMS").check()
            page.get_by_label("Ваш номер телефона или номер чата Telegram").fill("+7 900 555-01-01")
            page.get_by_label("Сообщение").fill("Нет воды с утра, Садовая 3")
            page.get_by_role("button", name="Отправить").click()

            reply = page.locator(".msg.out .text").first
            expect(reply).to_contain_text("принято")
            expect(page.locator(".msg.out .status").first).to_have_text(
                "отправлено", timeout=15_000
            )
            page.screenshot(path=str(tmp_path / "simulator.png"), full_page=True)

            page.locator("a.ticket").first.click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("Обращение")
            expect(page.locator(".facts")).to_contain_text("Нет воды")
            expect(page.locator(".events")).to_contain_text("Обращение зарегистрировано")
        finally:
            browser.close()
