"""The console in a real browser: a resident writes in the simulator, the agent sees it
appear without a reload, replies, and the resident sees the reply; scope, merge, split and
the call pop-up. Debian's Chromium driven by Playwright; the hub served in this process."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.live_server import CHROMIUM, LiveHub, launch, live_hub

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
    reason="Chromium is not installed (CI installs it)",
)
SHOTS = Path(__file__).parents[2] / "docs" / "console"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    with live_hub(tmp_path_factory.mktemp("console-hub")) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def log_in(browser: Any, live: LiveHub, username: str, *, width: int = 1280) -> Any:
    """Returns a page of a new browser context logged in to the console as ``username``."""
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(f"{live.base}/console/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"{username}-demo")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/console"))
    return page


def send_sms(browser: Any, live: LiveHub, phone: str, text: str) -> Any:
    """Sends a message as a resident in the simulator; returns the simulator's page."""
    page = browser.new_context().new_page()
    page.goto(f"{live.base}/simulator?lang=en")
    page.get_by_label("SMS").check()
    page.get_by_label("Your phone number or Telegram chat id").fill(phone)
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send").click()
    return page


def live_and_waiting(page: Any) -> None:
    """Waits until the console's event stream is open (rows can then arrive by themselves)."""
    page.wait_for_function("document.body.getAttribute('data-live') === 'open'", timeout=15_000)


def test_an_sms_appears_in_the_agents_inbox_without_a_reload_and_the_reply_reaches_the_resident(
    live: LiveHub, browser: Any
) -> None:
    from playwright.sync_api import expect

    agent = log_in(browser, live, "agent")
    agent.goto(f"{live.base}/console?view=all")
    live_and_waiting(agent)
    agent.evaluate("window.__notReloaded = true")

    resident = send_sms(browser, live, "+7 900 555-77-01", "No hot water in the flat since morning")
    row = agent.locator("#inbox-rows tr", has_text="No hot water in the flat")
    expect(row).to_be_visible(timeout=15_000)
    assert agent.evaluate("window.__notReloaded") is True
    SHOTS.mkdir(parents=True, exist_ok=True)
    agent.screenshot(path=str(SHOTS / "inbox-live-en-desktop.png"), full_page=True)

    row.locator("a.open").click()
    agent.get_by_label(re.compile("^Message")).fill("We have passed it to the housing service.")
    agent.get_by_role("button", name="Send reply").click()
    expect(agent.locator("#thread .msg.out", has_text="passed it to the housing")).to_be_visible(
        timeout=15_000
    )
    agent.screenshot(path=str(SHOTS / "ticket-en-desktop.png"), full_page=True)
    expect(
        resident.locator(".msg.out .text", has_text="passed it to the housing service")
    ).to_be_visible(timeout=20_000)
